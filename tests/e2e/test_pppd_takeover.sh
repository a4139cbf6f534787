#!/bin/bash
# PPP end to end, inside User-Mode Linux (tests/e2e/run.sh starts it there):
# netns `lns` runs redis-server, two frontends and two workers with
# ppp_backend pppd and ppp_pool 198.51.100.0/24; netns `lac` runs xl2tpd as
# the LAC with its pppd (kernel pppol2tp), over a veth pair in 192.0.2.0/24.
# The subscriber authenticates with CHAP, gets its address from tandem's
# pool, and pings the LNS side of the link. Then the worker owning the
# tunnel is killed with SIGKILL: the tunnel and the session stay, the other
# worker starts a fresh pppd in the same session with the same addresses,
# PPP renegotiates, and the ping gets through again within 5 s. Prints the
# outage, from the kill to the first ping reply after it.
# Last, a third worker joins and the owner is drained (SIGTERM): the pty of
# the running pppd is handed to the successor, so PPP does not renegotiate.
. "$(dirname "$0")/lib.sh"
SUB=198.51.100.1 # the LNS end of every PPP link (the pool's .1)

echo "PPP through pppd across kill -9 of the tunnel's worker (t=$(up))"
e2e_need tandem-worker tandem-frontend
e2e_two_workers 198.51.100.0/24
grep -q 'PPP backend pppd' "$W/worker-w1.log" || die "worker did not select the pppd backend"

e2e_lac
e2e_ppp_up
case $ADDR in 198.51.100.*) ok "subscriber address from tandem's pool ($ADDR)" ;;
	*) bad "subscriber address $ADDR is not from 198.51.100.0/24" ;; esac
check "tandem's pppd authenticated the subscriber (CHAP)" grep -q 'CHAP authentication succeeded' "$W/pppd-lac.log"
check "ping across the PPP link" lac ping -c 3 -i 0.2 -W 2 "$SUB"

# ---- who owns the tunnel ----
e2e_owner
check "the pool records the session as the holder" \
	[ "$(rcli hget 'tandem:pool:198.51.100.0/24:holder' "$ADDR")" = "$TID/$SID" ]

# ---- kill -9 the owner under a running ping (test_pppd_hog.sh: 5 rounds
# beside a CPU hog) ----
e2e_takeover_round 1 "$SUB" || die "PPP did not come back after kill -9 of $OWNER"
echo "E2E_OUTAGE_S=$OUTAGE" > "$W/outage.txt"

# ---- graceful drain to a worker on the same host: the pty is handed over ----
# w3 joins and rebalancing hands it half the shards (perhaps the tunnel's);
# then whoever owns the tunnel gets SIGTERM and hands its shards to the
# other. Both hand-offs pass the pty of the session's pppd over SCM_RIGHTS:
# the same pppd keeps serving, no new pppd, no new CHAP round on the LAC.
LNS_PPPD=$(e2e_session_pppd)
CHAP_BEFORE=$(grep -c 'CHAP authentication succeeded: ' "$W/pppd-lac.log")
e2e_worker w3
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
