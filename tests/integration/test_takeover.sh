#!/bin/bash
# Takeover under load: tandem-lac holds 200 tunnels x 20 calls (and keeps
# clearing and placing calls on them) through 2 frontends and 2 workers
# sharing the shards (policy spread). Five times in a row the worker owning
# the most shards is killed with SIGKILL; the other takes its shards over once
# the leases expire, and the dead one is restarted (it gets half the shards
# back by hand-off). The LAC must see no tunnel or call torn down, no peer
# give-up and no failed call setup.
. "$(dirname "$0")/lib.sh"
echo "takeover: kill -9 the busiest worker, 5 times, under load"
LNS=$(rand_lo)
ROUNDS=${ROUNDS:-5}
start_redis || { bad "redis-server did not start"; finish takeover; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701" "shard_policy spread"

declare -A WPID
start_w() { start_worker "$1" "$WORK/t.conf"; WPID[$1]=$LAST_PID; }
start_w w1
start_w w2
start_frontend f1 "$WORK/t.conf"
start_frontend f2 "$WORK/t.conf"

balanced() { [ "$(owned_by w1)" -eq 128 ] && [ "$(owned_by w2)" -eq 128 ]; }
ready() { balanced && [ "$(rcli hlen tandem:frontends)" -eq 2 ]; }

check "cluster ready: 2 frontends, shards spread 128/128" wait_for 15 ready

# 200 x 20 calls, each cleared after 4 s and placed again (new calls on
# the old tunnels all along), HELLO every second on idle tunnels.
DURATION=$((12 + ROUNDS * 7))
"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 200 --sessions 20 \
	--hold 4 --churn --hello 1 --duration "$DURATION" --json \
	> "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 5 # every call up (setup takes well under a second)

for round in $(seq "$ROUNDS"); do
	# the busiest worker; on a tie (balanced), not the one killed last
	a=$(owned_by w1); b=$(owned_by w2)
	if [ "$a" -gt "$b" ] || { [ "$a" -eq "$b" ] && [ "${victim:-w2}" = w2 ]; }; then
		victim=w1 survivor=w2
	else
		victim=w2 survivor=w1
	fi
	t0=$(date +%s%N)
	kill -9 "${WPID[$victim]}"
	wait "${WPID[$victim]}" 2>/dev/null
	if wait_for 5 all_owned_by "$survivor"; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		ok "round $round: $survivor owns all 256 shards ${ms} ms after kill -9 of $victim"
	else
		bad "round $round: $survivor did not take $victim's shards over"
	fi
	sleep 1
	start_w "$victim" # back as a standby, then gets its share by hand-off
	check "round $round: $victim restarted and rebalanced by hand-off" \
		wait_for 10 balanced
	sleep 1
done

wait "$LAC"
rc=$?
check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
check "report: 200 tunnels up, none torn down or lost, no call failed" lac_clean "$WORK/lac.json" 200 8000
check "the survivors loaded the victims' shards" \
	grep -q 'msg="shard loaded"' "$WORK/worker-w1.log" "$WORK/worker-w2.log"
finish takeover
