#!/bin/bash
# A peer worker's exit, seen at once on the same host (workers/
# worker_peerwatch.c): two workers (policy spread) with a lease TTL of 8 s,
# so that a takeover within 4 s of a kill can only come from the exit being
# seen, not from a lease running out. tandem-lac holds 20 tunnels x 5 calls.
#   1. w1 frozen (SIGSTOP) for 2 s: a live but stalled worker is no exit;
#      w2 takes nothing and w1 keeps its shards when it runs again.
#   2. kill -9 w1: w2 owns every shard within 4 s, counts one peer exit.
#   3. w1 restarted (a new pid under the same ID): it gets its share back,
#      and kill -9 of w2 is seen by w1 the same way.
#   4. w2 restarted, then stopped cleanly (SIGTERM): it deregisters first,
#      so w1 counts no exit for it (and w2 exits 0).
# The LAC must see no tunnel or call torn down and no failed setup.
. "$(dirname "$0")/lib.sh"
echo "peerwatch: a peer's exit on this host is seen at once"
for f in tandem-worker tandem-frontend tandem-lac; do
	[ -x "$BIN/$f" ] || { bad "missing $BIN/$f"; finish peerwatch; exit 1; }
done
LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish peerwatch; exit 1; }
declare -A MPORT WPID
for id in w1 w2; do
	MPORT[$id]=$(free_port tcp)
	write_conf "$WORK/$id.conf" "$LNS:1701" "shard_policy spread" \
		"lease_ttl 8s" "lease_renew 400ms" "metrics_listen 127.0.0.1:${MPORT[$id]}"
done
write_conf "$WORK/f.conf" "$LNS:1701"
start_w() { start_worker "$1" "$WORK/$1.conf"; WPID[$1]=$LAST_PID; }
# peer_exits ID: tandem_worker_peer_exits_total of worker ID (-1: none)
peer_exits() { metric_value "${MPORT[$1]}" tandem_worker_peer_exits_total; }
balanced() { [ "$(owned_by w1)" -eq 128 ] && [ "$(owned_by w2)" -eq 128 ]; }
ms_since() { awk -v a="${EPOCHREALTIME/,/.}" -v b="$1" 'BEGIN {printf "%d", (a - b) * 1000}'; }

start_w w1
start_w w2
start_frontend f1 "$WORK/f.conf"
check "cluster ready: shards spread 128/128, the frontend registered" \
	wait_for 20 eval 'balanced && [ "$(rcli hlen tandem:frontends)" -eq 1 ]'


"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 20 --sessions 5 --hello 1 \
	--duration 120 --json > "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 3 # every call up

# 1. frozen is not dead
kill -STOP "${WPID[w1]}"
sleep 2
check "w1 frozen 2 s: w2 took none of its shards" [ "$(owned_by w2)" -eq 128 ]
kill -CONT "${WPID[w1]}"
check "w1 running again: it still owns its 128 shards" wait_for 5 balanced
check "no peer exit counted for a frozen peer" [ "$(peer_exits w2)" -eq 0 ]

# kill_seen VICTIM SURVIVOR: kill -9 VICTIM; SURVIVOR owns every shard
# within 4 s (half the lease TTL) and has counted one peer exit
kill_seen() {
	local t0=${EPOCHREALTIME/,/.}
	kill -9 "${WPID[$1]}"
	wait "${WPID[$1]}" 2>/dev/null
	if wait_for 4 all_owned_by "$2"; then
		ok "$2 owns all 256 shards $(ms_since "$t0") ms after kill -9 of $1 (lease_ttl 8 s)"
	else
		bad "$2 did not own every shard within 4 s of kill -9 of $1"
		owner_report "$2"
	fi
	check "$2 counted one peer exit" [ "$(peer_exits "$2")" -eq 1 ]
}

# 2. kill -9 w1: seen at once
kill_seen w1 w2
check "w2 logged the exit" grep -q 'msg="peer worker on this host exited.*peer=w1' "$WORK/worker-w2.log"

# 3. the restarted w1 is watched under its new pid
start_w w1
check "w1 restarted: shards spread 128/128 again" wait_for 30 balanced
sleep 1
kill_seen w2 w1

# 4. a clean stop is no death
start_w w2
check "w2 restarted: shards spread 128/128 again" wait_for 30 balanced
sleep 1
kill -TERM "${WPID[w2]}"
wait_for 15 exited "${WPID[w2]}" || bad "w2 did not stop within 15 s of SIGTERM"
wait "${WPID[w2]}"
check "w2 stopped cleanly (exit 0)" [ $? -eq 0 ]
check "w1 owns all 256 shards after w2's drain" wait_for 10 all_owned_by w1
check "w1 counted no exit for a worker that deregistered" [ "$(peer_exits w1)" -eq 1 ]

kill -TERM "$LAC" 2>/dev/null
wait_for 30 exited "$LAC" || { bad "the LAC did not exit within 30 s of SIGTERM"; kill -9 "$LAC"; }
wait "$LAC"
check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ $? -eq 0 ]
check "report: 20 tunnels up, none torn down or lost, no call failed" lac_clean "$WORK/lac.json" 20 100
finish peerwatch
