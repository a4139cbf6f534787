#!/bin/bash
# tandem follows Redis Sentinel. A primary, a replica and three Sentinels on
# loopback; a worker and a frontend configured with redis_sentinels (not
# `redis`) and redis_wait_replicas 1. Checks: they find the primary through
# the Sentinels; checkpoints reach the replica before the LNS answers (WAIT);
# the primary is killed, a Sentinel promotes the replica, worker, frontend
# and clusterctl follow it and the LAC's tunnels and calls all survive; with
# no replica left checkpoints go on (degraded, shown in metrics) and stop
# being degraded when the old primary returns as a replica.
. "$(dirname "$0")/lib.sh"
echo "Redis Sentinel failover"
LNS=$(rand_lo)
RH=$(rand_lo) # Redis and Sentinels listen here

P1=$(free_port tcp)
P2=$(free_port tcp)
redis_node() { # redis_node NAME PORT [replicaof-port]
	local name=$1 port=$2 of=${3:-}
	mkdir -p "$WORK/$name"
	redis-server --bind "$RH" --port "$port" --save '' --appendonly yes \
		--appendfsync everysec --dir "$WORK/$name" --logfile "$WORK/$name.log" \
		--replica-announce-ip "$RH" ${of:+--replicaof "$RH" "$of"} &
	PIDS+=($!)
	LAST_PID=$!
}
redis_node r1 "$P1"
R1=$LAST_PID
redis_node r2 "$P2" "$P1"
check "replica in sync with the primary" wait_for 10 bash -c \
	"redis-cli -h $RH -p $P2 info replication 2>/dev/null | grep -q 'master_link_status:up'"

SENT=""
for i in 1 2 3; do
	sp=$(free_port tcp)
	cat > "$WORK/sentinel$i.conf" <<EOT
bind $RH
port $sp
dir $WORK
sentinel announce-ip $RH
sentinel monitor tandem $RH $P1 2
sentinel down-after-milliseconds tandem 1000
sentinel failover-timeout tandem 3000
EOT
	redis-server "$WORK/sentinel$i.conf" --sentinel --logfile "$WORK/sentinel$i.log" &
	PIDS+=($!)
	SENT=${SENT:+$SENT,}$RH:$sp
	SP1=${SP1:-$sp}
done
sentinels_agree() { # every Sentinel names PORT as the primary
	for s in ${SENT//,/ }; do
		redis-cli -h "${s%:*}" -p "${s##*:}" sentinel get-master-addr-by-name tandem \
			2>/dev/null | grep -qx "$1" || return 1
	done
}
check "Sentinels see the primary and its replica" wait_for 10 bash -c \
	"redis-cli -h $RH -p $SP1 sentinel replicas tandem | grep -q $P2"

REDIS_PORT=$P1 write_conf "$WORK/t.conf" "$LNS:1701" \
	"redis 127.0.0.1:1" "redis_sentinels $SENT" "redis_wait_replicas 1" \
	"redis_timeout 300ms"
# `redis` points nowhere: only the Sentinels can lead to the primary
MPORT=$(free_port tcp)
"$BIN/tandem-worker" -c "$WORK/t.conf" --id w1 --metrics "127.0.0.1:$MPORT" \
	>> "$WORK/worker-w1.log" 2>&1 &
PIDS+=($!)
start_frontend f1 "$WORK/t.conf"
rc1() { redis-cli -h "$RH" -p "$1" "${@:2}"; }
owned_on() { # owned_on PORT: live leases of w1 in that Redis, a primary
	rc1 "$1" role 2>/dev/null | head -1 | grep -qx master || return 1
	[ "$(rc1 "$1" --scan --pattern 'tandem:lease:*' | while read -r k; do
		rc1 "$1" get "$k"; done | grep -c 'owner=w1 ')" -eq 256 ]
}
check "worker found the primary through the Sentinels" wait_for 10 owned_on "$P1"
check "... and logged its address" \
	grep -q "redis connected.*redis=$RH:$P1" "$WORK/worker-w1.log"
check "frontend registered on the primary" wait_for 10 bash -c \
	"[ \$(redis-cli -h $RH -p $P1 hlen tandem:frontends) -ge 1 ]"
check "clusterctl finds the primary through the Sentinels" \
	bash -c "'$BIN/clusterctl' -c '$WORK/t.conf' status | grep -q 'Redis *$RH:$P1 .*role=master'"

"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 20 --sessions 5 --hello 1 \
	--duration 30 --json > "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
tunnels_on() { [ "$(rc1 "$1" --scan --pattern 'tandem:t:*' | wc -l)" -ge "$2" ]; }
check "tunnels checkpointed on the primary" wait_for 15 tunnels_on "$P1" 20
check "... and on the replica (WAIT)" tunnels_on "$P2" 20
metric() { curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
check "checkpoints wait for the replica: none short, not degraded" \
	bash -c "[ '$(metric tandem_worker_checkpoint_wait_short_total)' = 0 ] &&
		[ '$(metric tandem_worker_replication_degraded)' = 0 ]"

# the primary dies
T0=$(date +%s.%N)
kill -9 "$R1"
wait "$R1" 2>/dev/null
check "a Sentinel promotes the replica" wait_for 15 sentinels_agree "$P2"
check "worker follows it" wait_for 10 \
	grep -q "redis connected.*redis=$RH:$P2" "$WORK/worker-w1.log"
check "... and holds every shard's lease there" wait_for 10 owned_on "$P2"
T1=$(date +%s.%N)
awk -v a="$T0" -v b="$T1" 'BEGIN {printf "    primary killed -> worker writing to the new primary: %.2f s\n", b - a}'
check "frontend follows it" wait_for 10 bash -c \
	"grep -q 'redis connected.*redis=$RH:$P2' '$WORK/frontend-f1.log'"
check "clusterctl follows it" \
	bash -c "'$BIN/clusterctl' -c '$WORK/t.conf' status | grep -q 'Redis *$RH:$P2 .*role=master'"
check "no replica left: checkpoints go on, degraded" \
	wait_for 10 bash -c "[ \"\$(curl -fsS http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tandem_worker_replication_degraded\" {print \$2}')\" = 1 ]"

# the old primary comes back; the Sentinels make it a replica
redis_node r1b "$P1"
check "old primary rejoins as a replica" wait_for 20 bash -c \
	"redis-cli -h $RH -p $P1 info replication 2>/dev/null | grep -q 'role:slave'"
check "replica back: checkpoints wait for it again" \
	wait_for 10 bash -c "[ \"\$(curl -fsS http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tandem_worker_replication_degraded\" {print \$2}')\" = 0 ]"

wait "$LAC"
check "every tunnel and call survived the failover" lac_clean "$WORK/lac.json" 20 100
"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 2 --sessions 2 --json \
	> "$WORK/new.json" 2>/dev/null
check "new tunnels and calls after the failover" lac_clean "$WORK/new.json" 2 4
finish sentinel
