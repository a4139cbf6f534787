#!/bin/bash
# Rolling restart under load: tandem-lac keeps 100 tunnels busy placing and
# clearing calls while every worker and then every frontend is stopped
# (SIGTERM: a worker hands its shards to the other one explicitly, a
# frontend just goes) and started again, one at a time. Zero tunnels
# dropped, zero call setups failed.
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

owned_by() {
	rcli eval "local n = 0
for i = 0, 255 do
  local v = redis.call('GET', 'tandem:lease:' .. i)
  if v and string.find(v, 'owner=' .. ARGV[1] .. ' ', 1, true) then n = n + 1 end
end
return n" 0 "$1"
}
balanced() { [ "$(owned_by w1)" -eq 128 ] && [ "$(owned_by w2)" -eq 128 ]; }
frontends() { [ "$(rcli hlen tandem:frontends)" -eq 2 ]; }
ready() { balanced && frontends; }
exited() { ! kill -0 "$1" 2>/dev/null; }

check "cluster ready: 2 frontends, shards spread 128/128" wait_for 15 ready

# 100 tunnels x 10 call slots, each call held 1 s then cleared and placed
# again: a steady stream of ICRQ/ICCN/CDN across every restart.
"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 100 --sessions 10 \
	--hold 1 --churn --hello 1 --duration 45 --json \
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

wait "$LAC"
rc=$?
check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
check "report: 100 tunnels up all along, no call setup failed" /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("    sessions_established %d, sessions_failed %d, retransmitted %d" % (
    r["sessions_established"], r["sessions_failed"],
    r["messages"]["retransmitted"]))
ok = (r["tunnels_established"] == 100 and r["tunnels_torn_down_by_lns"] == 0
      and r["tunnels_lost"] == 0 and r["sessions_failed"] == 0
      and r["sessions_established"] > 1000 * 5)
sys.exit(0 if ok else 1)' "$WORK/lac.json"
finish rolling
