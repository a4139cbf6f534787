#!/bin/bash
# e2e-host-hog: --cpu 2 --cpu-load 60
# e2e-timeout: 420
# PPP on a busy host, inside User-Mode Linux (tests/e2e/run.sh starts it
# there). The cluster of test_pppd_learned.sh (netns `lns`: redis-server,
# two frontends, two workers with ppp_backend pppd and no pool, the LNS's
# pppd options holding the addresses, learned through the ip-up hook;
# netns `lac`: xl2tpd + pppd), and 5 rounds of kill -9 of the worker that
# owns the call (tests/e2e/lib.sh e2e_takeover_round), each followed by the
# victim's restart and rebalancing by hand-off (which may pass the pty of
# the running pppd to it).
#
# Where the hog runs: the e2e-host-hog line makes tests/e2e/run.sh run
# `stress-ng --cpu 2 --cpu-load 60` on the HOST, both cores, for the whole
# guest. The test body runs inside the guest, but the guest's one CPU is a
# host thread, so the host hog slows everything in it (kernel, workers,
# Redis, pppd, xl2tpd) the way a busy machine does, which is how the lease
# flaps of issue 11 were seen. No hog runs inside the guest by default: in
# a one-CPU guest `--cpu 2` would be a 120 % load on that one CPU, far
# harsher than the issue's hog; E2E_GUEST_HOG="stress-ng args" adds one.
# A slowed guest needs more time than the other tests: the e2e-timeout
# line gives it 420 s, and no round is begun with less than 60 s left.
#
# Each round: PPP answers again within E2E_MAX_OUTAGE of the kill, measured from the
# kill to the first ping reply after it; every event applied: the new
# pppd's ip-up report reaches the new owner and none is dropped, the
# session's record in Redis keeps the learned addresses across the kill and
# across the rebalancing, PPP works after the hand-off. At the end no shard
# flapped (tests/lib/hog.sh flaps_check; counts printed).
. "$(dirname "$0")/lib.sh"
LOCAL=198.51.100.200 # the LNS end, from the options file
REMOTE=198.51.100.50 # the subscriber's, from the options file
ROUNDS=${ROUNDS:-5}
# Issue 11 asks for PPP back within 5 s of the kill, and that is the bound.
# Measured here beside the host hog: 2.79-3.82 s over three runs of
# 2026-12-04 (CI from a clean clone included); 3.30-4.56 s when a second
# hog ran beside the whole make test (2026-12-03). Of that, 0.7-0.95 s
# passes from the survivor seeing its peer's exit to the new pppd running
# (the shard's load itself takes 7-32 ms); the rest is the new pppd and
# PPP's renegotiation in the slowed guest, which the resume without
# renegotiation (issue 17) removes. Every round prints its outage.
E2E_MAX_OUTAGE=${E2E_MAX_OUTAGE:-5}
# A one-CPU guest whose host is busy is the starved host of docs/TAKEOVER.md:
# its Redis was seen to go more than 600 ms without serving a heartbeat, so
# that a worker's liveness lapsed and its peer took its shards mid-hand-off.
# As the docs advise for such a host: lease_ttl 1.5 s, lease_renew 300 ms.
E2E_LEASE_TTL=${E2E_LEASE_TTL:-1500ms}
E2E_LEASE_RENEW=${E2E_LEASE_RENEW:-300ms}
OUTAGES=()

echo "PPP across kill -9 of the call's worker, $ROUNDS rounds, on a busy host (t=$(up))"
if [ -n "${E2E_HOST_HOG:-}" ]; then
	echo "  host CPU hog: stress-ng $E2E_HOST_HOG (tests/e2e/run.sh)"
else
	echo "  no host CPU hog: run me through tests/e2e/run.sh for one"
fi
if [ -n "${E2E_GUEST_HOG:-}" ]; then
	hog_start $E2E_GUEST_HOG || die "no CPU hog in the guest"
	PIDS+=("$HOG_PID")
fi
summary() {
	echo "  outages, kill -9 to the first ping reply after it: ${OUTAGES[*]:-none} (s)"
	flaps_check "$W/kill-windows" "$W/worker-w1.log" "$W/worker-w2.log"
}
E2E_ON_DIE=summary
: > "$W/kill-windows"

e2e_need tandem-worker tandem-frontend tandem-ip-up clusterctl
e2e_two_workers "" "$LOCAL:$REMOTE"
e2e_lac
e2e_ppp_up
check "subscriber got the options file's address ($ADDR)" [ "$ADDR" = "$REMOTE" ]
e2e_owner
check "$OWNER learned the addresses from the ip-up hook" wait_for 10 e2e_learned "$OWNER" "$LOCAL" "$REMOTE"
check "Redis holds the negotiated addresses" wait_for 5 e2e_in_redis "$LOCAL" "$REMOTE"

balanced() {
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w1 ')" -eq 128 ] &&
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w2 ')" -eq 128 ]
}
for round in $(seq "$ROUNDS"); do
	# a round takes 15-30 s: stop before UML_TIMEOUT would cut the summary off
	left=$(awk -v u="$(up)" -v t="${UML_TIMEOUT:-420}" 'BEGIN {printf "%d", t - u}')
	[ "$left" -ge 60 ] || { bad "round $round: only $left s left before UML_TIMEOUT"; break; }
	e2e_owner
	before=$(e2e_metric "$OTHER" unchanged)
	if ! e2e_takeover_round "$round" "$LOCAL" "$LOCAL:$REMOTE"; then
		OUTAGES+=("${OUTAGE:-none}")
		break # PPP is gone: later rounds would measure nothing
	fi
	OUTAGES+=("$OUTAGE")
	reported() { [ "$(e2e_metric "$OTHER" unchanged)" = $((${before:-0} + 1)) ]; }
	check "round $round: the new pppd's report reached $OTHER (unchanged)" wait_for 5 reported
	check "round $round: $OTHER dropped no pppd report" [ "$(e2e_reports_dropped "$OTHER")" = 0 ]
	check "round $round: Redis still holds the learned addresses" wait_for 5 e2e_in_redis "$LOCAL" "$REMOTE"
	# the victim comes back and gets half the shards by hand-off
	e2e_worker "$OWNER" --metrics "127.0.0.1:${MPORT[$OWNER]}"
	check "round $round: $OWNER restarted and rebalanced 128/128 by hand-off" wait_for 20 balanced
	check "round $round: ping across the PPP link after the rebalancing" lac ping -c 3 -i 0.2 -W 2 "$LOCAL"
	check "round $round: Redis still holds the learned addresses after it" wait_for 5 e2e_in_redis "$LOCAL" "$REMOTE"
	sleep 1
done
check "all $ROUNDS rounds ran" [ "${#OUTAGES[@]}" -eq "$ROUNDS" ]
summary
[ -z "${E2E_GUEST_HOG:-}" ] || check "the guest's CPU hog ran for the whole test" kill -0 "$HOG_PID"
echo "E2E_HOG_OUTAGES_S=${OUTAGES[*]}" > "$W/outage.txt"

[ "$FAIL" -gt 0 ] && dump
echo "pppd-hog: $PASS passed, $FAIL failed, outages ${OUTAGES[*]:-none} s after kill -9"
[ "$FAIL" -eq 0 ]
