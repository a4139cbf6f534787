#!/bin/bash
# Rolling upgrade between two builds, side by side. The "old" build is an
# earlier commit of this repository (UPGRADE_FROM, default the first commit
# with hand-off and drain whose records and wire format this build still
# speaks), built from `git archive` into a temp dir; the "new" build is this
# tree. Under load from tandem-lac (calls placed and cleared all along):
#   old worker + old frontend serve; a new worker joins and gets half the
#   shards handed over by the old one (new loads what old wrote); the old
#   worker drains (SIGTERM) to the new one; a new frontend replaces the old
#   one; a second new worker joins. Zero tunnels dropped, zero failed setups.
. "$(dirname "$0")/lib.sh"
echo "rolling upgrade: old build -> new build under load"
OLD_REV=${UPGRADE_FROM:-77bddcb}
if ! git -C "$TOP" cat-file -e "$OLD_REV^{commit}" 2>/dev/null &&
	[ "$(git -C "$TOP" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
	git -C "$TOP" fetch -q --unshallow 2>/dev/null
fi
if ! git -C "$TOP" cat-file -e "$OLD_REV^{commit}" 2>/dev/null; then
	bad "the build to upgrade from ($OLD_REV) is not in this clone (a shallow clone? fetch the history)"
	finish upgrade
	exit 1
fi
OLD=$WORK/old
mkdir -p "$OLD"
git -C "$TOP" archive "$OLD_REV" | tar -x -C "$OLD"
if ! make -C "$OLD" -j2 VERSION="old-$OLD_REV" CI= BIN=bin BUILD=build bin/tandem-worker bin/tandem-frontend \
	> "$WORK/old-build.log" 2>&1; then
	bad "the old build ($OLD_REV) did not compile (see $WORK/old-build.log)"
	finish upgrade
	exit 1
fi
ok "built $OLD_REV as the old version"

LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish upgrade; exit 1; }
# One config for both builds, as in a real rolling upgrade: the old one's
# keys (a new build reads an old config; new keys come after the upgrade)
CONF_EXAMPLE=$OLD/deploy/tandem.conf.example write_conf "$WORK/t.conf" \
	"$LNS:1701" "shard_policy spread"
run_old() { # run_old worker|frontend ID
	"$OLD/bin/tandem-$1" -c "$WORK/t.conf" --id "$2" >> "$WORK/$1-$2.log" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

run_old worker old1
OLDW=$LAST_PID
run_old frontend oldf
OLDF=$LAST_PID
check "old worker owns every shard, old frontend up" \
	wait_for 10 bash -c "[ \$(redis-cli -p $REDIS_PORT hlen tandem:frontends) -ge 1 ] && redis-cli -p $REDIS_PORT hget tandem:workers old1 | grep -q version=old-"

"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 100 --sessions 10 \
	--hold 1 --churn --hello 1 --duration 40 --json \
	> "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 4

start_worker new1 "$WORK/t.conf"
half() { [ "$(owned_by old1)" -eq 128 ] && [ "$(owned_by new1)" -eq 128 ]; }
check "new worker joined: the old one handed it half the shards" wait_for 10 half
check "the new worker loaded the old one's tunnels" \
	wait_for 5 grep -q 'msg="shard loaded".*tunnels=[1-9]' "$WORK/worker-new1.log"
sleep 3
kill -TERM "$OLDW"
check "old worker drained and exited" wait_for 10 exited "$OLDW"
check "the new worker owns every shard" [ "$(owned_by new1)" -eq 256 ]
start_frontend newf "$WORK/t.conf"
check "new frontend registered" \
	wait_for 10 bash -c "redis-cli -p $REDIS_PORT hexists tandem:frontends newf | grep -q 1"
sleep 2
kill -TERM "$OLDF"
check "old frontend stopped" wait_for 10 exited "$OLDF"
sleep 2
start_worker new2 "$WORK/t.conf"
even() { [ "$(owned_by new1)" -eq 128 ] && [ "$(owned_by new2)" -eq 128 ]; }
check "a second new worker joined and got half" wait_for 10 even

wait "$LAC"
rc=$?
check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
check "report: 100 tunnels all along, no call setup failed" lac_clean "$WORK/lac.json" 100
finish upgrade
