#!/bin/bash
# Sequence repair: the checkpoint a standby takes over is older than what
# the peer saw (as when Redis loses its last writes in its own failover).
# The test saves the tunnel records, lets HELLOs flow both ways for a few
# seconds, kills the owner with SIGKILL and puts the old records back before
# the standby loads them. The new owner must repair Ns/Nr from what the LAC
# sends (its Nr says which Ns it expects, its retransmission shows the gap
# will never come) instead of deadlocking: the LAC loses nothing.
. "$(dirname "$0")/lib.sh"
echo "sequence repair after a takeover from a stale checkpoint"
# Workers on "hosts" of their own (tests/integration/lib.sh): the standby
# must wait for the lease, which gives the test its window to put the old
# records back (on one host it would see the kill and load at once).
HOSTS_APART=1
LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish seqrepair; exit 1; }
# HELLO every second from both sides: both Ns move while the record ages
write_conf "$WORK/t.conf" "$LNS:1701" "shard_policy active-standby" \
	"hello_interval 1s"
start_worker w1 "$WORK/t.conf"
W1=$LAST_PID
check "w1 active" wait_for 10 all_owned_by w1
start_worker w2 "$WORK/t.conf"
start_frontend f1 "$WORK/t.conf"
check "frontend registered" wait_for 10 bash -c "[ \$(redis-cli -p $REDIS_PORT hlen tandem:frontends) -ge 1 ]"

"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 3 --sessions 2 --hello 1 --retransmit 0.5 --retries 3 \
	--duration 18 --json > "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 2

# keep the records as they are now (DUMP: exact bytes)
/usr/bin/python3 - "$REDIS_PORT" "$WORK/stale.bin" <<'PY'
import pickle, redis, sys
r = redis.Redis(port=int(sys.argv[1]))
keys = [k for p in ("tandem:t:*", "tandem:s:*") for k in r.scan_iter(p)]
pickle.dump({k: r.dump(k) for k in keys}, open(sys.argv[2], "wb"))
print("    saved %d records" % len(keys))
PY
sleep 4 # a few HELLO exchanges each way: the saved records fall behind

kill -9 "$W1"
# Redis "loses" the writes since: put the old records back at once, well
# inside the 600 ms before the standby may take the shards
/usr/bin/python3 - "$REDIS_PORT" "$WORK/stale.bin" <<'PY'
import pickle, redis, sys
r = redis.Redis(port=int(sys.argv[1]))
for k, v in pickle.load(open(sys.argv[2], "rb")).items():
    r.restore(k, 0, v, replace=True)
PY
check "w2 takes over" wait_for 5 all_owned_by w2
check "w2 repaired the sequence numbers" \
	wait_for 8 grep -q 'msg="sequence repaired after takeover"' "$WORK/worker-w2.log"
grep 'sequence repaired' "$WORK/worker-w2.log" | head -3 | sed 's/^/    /'

wait "$LAC"
rc=$?
check "the LAC exits 0: no tunnel or call lost" [ "$rc" -eq 0 ]
check "report: no tunnel given up or torn down" lac_clean "$WORK/lac.json" 3 6
finish seqrepair
