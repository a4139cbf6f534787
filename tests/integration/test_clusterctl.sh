#!/bin/bash
# clusterctl against a live cluster (redis-server, one worker, one frontend,
# tandem-lac holding 5 tunnels x 3 calls): every read subcommand in both its
# human and --json forms, filters, errors and exit statuses (0 healthy, 1
# once the worker is killed and its leases lapse, 2 usage, 3 Redis down).
# Then 100,000 sessions written by tests/tools/statefill (the real record
# encoders) under another prefix: the listing is timed and must take
# seconds. Every wait is bounded; the whole test stops before 100 s.
. "$(dirname "$0")/lib.sh"
echo "clusterctl"
CTL=$BIN/clusterctl
FILL=${TTOOLS:-$TOP/build/tests/tools}/statefill
LNS=$(rand_lo)
LAC_ADDR=$(rand_lo)
T=5 # tunnels
S=3 # sessions per tunnel

(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 95 &
	sp=$!
	wait $sp && echo "  watchdog: 95 s passed" && kill -TERM $$
) 2>/dev/null &
PIDS+=($!)
trap 'exit 1' TERM

# `make all` leaves tests/tools/ unbuilt: build statefill if it is missing
# from the default build directory (make check-integration builds it).
if [ ! -x "$FILL" ] && [ "$FILL" = "$TOP/build/tests/tools/statefill" ]; then
	make -s -C "$TOP" build/tests/tools/statefill >/dev/null
fi
for f in "$CTL" "$FILL" "$BIN/tandem-worker" "$BIN/tandem-frontend" \
	"$BIN/tandem-lac"; do
	[ -x "$f" ] || { bad "missing $f"; finish clusterctl; exit 1; }
done

# ctl NAME ARGS...: one clusterctl run (bounded), output in $WORK/NAME.out
# and .err, exit status in RC.
ctl() {
	local name=$1
	shift
	timeout -k 2 20 "$CTL" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	RC=$?
}
# jcheck NAME EXPR: NAME.out parses as JSON and the Python expression holds
# for it (d is the document).
jcheck() {
	/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$WORK/$1.out" "$2" 2>>"$WORK/jcheck.err"
}
rc_is() { [ "$RC" -eq "$1" ]; }
lines() { [ "$(wc -l <"$WORK/$1.out")" -eq "$2" ]; }
has() { grep -qE -- "$2" "$WORK/$1.out"; }
err_has() { grep -qE -- "$2" "$WORK/$1.err"; }
rows() { # rows NAME AWK-CONDITION: data rows (after the heading) matching
	awk "NR > 1 && ($2)" "$WORK/$1.out" | wc -l
}
count_is() { jcheck "$1" "d['count'] == $2"; }

check "redis-server starts" start_redis
CONF=$WORK/t.conf
write_conf "$CONF" "$LNS:1701"

# ---- command line ----
ctl help --help
check "--help: exit 0, lists the subcommands" eval 'rc_is 0 && has help sessions'
ctl nosub -c "$CONF"
check "no subcommand: exit 2" rc_is 2
ctl nocf status
check "no -c FILE: exit 2" rc_is 2
ctl bogus -c "$CONF" bogus
check "unknown subcommand: exit 2" rc_is 2
ctl badstate -c "$CONF" tunnels --state nope
check "tunnels --state nope: exit 2, names the states" \
	eval 'rc_is 2 && err_has badstate established'
ctl badid -c "$CONF" show tunnel 0
check "show tunnel 0: exit 2" rc_is 2
ctl badpair -c "$CONF" show session 7
check "show session 7 (no /S): exit 2" rc_is 2
ctl badip -c "$CONF" sessions --ip not-an-ip
check "sessions --ip not-an-ip: exit 2" rc_is 2

# ---- a live cluster ----
start_worker w1 "$CONF"
WPID=$LAST_PID
start_frontend f1 "$CONF"
check "cluster ready (256 shards owned, a frontend)" wait_for 10 cluster_ready
"$BIN/tandem-lac" --lns "$LNS:1701" --bind "$LAC_ADDR" --tunnels $T \
	--sessions $S --hello 1 --duration 40 --json \
	>"$WORK/lac.json" 2>"$WORK/lac.err" &
PIDS+=($!)
calls_up() {
	ctl up -c "$CONF" --json sessions &&
		jcheck up "d['count'] == $((T * S)) and
			all(s['state'] == 'ESTABLISHED' for s in d['sessions'])"
}
check "$T tunnels x $S calls established, seen by clusterctl" \
	wait_for 15 calls_up

# Healthy = exit 0; a worker stalled past its 600 ms alive TTL on a busy
# host would briefly (and rightly) not be, hence the bounded retry.
healthy() { ctl status -c "$CONF" status && rc_is 0; }
check "status: exit 0 on a healthy cluster" wait_for 5 healthy
sed 's/^/    | /' "$WORK/status.out"
check "status: health ok, 1 worker and 1 frontend alive" \
	eval 'has status "^Health +ok" &&
		has status "^Workers +1 registered, 1 alive" &&
		has status "^Frontends +1 registered, 1 alive"'
check "status: totals $T tunnels, $((T * S)) sessions" \
	has status "^Totals +$T tunnels, $((T * S)) sessions"
ctl statusj -c "$CONF" --json status
check "status --json: exit 0" rc_is 0
check "status --json: healthy, no problems" \
	jcheck statusj "d['healthy'] and d['problems'] == []"
check "status --json: worker w1 (its pid), alive, 256 shards, $T tunnels, $((T * S)) sessions" \
	jcheck statusj "len(d['workers']) == 1 and d['workers'][0]['id'] == 'w1'
		and d['workers'][0]['pid'] == $WPID and d['workers'][0]['alive']
		and d['workers'][0]['protected'] is True
		and d['workers'][0]['shards'] == 256
		and d['workers'][0]['tunnels'] == $T
		and d['workers'][0]['sessions'] == $((T * S))
		and d['workers'][0]['alive_ttl_ms'] >= 0"
check "status --json: frontend f1 alive, Redis primary, totals" \
	jcheck statusj "d['frontends'][0]['id'] == 'f1' and d['frontends'][0]['alive']
		and d['frontends'][0]['listen'] == '$LNS:1701'
		and d['redis']['role'] == 'master'
		and d['redis']['address'] == '127.0.0.1:$REDIS_PORT'
		and d['shards']['unowned'] == 0 and d['shards']['owned'] == 256
		and d['totals'] == {'tunnels': $T, 'sessions': $((T * S))}"

ctl shards -c "$CONF" shards
check "shards: a heading and 256 rows" lines shards 257
check "shards: every one owned by w1" eval '[ $(rows shards "\$2 == \"w1\"") -eq 256 ]'
ctl shardsj -c "$CONF" --json shards
check "shards --json: owner w1, live leases, epochs as in Redis, $T tunnels in all" \
	jcheck shardsj "len(d['shards']) == 256 and
		all(s['owner'] == 'w1' and s['epoch'] >= 1 and
		    s['lease_ttl_ms'] is not None and s['map_owner'] == 'w1'
		    for s in d['shards']) and
		sum(s['tunnels'] for s in d['shards']) == $T"
EP0=$(rcli get tandem:lease:0 | sed -n 's/.*epoch=\([0-9]*\).*/\1/p')
check "shards --json: shard 0's epoch is the lease's ($EP0)" \
	jcheck shardsj "d['shards'][0]['epoch'] == int('$EP0' or -1)"

ctl workers -c "$CONF" workers
check "workers: w1 alive, its pid" \
	eval '[ $(rows workers "\$1 == \"w1\" && \$5 == $WPID && \$7 == \"yes\"") -eq 1 ]'
ctl workersj -c "$CONF" --json workers
check "workers --json: w1 with its endpoint and counts" \
	jcheck workersj "d['workers'][0]['id'] == 'w1' and
		d['workers'][0]['endpoint'].startswith('tcp://') and
		d['workers'][0]['tunnels'] == $T and d['workers'][0]['draining'] is False"

ctl tunnels -c "$CONF" tunnels
check "tunnels: $T rows from $LAC_ADDR, ESTABLISHED, $S sessions each, owner w1" \
	eval '[ $(rows tunnels "index(\$3, \"$LAC_ADDR:\") == 1 &&
		\$4 == \"tandem-lac\" && \$5 == \"ESTABLISHED\" && \$6 == $S &&
		\$11 == \"w1\"") -eq $T ]'
ctl tunnelsj -c "$CONF" --json tunnels
check "tunnels --json: the same, with Ns/Nr past the SCCRP and ICRPs" \
	jcheck tunnelsj "d['count'] == $T and all(
		t['peer_address'] == '$LAC_ADDR' and t['state'] == 'ESTABLISHED'
		and t['sessions'] == $S and t['owner'] == 'w1'
		and t['peer_hostname'] == 'tandem-lac' and t['ns'] >= 1 + $S
		and t['nr'] >= 2 + 2 * $S for t in d['tunnels'])"
TID=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tunnels"][0]["tunnel_id"])' "$WORK/tunnelsj.out" 2>/dev/null)
TID=${TID:-1}
ctl fpeer -c "$CONF" --json tunnels --peer "$LAC_ADDR"
ctl fpeer2 -c "$CONF" --json tunnels --peer 192.0.2.1
ctl fstate -c "$CONF" --json tunnels --state established
ctl fstate2 -c "$CONF" --json tunnels --state HOLD
ctl fworker -c "$CONF" --json tunnels --worker w1
ctl fworker2 -c "$CONF" --json tunnels --worker nobody
check "tunnels --peer $LAC_ADDR: all; --peer 192.0.2.1: none" \
	eval "count_is fpeer $T && count_is fpeer2 0"
check "tunnels --state established: all; --state HOLD: none" \
	eval "count_is fstate $T && count_is fstate2 0"
check "tunnels --worker w1: all; --worker nobody: none" \
	eval "count_is fworker $T && count_is fworker2 0"

ctl sessions -c "$CONF" sessions
check "sessions: a heading and $((T * S)) rows" lines sessions $((T * S + 1))
check "sessions: all ESTABLISHED, owner w1" \
	eval '[ $(rows sessions "\$4 == \"ESTABLISHED\" && \$10 == \"w1\"") -eq $((T * S)) ]'
ctl sessionsj -c "$CONF" --json sessions --tunnel "$TID"
check "sessions --tunnel $TID --json: its $S sessions, no PPP address yet" \
	jcheck sessionsj "d['count'] == $S and all(s['tunnel_id'] == $TID and
		s['ppp_remote_address'] is None for s in d['sessions']) and
		[s['session_id'] for s in d['sessions']] == sorted(s['session_id'] for s in d['sessions'])"
ctl fuser -c "$CONF" --json sessions --user alice
check "sessions --user: exit 0, matches nothing, says why (no user in the records)" \
	eval 'rc_is 0 && count_is fuser 0 && err_has fuser "no user name"'
ctl fip -c "$CONF" --json sessions --ip 10.1.2.3
check "sessions --ip: nothing before PPP assigns addresses" jcheck fip "d['count'] == 0"
FREE=$(/usr/bin/python3 -c '
import json, sys
used = {t["tunnel_id"] for t in json.load(open(sys.argv[1]))["tunnels"]}
print(next(t for t in range(65535, 0, -1) if t not in used))' "$WORK/tunnelsj.out")
ctl nosuch -c "$CONF" sessions --tunnel "$FREE"
check "sessions --tunnel $FREE (none): exit 1, \"no tunnel $FREE in Redis\"" \
	eval 'rc_is 1 && err_has nosuch "no tunnel $FREE in Redis"'

ctl show -c "$CONF" show tunnel "$TID"
check "show tunnel $TID: state, peer, owner w1, its sessions" \
	eval 'has show "^state +ESTABLISHED" && has show "^peer +$LAC_ADDR:" &&
		has show "^owner +w1" && has show "^sessions:"'
ctl showj -c "$CONF" --json show tunnel "$TID"
SH=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shard"])' "$WORK/showj.out" 2>/dev/null)
EPS=$(rcli get "tandem:lease:${SH:-0}" | sed -n 's/.*epoch=\([0-9]*\).*/\1/p')
check "show tunnel --json: every record field, the lease's owner and epoch ($EPS)" \
	jcheck showj "d['tunnel_id'] == $TID and d['owner'] == 'w1' and
		d['epoch'] == int('$EPS' or -1) and d['sessions'] == $S and
		len(d['session_list']) == $S and d['peer_address'] == '$LAC_ADDR' and
		d['unacked'] == len(d['unacked_messages']) and
		all(k in d for k in ('ns', 'nr', 'acked', 'peer_rws', 'our_rws',
		    'challenge', 'tie_breaker', 'hold_until_ms', 'framing_caps',
		    'bearer_caps', 'firmware_revision', 'record_bytes', 'lease_ttl_ms'))"
SID=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["session_list"][0]["session_id"])' "$WORK/showj.out" 2>/dev/null)
ctl shows -c "$CONF" show session "$TID/${SID:-1}"
check "show session $TID/${SID:-1}: its fields" \
	eval 'has shows "^session +${SID:-1}\$" && has shows "^state +ESTABLISHED" &&
		has shows "^tunnel-peer +$LAC_ADDR:"'
ctl showsj -c "$CONF" --json show session "$TID/${SID:-1}"
check "show session --json: ids, state, tunnel context, lease" \
	jcheck showsj "d['tunnel_id'] == $TID and d['session_id'] == ${SID:-1} and
		d['state'] == 'ESTABLISHED' and d['tunnel_state'] == 'ESTABLISHED' and
		d['owner'] == 'w1' and d['calling_number'] is not None"
ctl nosess -c "$CONF" show session "$TID/65000"
check "show session $TID/65000 (none): exit 1, says so" \
	eval 'rc_is 1 && err_has nosess "no session $TID/65000 in Redis"'
ctl notun -c "$CONF" show tunnel "$FREE"
check "show tunnel $FREE (none): exit 1, \"no tunnel $FREE in Redis\"" \
	eval 'rc_is 1 && err_has notun "no tunnel $FREE in Redis"'

# ---- scale: 100,000 sessions under another prefix of the same Redis ----
BIG=$WORK/big.conf
write_conf "$BIG" "$LNS:1701" "redis_prefix big"
check "statefill writes 2000 tunnels x 50 sessions" \
	"$FILL" "$REDIS_PORT" big 2000 50 w-big 256
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
ctl big -c "$BIG" sessions
t1=$(ms)
ctl bigj -c "$BIG" --json sessions
t2=$(ms)
echo "    100,000 sessions listed: table $((t1 - t0)) ms, --json $((t2 - t1)) ms"
check "sessions (100k): a heading and 100,000 rows" lines big 100001
check "sessions (100k): in under 10 s" [ $((t1 - t0)) -lt 10000 ]
check "sessions --json (100k): exit 0, in under 10 s" \
	eval 'rc_is 0 && [ $((t2 - t1)) -lt 10000 ]'
check "sessions --json (100k): 100,000 records in (tunnel, session) order" \
	jcheck bigj "d['count'] == 100000 == len(d['sessions']) and
		[(s['tunnel_id'], s['session_id']) for s in d['sessions']] ==
		sorted((s['tunnel_id'], s['session_id']) for s in d['sessions'])"
t0=$(ms)
ctl bigt -c "$BIG" --json tunnels
t1=$(ms)
ctl bigs -c "$BIG" --json status
t2=$(ms)
echo "    2,000 tunnels listed in $((t1 - t0)) ms, status in $((t2 - t1)) ms"
check "tunnels --json (2000): all, with 50 sessions each" \
	jcheck bigt "d['count'] == 2000 and all(t['sessions'] == 50 for t in d['tunnels'])"
check "status --json (big): w-big holds 2000 tunnels, 100,000 sessions" \
	jcheck bigs "d['workers'][0]['id'] == 'w-big' and
		d['workers'][0]['sessions'] == 100000 and d['totals']['tunnels'] == 2000"
ctl bigip -c "$BIG" --json sessions --ip 100.64.1.0
check "sessions --ip 100.64.1.0: exactly the one subscriber (call 256)" \
	jcheck bigip "d['count'] == 1 and d['sessions'][0]['call_serial'] == 256
		and d['sessions'][0]['ppp_local_address'] == '10.255.0.1'"
ctl evil -c "$BIG" --json show tunnel 1
check "show tunnel --json: a hostile host name is escaped (valid JSON, U+FFFD for bad UTF-8)" \
	jcheck evil "d['peer_hostname'] == 'evil \"q\" \\\\ \x01\t\ufffd\u00e9' and
		[m['type'] for m in d['unacked_messages']] == ['HELLO', 'HELLO']"
ctl evilt -c "$BIG" show tunnel 1
check "show tunnel: ... and made safe for a terminal (no raw control byte)" \
	eval 'has evilt "^peer-hostname +evil.x20\"q\".x20.x5c.x20.x01.x09.xff" &&
		! grep -q $'"'"'\x01'"'"' "$WORK/evilt.out"'

# ---- replication: a replica of the cluster's Redis ----
REPL_PORT=$(free_port tcp)
redis-server --bind 127.0.0.1 --port "$REPL_PORT" --save '' --appendonly no \
	--dir "$WORK" --logfile "$WORK/replica.log" \
	--replicaof 127.0.0.1 "$REDIS_PORT" &
RPID=$!
PIDS+=($RPID)
write_conf "$WORK/wait1.conf" "$LNS:1701" "redis_wait_replicas 1"
replica_online() {
	ctl repl -c "$WORK/wait1.conf" --json status &&
		jcheck repl "d['redis']['online_replicas'] == 1"
}
check "a replica comes online: status lists it, healthy with redis_wait_replicas 1" \
	wait_for 10 replica_online
check "... and lists the replica's address and state" \
	jcheck repl "d['healthy'] and d['redis']['replicas'][0]['address'] ==
		'127.0.0.1:$REPL_PORT' and d['redis']['replicas'][0]['state'] == 'online'"
REDIS_PORT=$REPL_PORT write_conf "$WORK/replica.conf" "$LNS:1701"
ctl onrepl -c "$WORK/replica.conf" status
check "status against the replica: exit 1, it is not the primary, link up" \
	eval 'rc_is 1 && has onrepl "is a replica" && has onrepl "link=up"'
kill "$RPID"
wait "$RPID" 2>/dev/null
ctl norepl -c "$WORK/wait1.conf" status
check "replica gone with redis_wait_replicas 1: exit 1, says so" \
	eval 'rc_is 1 && has norepl "redis_wait_replicas is 1 but 0 replicas are online"'

# ---- failures ----
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
# Its alive key and its 256 leases lapse within one lease_ttl (600 ms).
lapsed() {
	ctl deadj -c "$CONF" --json status && rc_is 1 &&
		jcheck deadj "not d['workers'][0]['alive'] and
			d['shards']['unowned'] == 256"
}
check "worker killed: status exits 1 once its alive key and leases lapse" \
	wait_for 5 lapsed
check "status --json: not healthy, both problems said" \
	jcheck deadj "not d['healthy'] and
		any('worker w1' in p for p in d['problems']) and
		any('256 of 256 shards have no owner' in p for p in d['problems'])"
ctl dead -c "$CONF" status
check "status: exit 1, ATTENTION with the reasons" \
	eval 'rc_is 1 && has dead "^Health +ATTENTION" &&
		has dead "worker w1 is registered but its alive key is gone"'
ctl orphans -c "$CONF" --json tunnels --worker -
check "tunnels --worker -: the $T checkpoints stay, owned by nobody" \
	jcheck orphans "d['count'] == $T and all(t['owner'] is None for t in d['tunnels'])"

kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
ctl down -c "$CONF" status
check "Redis down: status exits 3 naming 127.0.0.1:$REDIS_PORT" \
	eval 'rc_is 3 && err_has down "cannot reach Redis at 127.0.0.1:$REDIS_PORT"'
ctl downs -c "$CONF" --json sessions
check "Redis down: sessions exits 3 too" rc_is 3

if [ "$FAIL" -gt 0 ]; then
	for f in "$WORK"/*.err; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }
	done
fi
finish clusterctl
