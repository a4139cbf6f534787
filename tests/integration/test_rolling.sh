#!/bin/bash
# Rolling restart under load: tandem-lac keeps 100 tunnels busy placing and
# clearing calls while every worker and then every frontend is stopped
# (SIGTERM: a worker hands its shards to the other one explicitly, a
# frontend just goes) and started again, one at a time; then a frontend is
# killed with SIGKILL and restarted. Zero tunnels dropped, zero call setups
# failed.
. "$(dirname "$0")/lib.sh"
echo "rolling restart of every worker and frontend under load"
LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish rolling; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701" "shard_policy spread"

declare -A PID
start_w() { start_worker "$1" "$WORK/t.conf"; PID[$1]=$LAST_PID; }
start_f() { start_frontend "$1" "$WORK/t.conf"; PID[$1]=$LAST_PID; }
start_w w1
start_w w2
start_f f1
start_f f2

balanced() { [ "$(owned_by w1)" -eq 128 ] && [ "$(owned_by w2)" -eq 128 ]; }
frontends() { [ "$(rcli hlen tandem:frontends)" -eq 2 ]; }
ready() { balanced && frontends; }

check "cluster ready: 2 frontends, shards spread 128/128" wait_for 15 ready

# 100 tunnels x 10 call slots, each call held 1 s then cleared and placed
# again: a steady stream of ICRQ/ICCN/CDN across every restart.
"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 100 --sessions 10 \
	--hold 1 --churn --hello 1 --duration 55 --json \
	> "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 3

for w in w1 w2; do
	other=$([ "$w" = w1 ] && echo w2 || echo w1)
	t0=$(date +%s%N)
	kill -TERM "${PID[$w]}"
	if wait_for 10 exited "${PID[$w]}"; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		ok "$w drained and exited in ${ms} ms"
	else
		bad "$w did not exit after SIGTERM"
	fi
	check "$w handed every shard to $other (no lease expiry)" \
		grep -q 'msg="drain complete: every shard is owned elsewhere"' "$WORK/worker-$w.log"
	check "$other owns all 256 shards" [ "$(owned_by "$other")" -eq 256 ]
	start_w "$w"
	check "$w back, shards spread again by hand-off" wait_for 10 balanced
	sleep 2
done
for f in f1 f2; do
	kill -TERM "${PID[$f]}"
	check "$f stopped" wait_for 10 exited "${PID[$f]}"
	sleep 1
	start_f "$f"
	check "$f back and registered" wait_for 10 frontends
	sleep 3
done

# a frontend dies without a word (SIGKILL): what was in its socket buffer
# is retransmitted by the peer, the kernel moves the flows to the other one,
# and workers stop sending through it when its alive key expires
kill -9 "${PID[f1]}"
wait "${PID[f1]}" 2>/dev/null
sleep 4
start_f f1
check "f1 back after kill -9 and registered" wait_for 10 frontends

wait "$LAC"
rc=$?
check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
check "report: 100 tunnels up all along, no call setup failed" lac_clean "$WORK/lac.json" 100 5000
finish rolling
