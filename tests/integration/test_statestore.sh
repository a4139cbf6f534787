#!/bin/bash
# statestore.c against a real redis-server: leases, epochs, fencing, and the
# records the checkpoint script leaves behind (checked with redis-cli).
. "$(dirname "$0")/lib.sh"
echo "statestore against redis-server"
TT=${TTOOLS:-$TOP/build/tests/tools}
start_redis || { bad "redis-server did not start"; finish statestore; exit 1; }
# records after step "A's checkpoint": tunnel 777 and session 9 exist
"$TT/statestore_check" "$REDIS_PORT" > "$WORK/out.txt" 2>&1
rc=$?
sed 's/^/    /' "$WORK/out.txt"
check "every scripted step passed" [ "$rc" -eq 0 ]
check "the fenced write left no trace (tunnel record is B's 3 bytes, then deleted)" \
	[ "$(rcli exists chk:t:777)" = 0 ]
check "the shard's tunnel set lost tunnel 777 with the delete" [ "$(rcli sismember chk:shard:3:tunnels 777)" = 0 ]
check "a Session ID ended and reused in one checkpoint: the new call's record stays" \
	[ "$(rcli hstrlen chk:s:778 5)" = 5 ]
check "the epoch counter only grows" [ "$(rcli get chk:epoch:3)" = 3 ]
check "the shard map names the current owner" \
	bash -c "redis-cli -p $REDIS_PORT hget chk:shardmap 3 | grep -q 'owner=wa epoch=3'"
finish statestore
