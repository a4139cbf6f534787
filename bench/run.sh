#!/bin/bash
# make bench: session-setup throughput and latency of tandem (one frontend,
# one worker, Redis with AOF on: every checkpoint is write-ahead) measured with
# tandem-lac, and the same LAC against xl2tpd as LNS in the same run (the peer;
# it forks pppd per call, which caps its rate). Prints figures and the ratio,
# and Redis round trips per control message. Writes bench/results.txt.
# Loopback only; every step is bounded in time.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
. "$TOP/tests/integration/lib.sh"
TUNNELS=${BENCH_TUNNELS:-200}
SESSIONS=${BENCH_SESSIONS:-250}
CONC=${BENCH_CONCURRENCY:-4000}
ROUNDS=${BENCH_ROUNDS:-3}
OUT=$TOP/bench/results.txt
LNS=$(rand_lo)
PEER=$(rand_lo)

json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# not `{ ...; } | tee`: that would run the body in a subshell whose
# processes the EXIT trap of lib.sh could not see
exec > >(tee "$OUT") 2>&1
echo "tandem bench $(date -u +%FT%TZ) on $(nproc) cores, $(uname -r)"
echo "load: $TUNNELS tunnels x $SESSIONS calls, concurrency $CONC, $ROUNDS rounds"
echo "redis: appendonly yes; appendfsync everysec, then always (checkpoints are in Redis before packets leave)"
declare -A BEST
for mode in ${BENCH_FSYNC:-everysec always}; do
best=0
for r in $(seq "$ROUNDS"); do
	# a fresh cluster per round: empty Redis, new worker and frontend
	start_redis_aof "$mode" || { echo "redis did not start"; exit 1; }
	write_conf "$WORK/t.conf" "$LNS:1701" "log_level info"
	start_worker "w-$mode-$r" "$WORK/t.conf"; WPID=$LAST_PID
	start_frontend "f-$mode-$r" "$WORK/t.conf"; FPID=$LAST_PID
	wait_for 10 cluster_ready || { echo "cluster not ready"; exit 1; }
	timeout 300 "$BIN/tandem-lac" --lns $LNS:1701 --tunnels "$TUNNELS" \
		--sessions "$SESSIONS" --concurrency "$CONC" --no-teardown --json \
		> "$WORK/lac-$mode-$r.json" 2>/dev/null
	n=$(json "$WORK/lac-$mode-$r.json" 'r["sessions_established"]')
	ms=$(json "$WORK/lac-$mode-$r.json" 'r["elapsed_ms"]')
	rate=$((n * 1000 / (ms > 0 ? ms : 1)))
	p50=$(json "$WORK/lac-$mode-$r.json" 'r["setup_latency_ms"]["p50"]')
	p99=$(json "$WORK/lac-$mode-$r.json" 'r["setup_latency_ms"]["p99"]')
	echo "tandem appendfsync=$mode round $r: $n calls established in $ms ms (tunnel setup included) = $rate setups/s; setup latency p50 $p50 ms p99 $p99 ms"
	[ "$rate" -gt "$best" ] && best=$rate
	kill -TERM "$WPID" "$FPID"; wait "$WPID" "$FPID" 2>/dev/null
	kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
done
BEST[$mode]=$best
stats=$(grep 'msg="worker stats"' "$WORK/worker-w-$mode-$ROUNDS.log" | tail -1)
ctl=$(sed -n 's/.* control=\([0-9]*\).*/\1/p' <<<"$stats")
rounds=$(sed -n 's/.* ckpt_rounds=\([0-9]*\).*/\1/p' <<<"$stats")
cmds=$(sed -n 's/.* redis_cmds=\([0-9]*\).*/\1/p' <<<"$stats")
echo "redis (appendfsync=$mode, last round): $ctl control messages, $rounds pipelined checkpoint round trips, $cmds commands" \
	"=> $(/usr/bin/python3 -c "print(round($rounds / max($ctl, 1), 4))") round trips per control message"
done

# The peer: xl2tpd as LNS, same LAC, in the same run.
d=$WORK/peer; mkdir -p "$d"
cat > "$d/lns.conf" <<EOT
[global]
listen-addr = $PEER
port = 1701
[lns default]
ip range = 198.51.100.10-198.51.100.250
local ip = 198.51.100.1
require authentication = no
pppoptfile = $d/ppp.opts
length bit = yes
EOT
printf 'noauth\nnoccp\n' > "$d/ppp.opts"
/usr/sbin/xl2tpd -D -c "$d/lns.conf" -p "$d/pid" -C "$d/ctl" > "$d/xl2tpd.log" 2>&1 &
PIDS+=($!)
sleep 1
PT=${BENCH_PEER_TUNNELS:-10}; PS=${BENCH_PEER_SESSIONS:-20}
timeout 300 "$BIN/tandem-lac" --lns $PEER:1701 --tunnels "$PT" --sessions "$PS" \
	--allow-cdn --json > "$d/lac.json" 2>/dev/null
pn=$(json "$d/lac.json" 'r["sessions_established"]')
pms=$(json "$d/lac.json" 'r["elapsed_ms"]')
prate=$((pn * 1000 / (pms > 0 ? pms : 1)))
echo "peer xl2tpd 1.3.18 ($PT x $PS, it forks pppd per call): $pn calls in $pms ms = $prate setups/s"
for mode in "${!BEST[@]}"; do
	echo "best tandem rate, appendfsync=$mode: ${BEST[$mode]} setups/s; ratio to xl2tpd in this run: $(/usr/bin/python3 -c "print(round(${BEST[$mode]} / max($prate, 1), 1))")"
done
