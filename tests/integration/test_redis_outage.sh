#!/bin/bash
# Redis goes away under established tunnels: the worker keeps serving them
# from memory (HELLOs answered, nothing torn down), refuses new tunnels
# cleanly (StopCCN result 2, error 4), marks itself unprotected; when Redis
# comes back (empty: a fresh server) it writes a full snapshot and resumes.
# Both a dead Redis (SIGKILL) and a hung one (SIGSTOP) are covered.
. "$(dirname "$0")/lib.sh"
echo "Redis outage under load"
LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish redis-outage; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701" "redis_timeout 300ms"
start_worker w1 "$WORK/t.conf"
WPID=$LAST_PID
start_frontend f1 "$WORK/t.conf"
check "cluster ready" wait_for 10 cluster_ready

tunnels_in_redis() { [ "$(rcli --scan --pattern "tandem:t:*" | wc -l)" -ge "$1" ]; }

# outage_case KIND: KIND=kill (dead) or stop (hung)
outage_case() {
	local kind=$1
	# 5 tunnels x 5 calls, HELLO every second, held for 14 s
	"$BIN/tandem-lac" --lns $LNS:1701 --tunnels 5 --sessions 5 --hello 1 \
		--duration 14 --json > "$WORK/lac-$kind.json" 2> "$WORK/lac-$kind.err" &
	local lac=$!
	PIDS+=($lac)
	check "$kind: tunnels checkpointed before the outage" wait_for 10 tunnels_in_redis 5
	if [ "$kind" = kill ]; then
		kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
	else
		kill -STOP "$REDIS_PID"
	fi
	check "$kind: worker notices and goes unprotected" \
		wait_for 5 grep -q 'shards unprotected' "$WORK/worker-w1.log"
	sleep 3 # HELLOs keep flowing meanwhile
	# a new tunnel is refused without state: StopCCN 2/4
	timeout 20 "$BIN/tandem-lac" --lns $LNS:1701 --tunnels 1 --sessions 1 \
		--retries 2 --json > "$WORK/new-$kind.json" 2>/dev/null
	check "$kind: new tunnel refused with StopCCN result 2" \
		/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("tunnel_failures_stopccn", [])
sys.exit(0 if r["tunnels_established"] == 0 and any(c.get("result") == 2 for c in codes) else 1)' "$WORK/new-$kind.json"
	check "$kind: ... error 4 (no resources), logged by the worker" \
		grep -q 'new tunnel refused.*why="state store unreachable"' "$WORK/worker-w1.log"
	if [ "$kind" = kill ]; then
		redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
			--dir "$WORK" --logfile "$WORK/redis2.log" &
		REDIS_PID=$!
		PIDS+=($REDIS_PID)
	else
		# the hung server's data is kept: wipe it so only a snapshot can refill it
		kill -CONT "$REDIS_PID"
		wait_for 5 redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1
		rcli flushall >/dev/null
	fi
	check "$kind: full snapshot written when Redis is back" wait_for 10 tunnels_in_redis 5
	check "$kind: sessions restored too" \
		bash -c "for k in \$(redis-cli -p $REDIS_PORT --scan --pattern 'tandem:s:*'); do redis-cli -p $REDIS_PORT hlen \$k; done | awk '{s+=\$1} END {exit !(s >= 25)}'"
	wait "$lac"
	local rc=$?
	check "$kind: the LAC saw no tunnel or call torn down (exit 0)" [ "$rc" -eq 0 ]
	check "$kind: HELLOs were answered throughout" /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["tunnels_torn_down_by_lns"] == 0 and r["tunnels_lost"] == 0 and r["messages"]["hello_sent"] >= 25 and r["messages"]["retransmitted"] <= 5 else 1)' "$WORK/lac-$kind.json"
	wait_for 10 cluster_ready
}
outage_case kill
outage_case stop
check "worker still running" kill -0 "$WPID"
finish redis-outage
