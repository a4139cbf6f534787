#!/bin/bash
# PPP addresses that pppd decides, learned through tandem's ip-up hook,
# inside User-Mode Linux (tests/e2e/run.sh starts it there). As in
# test_pppd_takeover.sh (netns `lns`: redis-server, two frontends, two
# workers with ppp_backend pppd; netns `lac`: xl2tpd + pppd) but with NO
# ppp_pool: the LNS's pppd options file carries the addresses
# (198.51.100.200:198.51.100.50, standing in for a radius
# Framed-IP-Address). pppd runs bin/tandem-ip-up when IPCP is up; it reports
# the addresses to the worker and chains to /etc/ppp/ip-up. Checks: Redis
# holds exactly the negotiated addresses, ping crosses the link, the
# operator's ip-up.d script still ran; after kill -9 of the owner, the new
# owner starts pppd with the learned addresses and ping works again. Last,
# with a pool: pppd negotiates an address other than the pool's (the
# subscriber's own, standing in for radius), Redis gets the negotiated one
# and the pool address is released.
# Needs E2E_WORK (a writable directory) and BIN; every wait is bounded.
set -u
[ "${UML_GUEST:-0}" = 1 ] || { echo "run me through tests/e2e/run.sh (inside UML)" >&2; exit 2; }
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$TOP/bin}
W=${E2E_WORK:?E2E_WORK must name a writable directory}
PASS=0 FAIL=0
PIDS=()
LOCAL=198.51.100.200 # the LNS end, from the options file
REMOTE=198.51.100.50 # the subscriber's, from the options file

up() { cut -d' ' -f1 /proc/uptime; }
now() { date +%s.%N; }
ok() { PASS=$((PASS + 1)); echo "  ok: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "  FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
wait_for() { # wait_for SECONDS command...: poll every 0.1 s until a deadline
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
lns() { ip netns exec lns "$@"; }
lac() { ip netns exec lac "$@"; }
rcli() { lns redis-cli -p 6379 "$@"; }

echo "PPP addresses from pppd's options, learned by the ip-up hook (t=$(up))"
for b in tandem-worker tandem-frontend tandem-ip-up clusterctl; do
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

# The addresses come from here, as a radius plugin's would: tandem has no pool.
cat > "$W/lns.ppp" <<EOT
auth
require-chap
name tandem-lns
noccp
nodefaultroute
noproxyarp
$LOCAL:$REMOTE
logfile $W/pppd-lns.log
EOT
echo 'subscriber * s3cret *' > /etc/ppp/chap-secrets
chmod 600 /etc/ppp/chap-secrets
# An operator's ip-up.d script (/etc/ppp is a private copy in the guest):
# the hook must chain to /etc/ppp/ip-up, which runs it. The LAC's pppd runs
# it too; the LNS's lines carry the ipparam <tid>/<sid>.
cat > /etc/ppp/ip-up.d/zz-tandem-e2e <<EOT
#!/bin/sh
echo "\$PPP_IFACE \$PPP_LOCAL \$PPP_REMOTE \$PPP_IPPARAM" >> $W/ip-up-chain.log
EOT
chmod 755 /etc/ppp/ip-up.d/zz-tandem-e2e

sed -e "s/^redis .*/redis 127.0.0.1:6379/" \
    -e "s/^listen .*/listen 192.0.2.1:1701/" \
    -e "s/^ppp_backend .*/ppp_backend pppd/" \
    -e "s|^pppd_options .*|pppd_options $W/lns.ppp|" \
    -e "s|^ppp_pool .*|ppp_pool \"\"|" \
    -e "s/^redis_timeout .*/redis_timeout 2s/" \
    "$TOP/deploy/tandem.conf.example" > "$W/tandem.conf"
grep -q '^ppp_pool ""' "$W/tandem.conf" || die "could not clear ppp_pool"
declare -A WPID MPORT=([w1]=9101 [w2]=9102)
for id in w1 w2; do
	ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem.conf" --id "$id" \
		--metrics "127.0.0.1:${MPORT[$id]}" > "$W/worker-$id.log" 2>&1 &
	WPID[$id]=$!
	PIDS+=($!)
done
FPIDS=()
for id in f1 f2; do
	ip netns exec lns "$BIN/tandem-frontend" -c "$W/tandem.conf" --id "$id" > "$W/frontend-$id.log" 2>&1 &
	PIDS+=($!)
	FPIDS+=($!)
done
owned() { [ "$(rcli hvals tandem:shardmap | grep -c 'owner=w[12] ')" -eq 256 ]; }
spread() {
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w1 ')" -gt 0 ] &&
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w2 ')" -gt 0 ]
}
check "every shard owned" wait_for 15 owned
check "both workers hold shards" wait_for 15 spread
check "two frontends registered" wait_for 10 bash -c "[ \$(ip netns exec lns redis-cli hlen tandem:frontends) -eq 2 ]"
check "the worker runs pppd with the ip-up hook" \
	grep -q "msg=\"PPP backend pppd\" .*pool=- hook=[^ ]*/tandem-ip-up" "$W/worker-w1.log"

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
XL2TPD=$!
sub_addr() { lac ip -4 -o addr show dev ppp0 2>/dev/null | awk '{print $4}' | cut -d/ -f1; }
peer_addr() { lac ip -4 -o addr show dev ppp0 2>/dev/null | awk '{print $6}' | cut -d/ -f1; }
has_addr() { [ -n "$(sub_addr)" ]; }
wait_for 30 has_addr || die "the subscriber's PPP link did not come up"
ADDR=$(sub_addr)
echo "  PPP up after $(awk -v a="$(up)" -v b="$T_START" 'BEGIN {printf "%.2f", a - b}') s: subscriber $ADDR, peer $(peer_addr)"
check "subscriber got the options file's address ($ADDR)" [ "$ADDR" = "$REMOTE" ]
check "the LNS end is the options file's ($(peer_addr))" [ "$(peer_addr)" = "$LOCAL" ]
check "ping across the PPP link" lac ping -c 3 -i 0.2 -W 2 "$LOCAL"

# ---- what the owner learned, and what Redis holds ----
TID=$(rcli --scan --pattern 'tandem:t:*' | head -1 | cut -d: -f3)
[ -n "$TID" ] || die "no tunnel record in Redis"
SID=$(rcli hkeys "tandem:s:$TID" | head -1)
OWNER=$(rcli get "tandem:lease:$((TID / 256))" | sed -n 's/.*owner=\([^ ]*\) .*/\1/p')
case $OWNER in w1) OTHER=w2 ;; w2) OTHER=w1 ;; *) die "tunnel $TID has no live owner ($OWNER)" ;; esac
echo "  tunnel $TID session $SID is owned by $OWNER"
check "$OWNER started pppd without addresses (no pool)" \
	grep -q "msg=\"pppd started\" tid=$TID sid=$SID pid=[0-9]* addrs=-" "$W/worker-$OWNER.log"
learned() {
	grep -q "msg=\"PPP addresses learned from pppd\" tid=$TID sid=$SID local=$LOCAL remote=$REMOTE " \
		"$W/worker-$OWNER.log"
}
check "$OWNER learned the addresses from the ip-up hook" wait_for 10 learned
sessions_json() { lns "$BIN/clusterctl" -c "$W/tandem.conf" --json sessions --tunnel "$TID" 2>/dev/null; }
in_redis() {
	local j; j=$(sessions_json)
	echo "$j" | grep -q "\"ppp_local_address\": *\"$LOCAL\"" &&
	echo "$j" | grep -q "\"ppp_remote_address\": *\"$REMOTE\""
}
check "Redis holds exactly the negotiated addresses" wait_for 5 in_redis
in_redis || echo "  clusterctl sessions: $(sessions_json)"
chained() { grep -q "^ppp[0-9]* $LOCAL $REMOTE $TID/$SID\$" "$W/ip-up-chain.log" 2>/dev/null; }
check "the hook chained to /etc/ppp/ip-up (ip-up.d script ran with pppd's arguments)" wait_for 5 chained
metric() { # metric WORKER RESULT: tandem_worker_ppp_reports_total{result=RESULT}
	lns curl -s --max-time 2 "http://127.0.0.1:${MPORT[$1]}/metrics" |
		awk -v r="tandem_worker_ppp_reports_total{result=\"$2\"}" '$1 == r {print $2}'
}
check "$OWNER counted one learned report" [ "$(metric "$OWNER" learned)" = 1 ]
check "no report dropped" [ "$(metric "$OWNER" wrong_pid)$(metric "$OWNER" malformed)$(metric "$OWNER" unknown_session)" = 000 ]

# ---- kill -9 the owner: the new owner's pppd gets the learned addresses ----
OLD_PPPD=$(pgrep -P "${WPID[$OWNER]}" pppd)
ip netns exec lac ping -D -i 0.1 -W 1 "$LOCAL" > "$W/ping.log" 2>&1 &
PING=$!
PIDS+=($PING)
sleep 1
KILL_AT=$(now)
kill -9 "${WPID[$OWNER]}"
wait "${WPID[$OWNER]}" 2>/dev/null
echo "  killed $OWNER (pid ${WPID[$OWNER]}) at t=$(up)"
restarted() {
	grep -q "msg=\"pppd started\" tid=$TID sid=$SID pid=[0-9]* addrs=$LOCAL:$REMOTE" "$W/worker-$OTHER.log"
}
check "$OTHER started pppd with the learned addresses ($LOCAL:$REMOTE)" wait_for 20 restarted
NEW_PPPD=$(pgrep -P "${WPID[$OTHER]}" pppd)
check "the new pppd's command line carries them" \
	bash -c "tr '\\0' ' ' < /proc/${NEW_PPPD:-0}/cmdline | grep -q ' $LOCAL:$REMOTE '"
RESTART_AT=$(now)
replied_after() {
	awk -v k="$RESTART_AT" -F'[][]' '/bytes from/ && $2 > k {f=1} END {exit !f}' "$W/ping.log"
}
wait_for 40 replied_after
RECOVERED=$?
kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
[ "$RECOVERED" = 0 ] || die "no ping reply within 40 s of the new pppd"
read -r OUTAGE GAP_END <<< "$(awk -F'[][]' '/bytes from/ {
	if (p && $2 - p > g) {g = $2 - p; e = $2} p = $2 }
	END {printf "%.2f %s\n", g, e}' "$W/ping.log")"
SINCE_KILL=$(awk -v a="$GAP_END" -v b="$KILL_AT" 'BEGIN {printf "%.2f", a - b}')
echo "  outage: ${OUTAGE} s without ping replies (the first came back ${SINCE_KILL} s after the kill)"
check "the old pppd is gone" bash -c "! kill -0 ${OLD_PPPD:-0} 2>/dev/null"
check "the subscriber kept its address" [ "$(sub_addr)" = "$REMOTE" ]
check "ping across the PPP link after the takeover" lac ping -c 3 -i 0.2 -W 2 "$LOCAL"
confirmed() { [ "$(metric "$OTHER" unchanged)" = 1 ]; }
check "$OTHER's pppd reported the same addresses (unchanged)" wait_for 5 confirmed
check "$OTHER learned nothing new" [ "$(metric "$OTHER" learned)" = 0 ]
check "Redis still holds the negotiated addresses" in_redis
check "xl2tpd kept its tunnel and call" \
	bash -c "! grep -qiE 'Connection .* closed|disconnect|maximum retries' '$W/xl2tpd.log'"

# ---- a pool, and pppd negotiates another address (as radius would) ----
# Fresh cluster with ppp_pool 198.51.100.0/25: the worker passes pppd the
# pool's 198.51.100.1:198.51.100.2, but the LNS options accept the
# subscriber's own idea (ipcp-accept-remote) and the LAC asks for
# 198.51.100.200. What pppd negotiated wins in Redis; .2 goes back to the pool.
echo "  -- pool address overridden by the negotiation"
kill "$XL2TPD" 2>/dev/null; wait "$XL2TPD" 2>/dev/null
for p in "${WPID[$OTHER]}" "${FPIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
no_pppd() { [ -z "$(pgrep -x pppd)" ]; }
wait_for 15 no_pppd || die "pppds still running after the first cluster stopped"
rcli flushall > /dev/null
POOL=198.51.100.0/25
LOCAL=198.51.100.1 REMOTE=198.51.100.200
sed -e "s|^ppp_pool .*|ppp_pool $POOL|" -e "s|^pppd_options .*|pppd_options $W/lns2.ppp|" \
	"$W/tandem.conf" > "$W/tandem2.conf"
grep -v '^198\.51\.100\.' "$W/lns.ppp" > "$W/lns2.ppp"
echo ipcp-accept-remote >> "$W/lns2.ppp"
sed -e "s/^noipdefault$/$REMOTE:/" -e "s|pppd-lac.log|pppd-lac2.log|" "$W/lac.ppp" > "$W/lac2.ppp"
sed -e "s|$W/lac.ppp|$W/lac2.ppp|" "$W/lac.conf" > "$W/lac2.conf"
ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem2.conf" --id w3 --metrics 127.0.0.1:9103 \
	> "$W/worker-w3.log" 2>&1 &
WPID[w3]=$!
PIDS+=($!)
MPORT[w3]=9103
ip netns exec lns "$BIN/tandem-frontend" -c "$W/tandem2.conf" --id f3 > "$W/frontend-f3.log" 2>&1 &
PIDS+=($!)
w3_all() { [ "$(rcli hvals tandem:shardmap | grep -c 'owner=w3 ')" -eq 256 ]; }
check "w3 owns every shard" wait_for 15 w3_all
fe_up() { [ "$(rcli hlen tandem:frontends)" -ge 1 ]; }
wait_for 10 fe_up || die "frontend f3 did not register"
ip netns exec lac /usr/sbin/xl2tpd -D -c "$W/lac2.conf" -s "$W/l2tp-secrets" -p "$W/xl2tpd2.pid" \
	-C "$W/xl2tpd2.ctl" > "$W/xl2tpd2.log" 2>&1 &
PIDS+=($!)
wait_for 30 has_addr || die "the second PPP link did not come up"
check "the subscriber got the address it asked for ($(sub_addr))" [ "$(sub_addr)" = "$REMOTE" ]
TID=$(rcli --scan --pattern 'tandem:t:*' | head -1 | cut -d: -f3)
SID=$(rcli hkeys "tandem:s:$TID" | head -1)
check "w3 started pppd with the pool's addresses" \
	grep -q "msg=\"pppd started\" tid=$TID sid=$SID pid=[0-9]* addrs=198.51.100.1:198.51.100.2\$" "$W/worker-w3.log"
overridden() {
	grep -q "msg=\"PPP addresses learned from pppd\" tid=$TID sid=$SID local=$LOCAL remote=$REMOTE .* was=198.51.100.2\$" \
		"$W/worker-w3.log"
}
check "w3 learned the negotiated address over the pool's" wait_for 10 overridden
check "Redis holds the negotiated addresses, not the pool's" wait_for 5 in_redis
in_redis || echo "  clusterctl sessions: $(sessions_json)"
released() {
	[ -z "$(rcli hget "tandem:pool:$POOL:holder" 198.51.100.2)" ] &&
	[ -n "$(rcli zscore "tandem:pool:$POOL:free" 198.51.100.2)" ]
}
check "the pool address went back to the pool" wait_for 5 released
check "ping across the PPP link" lac ping -c 3 -i 0.2 -W 2 "$LOCAL"

[ "$FAIL" -gt 0 ] && dump
echo "pppd-learned: $PASS passed, $FAIL failed, outage ${OUTAGE} s after kill -9"
[ "$FAIL" -eq 0 ]
