#!/bin/bash
# make bench, part 2: takeover time after kill -9, seen from the peer.
# Two workers (active-standby: the active one owns every shard), one
# frontend, Redis with AOF. tandem-lac holds T tunnels x S calls; the active
# worker is killed with SIGKILL and, at the same moment, the LAC sends a
# HELLO on every tunnel (--probe, SIGUSR1) and times each until acknowledged,
# retransmitting every 50-100 ms. Takeover time = kill -> the last tunnel
# answered (the probe round's max). Also the standby's event-loop lag over
# the takeover, from its /metrics. Appends to bench/results.txt.
# 65535 x 1 is every tunnel ID there is: the LAC then shares each UDP socket
# between a few tunnels when the descriptor limit or the ephemeral port range
# cannot give each its own (tandem-lac --tunnels-per-socket).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
. "$TOP/tests/integration/lib.sh"
OUT=$TOP/bench/results.txt
# TxS: both workers on this host (the standby sees the exit at once);
# TxS@apart: the standby on a host of its own (it waits for the lease)
CASES=${BENCH_TAKEOVER_CASES:-"10000x5 10000x5@apart 65535x1 65535x1@apart"}
# one descriptor per LAC socket: as many as we may (the LAC shares sockets
# between tunnels beyond that)
ulimit -n 70000 2>/dev/null || ulimit -Sn hard 2>/dev/null

json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
sessions_in_redis() { # total session records >= $1; one script, O(keys):
	# it holds Redis for about 70 ms at 65,535 tunnels, so it runs once,
	# after established() below
	[ "$(rcli eval "local n = 0
for _, k in ipairs(redis.call('KEYS', 'tandem:s:*')) do n = n + redis.call('HLEN', k) end
return n" 0)" -ge "$1" ] 2>/dev/null
}
# established PORT N: the worker at metrics PORT holds >= N established
# sessions (cheap for Redis: the worker checkpoints before acknowledging)
established() {
	scrape "$1" "$WORK/established.txt" &&
		[ "$(awk '/^tandem_worker_sessions\{/ && /state="ESTABLISHED"/ {n += $2} END {print n + 0}' "$WORK/established.txt")" -ge "$2" ]
}
# every SECONDS CMD...: like wait_for, polling once a second
every() {
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 1; done
	return 1
}
scrape() { # scrape PORT FILE: GET /metrics, bounded
	/usr/bin/python3 -c "import sys, urllib.request as u
open(sys.argv[2], 'wb').write(u.urlopen('http://127.0.0.1:%s/metrics' % sys.argv[1], timeout=3).read())" "$1" "$2" 2>/dev/null
}
# lag BEFORE AFTER: the standby's loop lag, and what it parked, from two
# scrapes of its /metrics (just before the kill, after the probe round)
lag() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$')
def read(path):
    out = {}
    try:
        text = open(path).read()
    except OSError:
        return out
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out
a, b = read(sys.argv[1]), read(sys.argv[2])
def get(d, name, **lab):
    return d.get((name, tuple(sorted(lab.items()))))
g0, g1 = get(a, "tandem_worker_loop_lag_max_seconds"), get(b, "tandem_worker_loop_lag_max_seconds")
if not b:
    print("  loop lag: unknown, the standby's /metrics did not answer")
elif g1 is None:
    print("  loop lag: not exported")
else:
    out = "  standby loop lag: worst %.3f s since start (%s before the kill)" % (
        g1, "%.3f s" % g0 if g0 is not None else "unknown")
    c0, c1 = get(a, "tandem_worker_loop_lag_seconds_count"), get(b, "tandem_worker_loop_lag_seconds_count")
    if c0 is not None and c1 is not None:
        n = c1 - c0
        buckets = sorted((float(dict(k[1])["le"]), v) for k, v in b.items()
                         if k[0] == "tandem_worker_loop_lag_seconds_bucket")
        before = {float(dict(k[1])["le"]): v for k, v in a.items()
                  if k[0] == "tandem_worker_loop_lag_seconds_bucket"}
        # the smallest bucket holding every tick between the scrapes
        le = next((l for l, v in buckets if v - before.get(l, 0) >= n), float("inf"))
        out += "; %d ticks from just before the kill to the scrape after it, all <= %s s" % (
            n, "+Inf" if le == float("inf") else "%g" % le)
    print(out)
p0, p1 = get(a, "tandem_worker_parked_total"), get(b, "tandem_worker_parked_total")
if p0 is not None and p1 is not None:
    d = lambda r: (get(b, "tandem_worker_packets_dropped_total", reason=r) or 0) - (
        get(a, "tandem_worker_packets_dropped_total", reason=r) or 0)
    print("  standby during the takeover: %d datagrams parked for loading shards, %d dropped"
          " from the park (full, or held too long), %d retransmissions not parked (a copy"
          " waited already), %d dropped for unknown tunnels"
          % (p1 - p0, d("park_expired"), d("park_duplicate"), d("unknown_tunnel")))
PY
}

run_case() { # run_case TUNNELS SESSIONS [apart]
	local t=$1 s=$2 apart=${3:-} lns d mport aport bound wrap=()
	lns=$(rand_lo)
	mport=$(free_port tcp)
	aport=$(free_port tcp)
	while [ "$aport" = "$mport" ]; do aport=$(free_port tcp); done
	# setups run at thousands a second; the bound leaves room for a slow
	# machine (60 s + 1 s per 1,000 tunnels and calls)
	bound=$((60 + (t + t * s) / 1000))
	d=$WORK/case-${t}x$s${apart:+-apart}
	# apart: the standby runs on a "host" of its own (a UTS namespace):
	# it cannot watch the active worker's process and waits for its lease,
	# as across machines
	[ -n "$apart" ] && wrap=(own_host bench-standby)
	mkdir -p "$d"
	start_redis_aof everysec "$d"
	local redis=$REDIS_PID
	write_conf "$d/t.conf" "$lns:1701" "shard_policy active-standby"
	"$BIN/tandem-worker" -c "$d/t.conf" --id a --metrics "127.0.0.1:$aport" \
		> "$d/worker-a.log" 2>&1 &
	local wa=$!
	PIDS+=($wa)
	if ! wait_for 10 all_owned_by a; then
		echo "case ${t}x$s: worker a not active"
		kill "$wa" "$redis"; wait "$wa" "$redis" 2>/dev/null
		return
	fi
	"${wrap[@]}" "$BIN/tandem-worker" -c "$d/t.conf" --id b --metrics "127.0.0.1:$mport" \
		> "$d/worker-b.log" 2>&1 &
	local wb=$!
	PIDS+=($wb)
	"$BIN/tandem-frontend" -c "$d/t.conf" --id f > "$d/frontend.log" 2>&1 &
	local fe=$!
	PIDS+=($fe)
	wait_for 10 bash -c "[ \$(redis-cli -p $REDIS_PORT hlen tandem:frontends) -ge 1 ]"
	sleep 0.5
	"$BIN/tandem-lac" --lns "$lns:1701" --tunnels "$t" --sessions "$s" \
		--concurrency 2000 --hello 0 --probe --retransmit 0.05 \
		--retransmit-max 0.1 --retries 100 --setup-timeout 60 \
		--duration $((bound + 60)) --no-teardown --json \
		--report-file "$d/lac.json" 2> "$d/lac.err" &
	local lac=$!
	PIDS+=($lac)
	local t0=$SECONDS
	if ! every "$bound" established "$aport" $((t * s)) ||
		! every 10 sessions_in_redis $((t * s)); then
		echo "case ${t}x$s: not every call came up in $bound s (worker a holds $(awk '/^tandem_worker_sessions\{/ && /state="ESTABLISHED"/ {n += $2} END {print n + 0}' "$WORK/established.txt") established; $(grep -c 'cannot open tunnel socket' "$d/lac.err") socket errors in the LAC's log)"
		kill "$lac" "$wa" "$wb" "$fe" "$redis" 2>/dev/null
		wait "$lac" "$wa" "$wb" "$fe" "$redis" 2>/dev/null
		return
	fi
	local up=$((SECONDS - t0))
	sleep 2 # let the last acknowledgements settle
	scrape "$mport" "$d/metrics-b0.txt" || : > "$d/metrics-b0.txt"
	kill -9 "$wa"
	kill -USR1 "$lac"
	wait "$wa" 2>/dev/null # reaped here, without bash's "Killed" line
	wait_for 20 all_owned_by b
	sleep 8 # the probe round is answered by then (or counted unanswered)
	scrape "$mport" "$d/metrics-b1.txt" || : > "$d/metrics-b1.txt"
	kill -INT "$lac" 2>/dev/null
	wait_for 30 exited "$lac" || kill -9 "$lac" 2>/dev/null
	wait "$lac" 2>/dev/null
	local loaded
	loaded=$(grep -o 'msg="shard loaded".*' "$d/worker-b.log" | sed -n 's/.*tunnels=\([0-9]*\).*ms=\([0-9]*\).*/\1 \2/p' |
		awk '{n += $1; if ($2 > m) m = $2} END {print n " tunnels, slowest shard " m " ms"}')
	echo "takeover ${t} tunnels x ${s} calls${apart:+, hosts apart}: probe $(json "$d/lac.json" '"%d/%d tunnels answered, p50 %s ms, p99 %s ms, max %s ms after kill -9" % (r["probes"][0]["answered"], r["probes"][0]["tunnels"], r["probes"][0]["p50_ms"], r["probes"][0]["p99_ms"], r["probes"][0]["max_ms"])'); standby loaded $loaded"
	lag "$d/metrics-b0.txt" "$d/metrics-b1.txt"
	echo "  (all calls were in Redis ${up} s after the LAC started$(sed -n 's/.*msg="tunnels share sockets".* sockets=\([0-9]*\) per_socket=\([0-9]*\).*/; the LAC shared its sockets: \1 sockets, \2 tunnels each/p' "$d/lac.err" | head -1); $(if grep -q 'msg="peer worker on this host exited' "$d/worker-b.log"; then
		echo "the standby saw the active worker's exit at once (same host) and did not wait for its lease"
	else
		echo "the lease TTL is $(sed -n 's/^lease_ttl //p' "$d/t.conf"): about that much of the takeover is waiting for the dead owner's lease to expire"
	fi))"
	stop_cluster "$wb" "$fe" "$redis"
}

# not `{ ...; } | tee`: that would run the body in a subshell whose
# processes the EXIT trap of lib.sh could not see
exec > >(tee -a "$OUT") 2>&1
echo "takeover after kill -9 $(date -u +%FT%TZ) on $(nproc) cores"
for c in $CASES; do
	m=
	case $c in *@apart) m=apart c=${c%@apart} ;; esac
	run_case "${c%x*}" "${c#*x}" $m
done
