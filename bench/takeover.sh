#!/bin/bash
# make bench, part 2: takeover time after kill -9, seen from the peer.
# Two workers (active-standby: the active one owns every shard), one
# frontend, Redis with AOF. tandem-lac holds T tunnels x S calls; the active
# worker is killed with SIGKILL and, at the same moment, the LAC sends a
# HELLO on every tunnel (--probe, SIGUSR1) and times each until acknowledged,
# retransmitting every 50-100 ms. Takeover time = kill -> the last tunnel
# answered (the probe round's max). Appends to bench/results.txt.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
. "$TOP/tests/integration/lib.sh"
OUT=$TOP/bench/results.txt
CASES=${BENCH_TAKEOVER_CASES:-"1000x10 10000x5"}
ulimit -n 65536 2>/dev/null || ulimit -n 16384

json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
sessions_in_redis() { # total session records >= $1
	[ "$(rcli eval "local n = 0
for _, k in ipairs(redis.call('KEYS', 'tandem:s:*')) do n = n + redis.call('HLEN', k) end
return n" 0)" -ge "$1" ]
}

run_case() { # run_case TUNNELS SESSIONS
	local t=$1 s=$2 lns d
	lns=$(rand_lo)
	d=$WORK/case-${t}x$s
	mkdir -p "$d"
	REDIS_PORT=$(free_port tcp)
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
		--appendonly yes --appendfsync everysec --dir "$d" \
		--logfile "$d/redis.log" &
	local redis=$!
	PIDS+=($redis)
	wait_for 5 redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1
	write_conf "$d/t.conf" "$lns:1701" "shard_policy active-standby"
	"$BIN/tandem-worker" -c "$d/t.conf" --id a > "$d/worker-a.log" 2>&1 &
	local wa=$!
	PIDS+=($wa)
	wait_for 10 all_owned_by a || { echo "case ${t}x$s: worker a not active"; return; }
	"$BIN/tandem-worker" -c "$d/t.conf" --id b > "$d/worker-b.log" 2>&1 &
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
		--duration 180 --no-teardown --json --report-file "$d/lac.json" 2> "$d/lac.err" &
	local lac=$!
	PIDS+=($lac)
	if ! wait_for 90 sessions_in_redis $((t * s)); then
		echo "case ${t}x$s: not every call came up in 90 s"
		kill "$lac"; return
	fi
	sleep 2 # let the last acknowledgements settle
	kill -9 "$wa"
	kill -USR1 "$lac"
	wait_for 20 all_owned_by b
	sleep 8 # the probe round is answered by then (or counted unanswered)
	kill -INT "$lac" 2>/dev/null
	wait "$lac" 2>/dev/null
	local loaded
	loaded=$(grep -o 'msg="shard loaded".*' "$d/worker-b.log" | sed -n 's/.*tunnels=\([0-9]*\).*ms=\([0-9]*\).*/\1 \2/p' |
		awk '{n += $1; if ($2 > m) m = $2} END {print n " tunnels, slowest shard " m " ms"}')
	echo "takeover ${t} tunnels x ${s} calls: probe $(json "$d/lac.json" '"%d/%d tunnels answered, p50 %s ms, p99 %s ms, max %s ms after kill -9" % (r["probes"][0]["answered"], r["probes"][0]["tunnels"], r["probes"][0]["p50_ms"], r["probes"][0]["p99_ms"], r["probes"][0]["max_ms"])'); standby loaded $loaded"
	echo "  (the lease TTL is $(sed -n 's/^lease_ttl //p' "$d/t.conf"), so about that much of it is waiting for the dead owner's lease to expire)"
	kill "$wb" "$fe" "$redis" 2>/dev/null
	wait "$wb" "$fe" "$redis" 2>/dev/null
}

# not `{ ...; } | tee`: that would run the body in a subshell whose
# processes the EXIT trap of lib.sh could not see
exec > >(tee -a "$OUT") 2>&1
echo "takeover after kill -9 $(date -u +%FT%TZ) on $(nproc) cores"
for c in $CASES; do
	run_case "${c%x*}" "${c#*x}"
done
