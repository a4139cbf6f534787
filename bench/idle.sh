#!/bin/bash
# make bench, part 3: what an idle cluster costs Redis. For W workers (2 and
# 10 by default) and one frontend, 256 shards, the example configuration
# (deploy/tandem.conf.example, shard_policy spread), a fresh redis-server
# (no AOF) and no tunnel at all: wait until every shard is owned and no
# worker holds more than its share, 3 s more to settle, then over 10 s read
# redis-server's CPU (utime + stime from /proc/<pid>/stat) as % of one core,
# its commands/s (total_commands_processed from INFO stats: commands that
# Lua scripts run through redis.call are counted too, each one, besides the
# EVALSHA itself), and the CPU of the workers and of the frontend. One line
# per W; appends to bench/results.txt. Every wait is bounded.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
. "$TOP/tests/integration/lib.sh"
OUT=$TOP/bench/results.txt
COUNTS=${BENCH_IDLE_WORKERS:-"2 10"}
SETTLE=${BENCH_IDLE_SETTLE:-3}  # seconds after the shards are settled
WINDOW=${BENCH_IDLE_WINDOW:-10} # seconds measured
HZ=$(getconf CLK_TCK)
PY=/usr/bin/python3

ticks() { # ticks PID...: utime + stime of those processes, in clock ticks
	local n=0 s p
	for p in "$@"; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || { echo -1; return; }
		s=${s##*) } # after "pid (comm) ": field 3 (state) is $1
		set -- $s
		n=$((n + ${12} + ${13})) # fields 14 utime, 15 stime
	done
	echo "$n"
}
now_ns() { date +%s%N; }
# stats FILE: INFO stats and INFO commandstats, for the deltas
stats() { rcli info stats | tr -d '\r' > "$1" && rcli info commandstats | tr -d '\r' >> "$1"; }

# shard_spread: "OWNED MIN MAX" from the shard map (what the frontends route
# by), over the workers given in $IDS
shard_spread() {
	rcli hvals tandem:shardmap 2>/dev/null | sed -n 's/.*owner=\([^ ]*\).*/\1/p' |
		awk -v ids="$IDS" 'BEGIN {n = split(ids, w, " "); for (i = 1; i <= n; i++) c[w[i]] = 0}
			$1 in c {c[$1]++; t++}
			END {min = -1; for (k in c) {if (min < 0 || c[k] < min) min = c[k]; if (c[k] > max) max = c[k]}
			     print t + 0, min + 0, max + 0}'
}
# settled W: every shard owned by one of our workers, none above its share
# (spread: ceil(shards / live)), a frontend registered
settled() {
	local share=$(((${SHARDS:-256} + $1 - 1) / $1)) owned min max
	read -r owned min max <<<"$(shard_spread)"
	[ "$owned" -eq "${SHARDS:-256}" ] && [ "$max" -le "$share" ] &&
		[ "$(rcli hlen tandem:frontends)" -ge 1 ]
}

run_idle() { # run_idle W
	local n=$1 lns d i pids=() fe t0 t1 r0 r1 w0 w1 f0 f1 map0 map1 spread
	lns=$(rand_lo)
	d=$WORK/idle-$n
	mkdir -p "$d"
	REDIS_PORT=$(free_port tcp)
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
		--appendonly no --dir "$d" --logfile "$d/redis.log" &
	local redis=$!
	PIDS+=($redis)
	if ! wait_for 5 redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
		echo "idle $n workers: redis-server did not start"
		return
	fi
	write_conf "$d/t.conf" "$lns:1701"
	IDS=""
	for i in $(seq "$n"); do
		"$BIN/tandem-worker" -c "$d/t.conf" --id "w$i" > "$d/worker-w$i.log" 2>&1 &
		pids+=($!)
		PIDS+=($!)
		IDS="$IDS w$i"
	done
	"$BIN/tandem-frontend" -c "$d/t.conf" --id f > "$d/frontend.log" 2>&1 &
	fe=$!
	PIDS+=($fe)
	if ! wait_for 30 settled "$n"; then
		echo "idle $n workers: shards not settled in 30 s (owned, min, max per worker: $(shard_spread))"
	else
		sleep "$SETTLE"
		map0=$(rcli hgetall tandem:shardmap | md5sum)
		stats "$d/s0"
		r0=$(ticks "$redis") w0=$(ticks "${pids[@]}") f0=$(ticks "$fe") t0=$(now_ns)
		sleep "$WINDOW"
		r1=$(ticks "$redis") w1=$(ticks "${pids[@]}") f1=$(ticks "$fe") t1=$(now_ns)
		stats "$d/s1"
		map1=$(rcli hgetall tandem:shardmap | md5sum)
		spread=$(shard_spread)
		if [ "$r0" -lt 0 ] || [ "$r1" -lt 0 ] || [ "$w1" -lt 0 ] || [ "$f1" -lt 0 ]; then
			echo "idle $n workers: a process exited during the measurement"
		else
			"$PY" - "$d/s0" "$d/s1" "$n" "$r0" "$r1" "$w0" "$w1" "$f0" "$f1" \
				"$t0" "$t1" "$HZ" "$spread" "$([ "$map0" = "$map1" ] && echo yes || echo no)" <<'PY'
import re, sys
s0, s1, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r0, r1, w0, w1, f0, f1, t0, t1, hz = map(int, sys.argv[4:13])
owned, lo, hi = sys.argv[13].split()
stable = sys.argv[14]
def read(path):
    total, cmds = 0, {}
    for line in open(path):
        if line.startswith("total_commands_processed:"):
            total = int(line.split(":")[1])
        m = re.match(r"cmdstat_(\S+):calls=(\d+),usec=(\d+)", line)
        if m:
            cmds[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return total, cmds
a, ca = read(s0)
b, cb = read(s1)
secs = (t1 - t0) / 1e9
pct = lambda d: 100.0 * d / hz / secs
rate = (b - a) / secs
delta = {k: (v[0] - ca.get(k, (0, 0))[0], v[1] - ca.get(k, (0, 0))[1]) for k, v in cb.items()}
scripts = sum(delta.get(k, (0, 0))[0] for k in ("eval", "evalsha", "fcall"))
top = sorted(((c, k) for k, (c, u) in delta.items() if c > 0 and k != "info"), reverse=True)[:4]
busiest = ", ".join("%s %.0f/s" % (k, c / secs) for c, k in top) or "none"
print("idle %d workers + 1 frontend, 256 shards, no tunnels (%.1f s): redis-server %.1f%% of a core, "
      "%.0f commands/s (commands run inside Lua scripts included; %.0f script calls/s); "
      "workers %.1f%% of a core in total, frontend %.1f%%; shards %s owned, %s-%s per worker, "
      "shard map unchanged: %s; busiest: %s"
      % (n, secs, pct(r1 - r0), rate, scripts / secs, pct(w1 - w0), pct(f1 - f0),
         owned, lo, hi, stable, busiest))
PY
		fi
	fi
	# SIGTERM drains; with every peer draining too each one releases its
	# shards and exits. Bounded, then SIGKILL.
	kill -TERM "${pids[@]}" "$fe" 2>/dev/null
	gone() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
	wait_for 15 gone "${pids[@]}" "$fe" || kill -9 "${pids[@]}" "$fe" 2>/dev/null
	wait "${pids[@]}" "$fe" 2>/dev/null
	kill "$redis" 2>/dev/null
	wait_for 5 gone "$redis" || kill -9 "$redis" 2>/dev/null
	wait "$redis" 2>/dev/null
}

# not `{ ...; } | tee`: that would run the body in a subshell whose
# processes the EXIT trap of lib.sh could not see
exec > >(tee -a "$OUT") 2>&1
echo "idle cluster $(date -u +%FT%TZ) on $(nproc) cores, $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/redis-server \1/p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for w in $COUNTS; do
	run_idle "$w"
done
