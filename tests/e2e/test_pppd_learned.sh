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
. "$(dirname "$0")/lib.sh"
LOCAL=198.51.100.200 # the LNS end, from the options file
REMOTE=198.51.100.50 # the subscriber's, from the options file

echo "PPP addresses from pppd's options, learned by the ip-up hook (t=$(up))"
e2e_need tandem-worker tandem-frontend tandem-ip-up clusterctl
# An operator's ip-up.d script (/etc/ppp is a private copy in the guest):
# the hook must chain to /etc/ppp/ip-up, which runs it. The LAC's pppd runs
# it too; the LNS's lines carry the ipparam <tid>/<sid>.
cat > /etc/ppp/ip-up.d/zz-tandem-e2e <<EOT
#!/bin/sh
echo "\$PPP_IFACE \$PPP_LOCAL \$PPP_REMOTE \$PPP_IPPARAM" >> $W/ip-up-chain.log
EOT
chmod 755 /etc/ppp/ip-up.d/zz-tandem-e2e
# The addresses come from the LNS's pppd options, as a radius plugin's
# would: tandem has no pool.
e2e_two_workers "" "$LOCAL:$REMOTE"
check "the worker runs pppd with the ip-up hook" \
	grep -q "msg=\"PPP backend pppd\" .*pool=- hook=[^ ]*/tandem-ip-up" "$W/worker-w1.log"

e2e_lac
e2e_ppp_up
check "subscriber got the options file's address ($ADDR)" [ "$ADDR" = "$REMOTE" ]
check "the LNS end is the options file's ($(peer_addr))" [ "$(peer_addr)" = "$LOCAL" ]
check "ping across the PPP link" lac ping -c 3 -i 0.2 -W 2 "$LOCAL"

# ---- what the owner learned, and what Redis holds ----
e2e_owner
check "$OWNER started pppd without addresses (no pool)" \
	grep -q "msg=\"pppd started\" tid=$TID sid=$SID pid=[0-9]* addrs=-" "$W/worker-$OWNER.log"
check "$OWNER learned the addresses from the ip-up hook" wait_for 10 e2e_learned "$OWNER" "$LOCAL" "$REMOTE"
check "Redis holds exactly the negotiated addresses" wait_for 5 e2e_in_redis "$LOCAL" "$REMOTE"
e2e_in_redis "$LOCAL" "$REMOTE" || echo "  clusterctl sessions: $(e2e_sessions_json)"
chained() { grep -q "^ppp[0-9]* $LOCAL $REMOTE $TID/$SID\$" "$W/ip-up-chain.log" 2>/dev/null; }
check "the hook chained to /etc/ppp/ip-up (ip-up.d script ran with pppd's arguments)" wait_for 5 chained
check "$OWNER counted one learned report" [ "$(e2e_metric "$OWNER" learned)" = 1 ]
check "no report dropped" [ "$(e2e_reports_dropped "$OWNER")" = 0 ]

# ---- kill -9 the owner: the new owner's pppd gets the learned addresses ----
e2e_takeover_round 1 "$LOCAL" "$LOCAL:$REMOTE" || die "PPP did not come back after kill -9 of $OWNER"
check "the new pppd's command line carries them" \
	bash -c "tr '\\0' ' ' < /proc/${NEW_PPPD:-0}/cmdline | grep -q ' $LOCAL:$REMOTE '"
confirmed() { [ "$(e2e_metric "$OTHER" unchanged)" = 1 ]; }
check "$OTHER's pppd reported the same addresses (unchanged)" wait_for 5 confirmed
check "$OTHER learned nothing new" [ "$(e2e_metric "$OTHER" learned)" = 0 ]
check "Redis still holds the negotiated addresses" e2e_in_redis "$LOCAL" "$REMOTE"

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
ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem2.conf" --id w3 --metrics "127.0.0.1:${MPORT[w3]}" \
	> "$W/worker-w3.log" 2>&1 &
WPID[w3]=$!
PIDS+=($!)
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
check "Redis holds the negotiated addresses, not the pool's" wait_for 5 e2e_in_redis "$LOCAL" "$REMOTE"
e2e_in_redis "$LOCAL" "$REMOTE" || echo "  clusterctl sessions: $(e2e_sessions_json)"
released() {
	[ -z "$(rcli hget "tandem:pool:$POOL:holder" 198.51.100.2)" ] &&
	[ -n "$(rcli zscore "tandem:pool:$POOL:free" 198.51.100.2)" ]
}
check "the pool address went back to the pool" wait_for 5 released
check "ping across the PPP link" lac ping -c 3 -i 0.2 -W 2 "$LOCAL"

[ "$FAIL" -gt 0 ] && dump
echo "pppd-learned: $PASS passed, $FAIL failed, outage ${OUTAGE} s after kill -9"
[ "$FAIL" -eq 0 ]
