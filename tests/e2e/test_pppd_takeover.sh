#!/bin/bash
# PPP end to end, inside User-Mode Linux (tests/e2e/run.sh starts it there):
# netns `lns` runs redis-server, two frontends and two workers with
# ppp_backend pppd and ppp_pool 198.51.100.0/24; netns `lac` runs xl2tpd as
# the LAC with its pppd (kernel pppol2tp), over a veth pair in 192.0.2.0/24.
# The subscriber authenticates with CHAP, gets its address from tandem's
# pool, and pings the LNS side of the link. Then the worker owning the
# tunnel is killed with SIGKILL: the tunnel and the session stay, the other
# worker starts a fresh pppd in the same session with the same addresses,
# PPP renegotiates, and the ping gets through again. Prints the outage.
# Last, a third worker joins and the owner is drained (SIGTERM): the pty of
# the running pppd is handed to the successor, so PPP does not renegotiate.
# Needs E2E_WORK (a writable directory) and BIN; every wait is bounded.
set -u
[ "${UML_GUEST:-0}" = 1 ] || { echo "run me through tests/e2e/run.sh (inside UML)" >&2; exit 2; }
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$TOP/bin}
W=${E2E_WORK:?E2E_WORK must name a writable directory}
PASS=0 FAIL=0
PIDS=()
SUB=198.51.100.1 # the LNS end of every PPP link (the pool's .1)

up() { cut -d' ' -f1 /proc/uptime; }
now() { date +%s.%N; }
ok() { PASS=$((PASS + 1)); echo "  ok: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "  FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
wait_for() { # wait_for SECONDS command...: poll every 0.1 s until a
	# deadline (process start is slow in UML: count time, not tries)
	local end; end=$(awk -v u="$(up)" -v s="$1" 'BEGIN {print u + s}'); shift
	while :; do
		"$@" && return 0
		awk -v u="$(up)" -v e="$end" 'BEGIN {exit !(u > e)}' && return 1
		sleep 0.1
	done
}
dump() {
	echo "---- logs ($W) ----"
	for f in "$W"/*.log; do echo "== $f"; tail -n 25 "$f"; done
}
die() { bad "$*"; dump; exit 1; }
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT
# (foreground only: a backgrounded function would make $! a subshell)
lns() { ip netns exec lns "$@"; }
lac() { ip netns exec lac "$@"; }
rcli() { lns redis-cli -p 6379 "$@"; }

echo "PPP through pppd across kill -9 of the tunnel's worker (t=$(up))"
for b in tandem-worker tandem-frontend; do
	[ -x "$BIN/$b" ] || die "$BIN/$b missing (make all)"
done
[ -e /dev/ppp ] || die "no /dev/ppp in the guest"

# ---- network: lns 192.0.2.1 <-> lac 192.0.2.2 ----
ip netns add lns && ip netns add lac || die "netns"
lns ip link set lo up; lac ip link set lo up
ip link add vlns netns lns type veth peer name vlac netns lac || die "veth"
lns ip addr add 192.0.2.1/24 dev vlns; lns ip link set vlns up
lac ip addr add 192.0.2.2/24 dev vlac; lac ip link set vlac up

# ---- the tandem cluster in netns lns ----
ip netns exec lns redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
	--dir "$W" --logfile "$W/redis.log" --daemonize no &
PIDS+=($!)
wait_for 10 rcli ping >/dev/null 2>&1 || die "redis-server did not start"

cat > "$W/lns.ppp" <<EOT
auth
require-chap
name tandem-lns
noccp
nodefaultroute
noproxyarp
logfile $W/pppd-lns.log
EOT
# CHAP secrets: /etc/ppp is a private copy inside the guest
echo 'subscriber * s3cret *' > /etc/ppp/chap-secrets
chmod 600 /etc/ppp/chap-secrets

sed -e "s/^redis .*/redis 127.0.0.1:6379/" \
    -e "s/^listen .*/listen 192.0.2.1:1701/" \
    -e "s/^ppp_backend .*/ppp_backend pppd/" \
    -e "s|^pppd_options .*|pppd_options $W/lns.ppp|" \
    -e "s|^ppp_pool .*|ppp_pool 198.51.100.0/24|" \
    -e "s/^redis_timeout .*/redis_timeout 2s/" \
    "$TOP/deploy/tandem.conf.example" > "$W/tandem.conf"
declare -A WPID
for id in w1 w2; do
	ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem.conf" --id "$id" > "$W/worker-$id.log" 2>&1 &
	WPID[$id]=$!
	PIDS+=($!)
done
for id in f1 f2; do
	ip netns exec lns "$BIN/tandem-frontend" -c "$W/tandem.conf" --id "$id" > "$W/frontend-$id.log" 2>&1 &
	PIDS+=($!)
done
owned() { [ "$(rcli hvals tandem:shardmap | grep -c 'owner=w[12] ')" -eq 256 ]; }
spread() { # both workers hold shards (the hand-off after w2 joined is done)
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w1 ')" -gt 0 ] &&
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w2 ')" -gt 0 ]
}
check "every shard owned" wait_for 15 owned
check "both workers hold shards" wait_for 15 spread
check "two frontends registered" wait_for 10 bash -c "[ \$(ip netns exec lns redis-cli hlen tandem:frontends) -eq 2 ]"
grep -q 'PPP backend pppd' "$W/worker-w1.log" || die "worker did not select the pppd backend"

# ---- the LAC: xl2tpd + pppd in netns lac ----
cat > "$W/lac.conf" <<EOT
[global]
listen-addr = 192.0.2.2
[lac tandem]
lns = 192.0.2.1
autodial = yes
redial = no
require authentication = no
name = subscriber
pppoptfile = $W/lac.ppp
length bit = yes
EOT
# no tty options here: the LAC's pppd runs on the pppol2tp plugin
cat > "$W/lac.ppp" <<EOT
noauth
name subscriber
user subscriber
noccp
noipdefault
ipcp-accept-local
ipcp-accept-remote
nodefaultroute
logfile $W/pppd-lac.log
EOT
: > "$W/l2tp-secrets"
T_START=$(up)
ip netns exec lac /usr/sbin/xl2tpd -D -c "$W/lac.conf" -s "$W/l2tp-secrets" -p "$W/xl2tpd.pid" \
	-C "$W/xl2tpd.ctl" > "$W/xl2tpd.log" 2>&1 &
PIDS+=($!)
sub_addr() { lac ip -4 -o addr show dev ppp0 2>/dev/null | awk '{print $4}' | cut -d/ -f1; }
has_addr() { [ -n "$(sub_addr)" ]; }
wait_for 30 has_addr || die "the subscriber's PPP link did not come up"
ADDR=$(sub_addr)
echo "  PPP up after $(awk -v a="$(up)" -v b="$T_START" 'BEGIN {printf "%.2f", a - b}') s: subscriber $ADDR"
case $ADDR in 198.51.100.*) ok "subscriber address from tandem's pool ($ADDR)" ;;
	*) bad "subscriber address $ADDR is not from 198.51.100.0/24" ;; esac
check "tandem's pppd authenticated the subscriber (CHAP)" grep -q 'CHAP authentication succeeded' "$W/pppd-lac.log"
check "ping across the PPP link" lac ping -c 3 -i 0.2 -W 2 "$SUB"

# ---- who owns the tunnel ----
TID=$(rcli --scan --pattern 'tandem:t:*' | head -1 | cut -d: -f3)
[ -n "$TID" ] || die "no tunnel record in Redis"
SID=$(rcli hkeys "tandem:s:$TID" | head -1)
OWNER=$(rcli get "tandem:lease:$((TID / 256))" | sed -n 's/.*owner=\([^ ]*\) .*/\1/p')
check "the pool records the session as the holder" \
	[ "$(rcli hget 'tandem:pool:198.51.100.0/24:holder' "$ADDR")" = "$TID/$SID" ]
case $OWNER in w1) OTHER=w2 ;; w2) OTHER=w1 ;; *) die "tunnel $TID has no live owner ($OWNER)" ;; esac
echo "  tunnel $TID session $SID is owned by $OWNER"
OLD_PPPD=$(pgrep -P "${WPID[$OWNER]}" pppd)
[ -n "$OLD_PPPD" ] || die "no pppd child of $OWNER"

# ---- kill -9 the owner under a running ping ----
ip netns exec lac ping -D -i 0.1 -W 1 "$SUB" > "$W/ping.log" 2>&1 &
PING=$!
PIDS+=($PING)
sleep 1
KILL_AT=$(now)
kill -9 "${WPID[$OWNER]}"
wait "${WPID[$OWNER]}" 2>/dev/null
echo "  killed $OWNER (pid ${WPID[$OWNER]}) at t=$(up)"
restarted() { grep -q "msg=\"pppd started\" tid=$TID sid=$SID " "$W/worker-$OTHER.log"; }
check "$OTHER started pppd in session $TID/$SID" wait_for 20 restarted
# A reply in flight at the kill may still arrive: recovery counts from the
# new pppd on, and the outage is the longest silence in the ping log.
RESTART_AT=$(now)
replied_after() {
	awk -v k="$RESTART_AT" -F'[][]' '/bytes from/ && $2 > k {f=1} END {exit !f}' "$W/ping.log"
}
wait_for 40 replied_after
RECOVERED=$?
kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
[ "$RECOVERED" = 0 ] || die "no ping reply within 40 s of the new pppd"
# (no process substitution: the guest has no /dev/fd)
read -r OUTAGE GAP_END <<< "$(awk -F'[][]' '/bytes from/ {
	if (p && $2 - p > g) {g = $2 - p; e = $2} p = $2 }
	END {printf "%.2f %s\n", g, e}' "$W/ping.log")"
SINCE_KILL=$(awk -v a="$GAP_END" -v b="$KILL_AT" 'BEGIN {printf "%.2f", a - b}')
echo "  outage: ${OUTAGE} s without ping replies (the first came back ${SINCE_KILL} s after the kill)"
echo "E2E_OUTAGE_S=$OUTAGE" > "$W/outage.txt"

check "the old pppd is gone (its tty hung up)" bash -c "! kill -0 $OLD_PPPD 2>/dev/null"
check "the subscriber kept its address" [ "$(sub_addr)" = "$ADDR" ]
check "same tunnel and session in Redis" bash -c "ip netns exec lns redis-cli hexists tandem:s:$TID $SID | grep -q 1"
check "ping across the PPP link after the takeover" lac ping -c 3 -i 0.2 -W 2 "$SUB"
check "xl2tpd kept its tunnel and call" \
	bash -c "! grep -qiE 'Connection .* closed|disconnect|maximum retries' '$W/xl2tpd.log'"
check "no zombie pppd under the live worker" \
	bash -c "[ -z \"\$(ps -o stat= --ppid ${WPID[$OTHER]} | grep Z)\" ]"

# ---- graceful drain to a worker on the same host: the pty is handed over ----
# w3 joins and rebalancing hands it half the shards (perhaps the tunnel's);
# then whoever owns the tunnel gets SIGTERM and hands its shards to the
# other. Both hand-offs pass the pty of the session's pppd over SCM_RIGHTS:
# the same pppd keeps serving, no new pppd, no new CHAP round on the LAC.
LNS_PPPD=$(pgrep -f "ipparam $TID/$SID")
CHAP_BEFORE=$(grep -c 'CHAP authentication succeeded: ' "$W/pppd-lac.log")
ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem.conf" --id w3 > "$W/worker-w3.log" 2>&1 &
WPID[w3]=$!
PIDS+=($!)
w3_half() { [ "$(rcli hvals tandem:shardmap | grep -c 'owner=w3 ')" -eq 128 ]; }
check "w3 joined and got half the shards" wait_for 15 w3_half
OWNER=$(rcli get "tandem:lease:$((TID / 256))" | sed -n 's/.*owner=\([^ ]*\) .*/\1/p')
case $OWNER in "$OTHER") HEIR=w3 ;; w3) HEIR=$OTHER ;; *) die "tunnel $TID has no live owner ($OWNER)" ;; esac
echo "  tunnel $TID is owned by $OWNER; draining it to $HEIR"
ip netns exec lac ping -D -i 0.1 -W 1 "$SUB" > "$W/ping2.log" 2>&1 &
PING=$!
PIDS+=($PING)
sleep 1
kill -TERM "${WPID[$OWNER]}"
exited() { ! kill -0 "$1" 2>/dev/null; }
check "$OWNER drained and exited" wait_for 15 exited "${WPID[$OWNER]}"
heir_all() { [ "$(rcli hvals tandem:shardmap | grep -c "owner=$HEIR ")" -eq 256 ]; }
check "$HEIR holds every shard" wait_for 10 heir_all
sleep 2
kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
GAP=$(awk -F'[][]' '/bytes from/ {if (p && $2 - p > g) g = $2 - p; p = $2}
	END {printf "%.2f", g}' "$W/ping2.log")
echo "  drain: longest gap between ping replies ${GAP} s"
check "$HEIR adopted the session's pppd" \
	grep -q "msg=\"pppd adopted from the previous owner\" tid=$TID sid=$SID " "$W/worker-$HEIR.log"
check "the same pppd still serves the session (pid ${LNS_PPPD:-?})" kill -0 "${LNS_PPPD:-0}"
check "no PPP renegotiation on the LAC (no new CHAP round)" \
	[ "$(grep -c 'CHAP authentication succeeded: ' "$W/pppd-lac.log")" = "$CHAP_BEFORE" ]
check "ping across the PPP link after the drain" lac ping -c 3 -i 0.2 -W 2 "$SUB"
check "the subscriber kept its address" [ "$(sub_addr)" = "$ADDR" ]
echo "E2E_DRAIN_GAP_S=$GAP" >> "$W/outage.txt"

[ "$FAIL" -gt 0 ] && dump
echo "pppd-takeover: $PASS passed, $FAIL failed, outage ${OUTAGE} s after kill -9, longest gap ${GAP:-?} s across a drain"
[ "$FAIL" -eq 0 ]
