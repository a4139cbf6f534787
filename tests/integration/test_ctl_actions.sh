#!/bin/bash
# Actions through the owning worker's control socket: the raw protocol
# (status, unknown version and command, a DEALER client), then under load
# (tandem-lac: 40 tunnels x 5 calls placed and cleared all along, 2 workers
# sharing the shards, 1 frontend) `clusterctl drain w1` (no tunnel dropped,
# w1 exits) and `clusterctl move shard N --to w2` (the lease moves and stays);
# then `disconnect session` (the LAC sees a CDN, result 3) and `disconnect
# tunnel` (StopCCN, result 1) on small LAC runs of their own, an unknown
# tunnel and session, and a frozen worker (SIGSTOP) that does not answer.
# Every wait is bounded; the whole test stops before 120 s.
. "$(dirname "$0")/lib.sh"
echo "clusterctl actions: drain, move, disconnect through the workers"
CTL=$BIN/clusterctl
LNS=$(rand_lo)
T=40 # tunnels under load
S=5  # calls per tunnel

(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 115 &
	sp=$!
	wait $sp && echo "  watchdog: 115 s passed" && kill -TERM $$
) 2>/dev/null &
PIDS+=($!)
trap 'exit 1' TERM

start_redis || { bad "redis-server did not start"; finish ctl_actions; exit 1; }
CONF=$WORK/t.conf
write_conf "$CONF" "$LNS:1701" "shard_policy spread"

declare -A PID
start_w() { start_worker "$1" "$CONF"; PID[$1]=$LAST_PID; }
start_w w1
start_w w2
start_frontend f1 "$CONF"

# ctl NAME ARGS...: one clusterctl run (bounded), output in $WORK/NAME.out
# and .err, exit status in RC, wall time in MS.
ctl() {
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	timeout -k 2 40 "$CTL" -c "$CONF" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}
rc_is() { [ "$RC" -eq "$1" ]; }
has() { grep -qE -- "$2" "$WORK/$1.out"; }
err_has() { grep -qE -- "$2" "$WORK/$1.err"; }
show() { sed 's/^/    | /' "$WORK/$1.out" "$WORK/$1.err" | tail -n "${2:-4}"; }
jcheck() { # jcheck FILE EXPR: FILE parses as JSON, EXPR (d) holds
	/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2" 2>>"$WORK/jcheck.err"
}
lease_owner() { rcli get "tandem:lease:$1" | sed -n 's/.*owner=\([^ ]*\).*/\1/p'; }
balanced() { [ "$(owned_by w1)" -eq 128 ] && [ "$(owned_by w2)" -eq 128 ]; }
ready() { balanced && [ "$(rcli hlen tandem:frontends)" -eq 1 ]; }
control_of() { rcli hget tandem:workers "$1" | sed -n 's/.* control=\([^ ]*\).*/\1/p'; }
# raw TYPE ENDPOINT REQUEST: one request from a REQ or DEALER socket,
# the reply on stdout (exit 1 after 3 s without one).
raw() {
	/usr/bin/python3 - "$@" <<'PY'
import sys, zmq
kind, ep, req = sys.argv[1:4]
s = zmq.Context().socket(zmq.REQ if kind == "req" else zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(ep)
s.send(req.encode())
if not s.poll(3000):
    sys.exit(1)
print(s.recv().decode())
PY
}

check "cluster ready: 1 frontend, shards spread 128/128" wait_for 15 ready

# ---- the protocol itself ----
C1=$(control_of w1)
check "w1 registers its control endpoint ($C1)" eval '[[ "$C1" == tcp://127.0.0.1:* ]]'
ctl workers --json workers
check "clusterctl workers --json shows both control endpoints" \
	jcheck "$WORK/workers.out" "all(w['control'].startswith('tcp://') for w in d['workers'])"
# A shard handed to w1 shows in its lease at once and in w1's memory at
# w1's next claim round (200 ms), hence the bounded retry.
status_ok() {
	R=$(raw req "$C1" "1 status")
	[[ "$R" == "1 ok id=w1 shards=128 "* && "$R" == *" draining=0 "* ]]
}
check "1 status: ok, 128 shards, not draining" wait_for 3 status_ok
echo "    status: $R"
R=$(raw req "$C1" "2 status")
check "unknown version: 1 err version ... (got: $R)" eval '[[ "$R" == "1 err version "* ]]'
R=$(raw req "$C1" "1 frobnicate")
check "unknown command: 1 err command ... (got: $R)" eval '[[ "$R" == "1 err command "* ]]'
R=$(raw req "$C1" "1 move-shard 3")
check "missing argument: 1 err usage ... (got: $R)" eval '[[ "$R" == "1 err usage "* ]]'
R=$(raw dealer "$C1" "1 status")
check "a DEALER client (no empty delimiter) gets its answer too" \
	eval '[[ "$R" == "1 ok id=w1 "* ]]'

# ---- drain and move under load ----
"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels $T --sessions $S \
	--hold 1 --churn --hello 1 --duration 25 --json \
	>"$WORK/lac.json" 2>"$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 3

ctl drain drain w1
show drain 3
check "drain w1: exit 0 in ${MS} ms, progress shown, done" \
	eval 'rc_is 0 && has drain "^shards left: 0$" && has drain "^w1 drained in "'
check "w1 exits after the drain" wait_for 10 exited "${PID[w1]}"
check "w1 handed every shard over (no lease expiry)" \
	grep -q 'msg="drain complete: every shard is owned elsewhere"' "$WORK/worker-w1.log"
check "w2 owns all 256 shards, w1 is deregistered" \
	eval '[ "$(owned_by w2)" -eq 256 ] && [ -z "$(rcli hget tandem:workers w1)" ]'
ctl drain_gone drain w1
check "drain w1 again: exit 1, not registered" \
	eval 'rc_is 1 && err_has drain_gone "no worker w1"'

start_w w1
check "w1 back, shards spread again by hand-off" wait_for 10 balanced
sleep 1
# the shard of w1 with the most of the LAC's tunnels
ctl shards --json shards
N=$(/usr/bin/python3 -c '
import json, sys
mine = [s for s in json.load(open(sys.argv[1]))["shards"] if s["owner"] == "w1"]
print(max(mine, key=lambda s: s["tunnels"])["shard"])' "$WORK/shards.out")
ctl move move shard "$N" --to w2
show move 2
check "move shard $N --to w2: exit 0 in ${MS} ms, with its tunnels" \
	eval 'rc_is 0 && has move "^shard $N moved from w1 to w2 " &&
		! has move " 0 tunnels"'
check "the lease of shard $N names w2" [ "$(lease_owner "$N")" = w2 ]
sleep 2
check "2 s later it still does (w2 evened the count with another shard)" \
	eval '[ "$(lease_owner "$N")" = w2 ] && balanced'
ctl move_same move shard "$N" --to w2
check "move to its owner: exit 0, says so" \
	eval 'rc_is 0 && err_has move_same "already owned by w2"'
ctl move_nobody move shard "$N" --to nobody
check "move to an unknown worker: exit 1, says so" \
	eval 'rc_is 1 && err_has move_nobody "no worker nobody"'

wait "$LAC"
rc=$?
check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
check "report: $T tunnels up all along, none torn down, no call failed" /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("    sessions_established %d, retransmitted %d" % (
    r["sessions_established"], r["messages"]["retransmitted"]))
sys.exit(0 if r["tunnels_established"] == int(sys.argv[2])
         and r["tunnels_torn_down_by_lns"] == 0 and r["tunnels_lost"] == 0
         and r["sessions_failed"] == 0 else 1)' "$WORK/lac.json" "$T"

# ---- disconnect: one LAC run for a CDN, one for a StopCCN ----
lac_small() { # lac_small NAME HOSTNAME: 2 tunnels x 2 calls held 12 s
	"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 2 --sessions 2 \
		--hostname "$2" --hello 1 --duration 12 --allow-cdn --json \
		>"$WORK/$1.json" 2>"$WORK/$1.err" &
	PIDS+=($!)
	LAST_LAC=$!
}
lac_small lac_cdn ctl-cdn
LAC_CDN=$LAST_LAC
lac_small lac_stop ctl-stop
LAC_STOP=$LAST_LAC
# up NAME HOST: both tunnels of that LAC established with 2 calls each
up() {
	ctl "$1" --json tunnels && jcheck "$WORK/$1.out" "
		len([t for t in d['tunnels'] if t['peer_hostname'] == '$2'
		     and t['state'] == 'ESTABLISHED' and t['sessions'] == 2]) == 2"
}
check "two small LACs up (2 tunnels x 2 calls each)" \
	wait_for 10 eval 'up tun_cdn ctl-cdn && up tun_stop ctl-stop'
tid_of() { # tid_of NAME HOST: the lowest Tunnel ID of that LAC
	/usr/bin/python3 -c '
import json, sys
print(min(t["tunnel_id"] for t in json.load(open(sys.argv[1]))["tunnels"]
          if t["peer_hostname"] == sys.argv[2]))' "$WORK/$1.out" "$2"
}
TC=$(tid_of tun_cdn ctl-cdn)
TS=$(tid_of tun_stop ctl-stop)
ctl sess --json sessions --tunnel "$TC"
SC=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["sessions"][0]["session_id"])' "$WORK/sess.out")

ctl dsess disconnect session "$TC/$SC"
show dsess 1
check "disconnect session $TC/$SC: exit 0, CDN result 3" \
	eval 'rc_is 0 && has dsess "^session $TC/$SC: CDN result 3 "'
check "Redis no longer has session $TC/$SC, the tunnel keeps the other" \
	wait_for 3 eval '[ "$(rcli hexists tandem:s:$TC $SC)" = 0 ] &&
		[ "$(rcli hlen tandem:s:$TC)" = 1 ]'
ctl dsess2 disconnect session "$TC/$SC"
check "the same session again: exit 1, no session here" \
	eval 'rc_is 1 && err_has dsess2 "no session $TC/$SC here"'

ctl dtun --json disconnect tunnel "$TS"
show dtun 9
check "disconnect tunnel $TS: exit 0, StopCCN result 1 (CLEAR), 2 sessions" \
	jcheck "$WORK/dtun.out" "d['tunnel_id'] == $TS and d['message'] == 'StopCCN'
		and d['result'] == 1 and d['result_name'] == 'CLEAR' and d['sessions'] == 2"
check "its record leaves Redis once the StopCCN is acknowledged" \
	wait_for 5 eval '[ "$(rcli exists tandem:t:$TS)" = 0 ]'

FREE=$(/usr/bin/python3 -c '
import json, sys
used = {t["tunnel_id"] for t in json.load(open(sys.argv[1]))["tunnels"]}
print(next(t for t in range(65535, 0, -1) if t not in used))' "$WORK/tun_cdn.out")
ctl dnone disconnect tunnel "$FREE"
show dnone 1
check "disconnect an unknown tunnel $FREE: exit 1, no tunnel $FREE here" \
	eval 'rc_is 1 && err_has dnone "no tunnel $FREE here"'
ctl dbad disconnect tunnel 0
check "disconnect tunnel 0: exit 2" rc_is 2

wait "$LAC_CDN"
rc=$?
check "CDN LAC: exit 0 (--allow-cdn); the LNS cleared 1 call, result 3" \
	eval '[ "$rc" -eq 0 ] && jcheck "$WORK/lac_cdn.json" "
		d[\"sessions_cleared_by_lns\"] == 1 and d[\"tunnels_torn_down_by_lns\"] == 0
		and [x[\"result\"] for x in d[\"sessions_cleared_by_result\"]] == [3]"'
wait "$LAC_STOP"
rc=$?
check "StopCCN LAC: exit 1, the LNS tore 1 tunnel down, with result 1" \
	eval '[ "$rc" -eq 1 ] && jcheck "$WORK/lac_stop.json" "
		d[\"tunnels_torn_down_by_lns\"] == 1 and
		[x[\"result\"] for x in d[\"tunnels_torn_down_by_result\"]] == [1]"'

# ---- a frozen worker does not answer ----
kill -STOP "${PID[w2]}"
ctl frozen drain w2
show frozen 1
check "drain a SIGSTOPped w2: exit 4 after 3 s (took ${MS} ms), did not answer" \
	eval 'rc_is 4 && err_has frozen "worker w2 did not answer within 3 s" &&
		[ "$MS" -ge 2900 ] && [ "$MS" -lt 6000 ]'
ctl frozen1 drain w2 --timeout 1
check "--timeout 1: did not answer within 1 s (took ${MS} ms)" \
	eval 'rc_is 4 && err_has frozen1 "did not answer within 1 s" && [ "$MS" -lt 3000 ]'
kill -CONT "${PID[w2]}"

# ---- what clusterctl shows across a takeover ----
lac_small lac_to ctl-takeover
LAC_TO=$LAST_LAC
tunnel_of() { # the first tunnel whose peer host name is $1, from --json
	"$CTL" -c "$CONF" tunnels --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip().rstrip(",")
    if "\"tunnel_id\"" not in line:
        continue
    t = json.loads(line[line.index("{"):line.rindex("}") + 1])
    if t.get("peer_hostname") == sys.argv[1] and t.get("state") == "ESTABLISHED":
        print(t["tunnel_id"], t["owner"], t["epoch"]); break' "$1"
}
wait_for 10 bash -c "[ -n \"\$($(declare -f tunnel_of); CTL=$CTL CONF=$CONF tunnel_of ctl-takeover)\" ]"
read -r TT OWNER1 EPOCH1 <<< "$(tunnel_of ctl-takeover)"
OTHER=$([ "$OWNER1" = w1 ] && echo w2 || echo w1)
check "before: tunnel $TT owned by $OWNER1 at epoch $EPOCH1" [ -n "$TT" ]
kill -9 "${PID[$OWNER1]}"
T_KILL=$(date +%s%N)
check "after kill -9 of $OWNER1, $OTHER owns every shard" wait_for 5 all_owned_by "$OTHER" ||
	{ owner_report "$OTHER"; wait_for 20 all_owned_by "$OTHER" &&
		echo "    ($OTHER owned every shard $((($(date +%s%N) - T_KILL) / 1000000)) ms after the kill)"; }
ctl shown show tunnel "$TT" --json
check "show tunnel $TT --json: new owner $OTHER, a higher epoch" \
	eval 'rc_is 0 && jcheck "$WORK/shown.out" "d[\"owner\"] == \"$OTHER\" and d[\"epoch\"] > $EPOCH1"'
ctl shownh show tunnel "$TT"
check "show tunnel $TT (table) names $OTHER" has shownh "$OTHER"
ctl statusdead status
check "status: exit 1 while $OWNER1 is registered but gone" rc_is 1
wait "$LAC_TO"
check "the takeover LAC saw nothing torn down (exit 0)" [ "$?" -eq 0 ]
finish ctl_actions
