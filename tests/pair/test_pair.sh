#!/bin/bash
# The redundant pair (issue 7): two LNS hosts in network namespaces, the
# VIP on keepalived, Redis primary/replica under three Sentinels
# (tests/pair/topo.sh). tandem-lac holds 500 tunnels x 10 calls through the
# VIP, a second tandem-lac probes 20 tunnels for the outage, and a real
# xl2tpd LAC holds one tunnel. Then lns-a (VIP, Redis primary, active
# worker) dies: every process SIGKILLed, link down. Checked: the VIP moves
# to lns-b, a Sentinel promotes lns-b's replica, lns-b's worker takes every
# shard, no tunnel or call is lost, xl2tpd's tunnel carries a new call, a
# fresh LAC can open new tunnels and calls. Then lns-a comes back and must
# stay the standby (no VIP, no shards; its Redis a replica), with clusterctl
# status healthy on both hosts, and the load still clean at the end.
# Bounded: a watchdog ends it after PAIR_WATCHDOG (default 330) seconds.
. "$(dirname "$0")/topo.sh"
. "$(dirname "$0")/../lib/hog.sh"
echo "pair: lns-a fails under load, lns-b takes over, lns-a returns as standby (redis: $PAIR_REDIS)"
TUNNELS=${TUNNELS:-500}
SESSIONS=${SESSIONS:-10}
PROBE_TUNNELS=20
PY=/usr/bin/python3

start_watchdog

abort() { bad "$1"; stop_watchdog; finish pair; exit 1; }
why=$(pair_need) || abort "$why"
pair_up || abort "topology did not come up"
echo "  namespaces: ${NS[a]} ... (work dir $WORK)"

# ---- bring the pair up ----
start_sentinel w || abort "witness Sentinel did not start"
start_host a || abort "lns-a did not start"
start_host b || abort "lns-b did not start"
ready_a() { all_owned_by w-a && frontends_registered 2; }
check "lns-a holds the VIP" wait_vip a 15
check "lns-a's worker owns all $SHARDS shards, 2 frontends registered" wait_for 15 ready_a
check "3 Sentinels agree the primary is lns-a (${ADDR[a]})" wait_for 10 sentinels_agree "${ADDR[a]}"
replica_online() { # replica_online PRIMARY REPLICA
	in_ns w redis-cli -h "$1" info replication 2>/dev/null | grep -q "ip=$2,port=6379,state=online"
}
check "lns-b's Redis replicates from lns-a" wait_for 10 replica_online "${ADDR[a]}" "${ADDR[b]}"
quorum_ok() { in_ns w redis-cli -p 26379 sentinel ckquorum tandem 2>/dev/null | grep -q '^OK 3 usable'; }
check "Sentinel quorum: 3 usable Sentinels" wait_for 10 quorum_ok
check "keepalived check passes on lns-a" frontend_healthy a
check "keepalived check passes on lns-b (the standby frontend is ready on the VIP)" frontend_healthy b
check "clusterctl status healthy (lns-a)" clusterctl_on a status >/dev/null
CHK=$TOP/deploy/keepalived/tandem-check-frontend
check "the check fails where no frontend answers (lac), saying why" \
	bash -c "! ip netns exec ${NS[l]} $CHK --metrics $FE_METRICS --maintenance-file '' 2>$WORK/chk.err && grep -q 'no answer' $WORK/chk.err"
check "the check fails while the maintenance flag is set, saying why" \
	bash -c "touch $WORK/flag; ! ip netns exec ${NS[a]} $CHK --metrics $FE_METRICS --maintenance-file $WORK/flag 2>$WORK/chk.err && grep -q 'maintenance' $WORK/chk.err"
[ "$FAIL" -eq 0 ] || abort "the pair did not come up; not going on"

# ---- load ----
# The main load: 500 x 10 calls held until told to stop (SIGTERM begins the
# normal end of run: CDN, StopCCN, report). --duration is only a bound.
# A HELLO after 2 s without traffic: every tunnel has a message in flight
# across the failure, which only the retransmission to lns-b can deliver.
start_lac_load load --tunnels "$TUNNELS" --sessions "$SESSIONS" --duration 280 \
	--hello 2 --log-level warn
LOAD=$LAST_PID
# The probe: 20 tunnels; SIGUSR1 at the failure sends a HELLO on each,
# retransmitted at most 0.2 s apart, and reports when each was acknowledged
# again (docs/LAC.md). 100 retries (tandem-lac's most) cover a 20 s outage.
start_lac_load probe --tunnels "$PROBE_TUNNELS" --sessions 1 --probe --hello 0 \
	--retransmit 0.05 --retransmit-max 0.2 --retries 100 --duration 280 --log-level warn
PROBE=$LAST_PID
start_xl2tpd
XL=$LAST_PID

sessions_total() { # checkpointed sessions, per clusterctl on HOST
	clusterctl_on "$1" status --json 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["totals"]["sessions"])' 2>/dev/null
}
sessions_at_least() { local n; n=$(sessions_total "$1"); [ -n "$n" ] && [ "$n" -ge "$2" ]; }
ALL=$((TUNNELS * SESSIONS + PROBE_TUNNELS))
t0=$(now_ms)
if wait_for 90 sessions_at_least a "$ALL"; then
	ok "all $((TUNNELS * SESSIONS)) load calls (+ $PROBE_TUNNELS probe calls) up in $(($(now_ms) - t0)) ms"
else
	abort "calls not all up: $(sessions_total a) of $ALL checkpointed"
fi
check "xl2tpd's tunnel and first call are up" wait_for 15 grep -q 'Call established' "$WORK/l/xl2tpd/xl2tpd.log"
check "the LACs are still running" bash -c "kill -0 $LOAD && kill -0 $PROBE && kill -0 $XL"

# ---- a busy host is not a failure ----
# Both "hosts" share this machine's two cores: a CPU hog on both, for
# PAIR_HOG_S seconds under the full load, must move nothing: no VRRP state
# change, no Sentinel that thinks the primary is down, no worker whose
# liveness or lease lapses.
count_lines() { cat "$@" 2>/dev/null | grep -cE "$PAT"; }
flaps() {
	PAT='Entering (MASTER|BACKUP|FAULT) STATE' count_lines "$WORK"/[ab]/keepalived.log
	PAT='\+(sdown|odown) master|\+switch-master' count_lines "$WORK"/[abw]/sentinel.log
	PAT='liveness lapsed|shard lease lapsed|shard dropped' count_lines "$WORK"/[ab]/worker.log
}
before=$(flaps | tr '\n' ' ')
HOG_TIMEOUT=$((${PAIR_HOG_S:-20} + 30)) hog_start || abort "no CPU hog (stress-ng)"
sleep "${PAIR_HOG_S:-20}"
hog_stop
after=$(flaps | tr '\n' ' ')
log "under the CPU hog: VRRP state changes, Sentinel down/switch lines, worker lapses: before $before/ after $after"
check "CPU hog on both cores for ${PAIR_HOG_S:-20} s: no VRRP, Sentinel or lease flap" [ "$before" = "$after" ]
check "... and the VIP stayed on lns-a" vip_is a
sleep 1

# ---- lns-a fails ----
log "failing lns-a: SIGKILL of every process in it (Redis primary, Sentinel, keepalived, frontend, worker), link down"
T_FAIL=$(now_ms)
fail_host a kill -USR1 "$PROBE" # the probe round begins right at the kill
log "lns-a is down (link down, nothing left running there)"
since() { echo $(($(now_ms) - T_FAIL)); }

promoted() { [ "$(sentinel_primary w)" = "${ADDR[b]}" ] && [ "$(sentinel_primary b)" = "${ADDR[b]}" ] &&
	in_ns b timeout 1 redis-cli role 2>/dev/null | head -1 | grep -qx master; }
# watch the three steps at once, noting when each is first seen (30 s bound)
rm -f "$WORK"/t.*
watch_ms "$WORK/t.vip" "$T_FAIL" 30 vip_is b
watch_ms "$WORK/t.promoted" "$T_FAIL" 30 promoted
watch_ms "$WORK/t.shards" "$T_FAIL" 30 all_owned_by w-b
watch_wait
T_VIP=$(cat "$WORK/t.vip" 2>/dev/null)
T_PROMOTED=$(cat "$WORK/t.promoted" 2>/dev/null)
T_SHARDS=$(cat "$WORK/t.shards" 2>/dev/null)
if [ -n "$T_VIP" ]; then ok "VIP on lns-b $T_VIP ms after the failure"; else bad "VIP not on lns-b (holder: $(vip_holder))"; fi
if [ -n "$T_PROMOTED" ]; then
	ok "Sentinels promoted lns-b's replica $T_PROMOTED ms after the failure (get-master-addr-by-name: $(sentinel_primary w))"
else
	bad "lns-b's Redis not promoted (Sentinels say: $(sentinel_primary w) / $(sentinel_primary b))"
fi
if [ -n "$T_SHARDS" ]; then
	ok "lns-b's worker owns all $SHARDS shards $T_SHARDS ms after the failure"
else
	bad "lns-b's worker owns $(owned_by w-b) of $SHARDS shards 30 s after the failure"
fi
check "lns-b's frontend still passes the keepalived check" frontend_healthy b
# The takeover held every lease it took: none lapsed (a lapse holds the
# shard's output; WAITs stacked behind a missing replica once caused them)
no_lapse() { ! grep -q 'shard lease lapsed' "$WORK/b/worker.log"; }
check "no shard lease of lns-b's worker lapsed (redis_wait_replicas 1, replica gone)" no_lapse

# every calls' checkpoint is still there, and the LAC gets answers again:
# the probe's tunnels all answered
sleep 3
n=$(sessions_total b)
check "all calls still checkpointed after the takeover ($n of >= $ALL)" sessions_at_least b "$ALL"

# xl2tpd: a new call on the tunnel it already has
c0=$(xl2tpd_calls)
xl2tpd_call
check "xl2tpd placed a new call on its tunnel after the failover" \
	wait_for 15 bash -c "[ \$(grep -c 'Call established' '$WORK/l/xl2tpd/xl2tpd.log') -gt $c0 ]"
check "xl2tpd never gave up on its tunnel" bash -c "! grep -qiE 'maximum retries exceeded|Connection .* closed' '$WORK/l/xl2tpd/xl2tpd.log'"

# new tunnels and calls after the failover
start_lac_load fresh --tunnels 5 --sessions 4 --setup-timeout 20
FRESH=$LAST_PID
if wait_for 30 eval "! kill -0 $FRESH 2>/dev/null"; then
	wait "$FRESH"; rc=$?
	check "a fresh tandem-lac (5 x 4) after the failover exits 0" [ "$rc" -eq 0 ]
	check "fresh report: 5 tunnels, 20 calls, nothing failed" lac_report_clean "$WORK/l/fresh.json" 5 20
else
	bad "the fresh tandem-lac did not finish in 30 s"
	kill "$FRESH" 2>/dev/null
fi

# the outage: end the probe (its report has the round begun at the failure)
kill -TERM "$PROBE" 2>/dev/null
wait_for 20 eval "! kill -0 $PROBE 2>/dev/null"
wait "$PROBE" 2>/dev/null
OUTAGE=$($PY - "$WORK/l/probe.json" <<'PY'
import json, sys
try:
    p = json.load(open(sys.argv[1]))["probes"][0]
except Exception as e:
    print("none no-probe-round"); sys.exit()
print(p["max_ms"] if p["max_ms"] is not None else "none",
      "tunnels=%d answered=%d unanswered=%d p50_ms=%s p99_ms=%s max_ms=%s" % (
      p["tunnels"], p["answered"], p["unanswered"], p["p50_ms"], p["p99_ms"], p["max_ms"]))
PY
)
echo "    probe (HELLO at the failure, retransmitted every <= 0.2 s): ${OUTAGE#* }"
check "every probed tunnel answered again after the failover" \
	bash -c "echo '$OUTAGE' | grep -q 'answered=$PROBE_TUNNELS unanswered=0'"
echo "    OUTAGE seen by the LAC: ${OUTAGE%% *} ms (failure of lns-a until the last probed tunnel was answered)"
# The goal for a whole host lost: VRRPv3 at 0.3 s moves the VIP in ~1.1 s,
# Sentinel (down-after 500 ms) promotes in 1.0-1.5 s and the workers take
# the promoted replica as soon as it answers ROLE master.
within_2s() { awk -v v="${OUTAGE%% *}" 'BEGIN { exit !(v != "none" && v + 0 <= 2000) }'; }
check "the LAC's outage is at most 2 s (${OUTAGE%% *} ms)" within_2s

# ---- lns-a returns ----
log "restoring lns-a: link up, Redis as a replica of $(primary_addr), Sentinel, worker, frontend, keepalived"
restore_host a || bad "lns-a did not come back up"
check "lns-a's Redis replicates from lns-b" wait_for 15 replica_online "${ADDR[b]}" "${ADDR[a]}"
check "all 3 Sentinels name lns-b the primary" wait_for 10 sentinels_agree "${ADDR[b]}"
check "Sentinel quorum: 3 usable Sentinels again" wait_for 10 quorum_ok
ka_backup() { [ "$(vrrp_state a)" = BACKUP ] && frontend_healthy a; }
check "lns-a's keepalived is BACKUP and its frontend healthy" wait_for 15 ka_backup
# nopreempt: the VIP must stay on lns-b although lns-a has the higher priority
stays_b() { for _ in $(seq 60); do vip_is b || return 1; sleep 0.1; done; }
check "the VIP stays on lns-b (no fail-back) for 6 s" stays_b
check "lns-b's worker keeps all $SHARDS shards" all_owned_by w-b
w_a_standby() { [ "$(owned_by w-a)" = 0 ] && frontends_registered 2 &&
	clusterctl_on b workers --json 2>/dev/null | $PY -c '
import json, sys
w = {x["id"]: x for x in json.load(sys.stdin)["workers"]}
sys.exit(0 if w.get("w-a", {}).get("alive") and w.get("w-b", {}).get("alive") else 1)'; }
check "lns-a's worker is back, alive, owning nothing (standby)" wait_for 10 w_a_standby
check "clusterctl status healthy (lns-b)" wait_for 10 eval 'clusterctl_on b status >/dev/null'
check "clusterctl status healthy (lns-a)" wait_for 10 eval 'clusterctl_on a status >/dev/null'
[ "$FAIL" -eq 0 ] || clusterctl_on a status 2>&1 | sed 's/^/    a| /'

# ---- end of the load ----
kill -TERM "$LOAD" 2>/dev/null
if wait_for 60 eval "! kill -0 $LOAD 2>/dev/null"; then
	wait "$LOAD"; rc=$?
	check "the load LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
else
	bad "the load LAC did not finish within 60 s of SIGTERM"
fi
check "load report: $TUNNELS tunnels and $((TUNNELS * SESSIONS)) calls survived, none lost or failed" \
	lac_report_clean "$WORK/l/load.json" "$TUNNELS" "$((TUNNELS * SESSIONS))"
check "xl2tpd still never gave up on its tunnel" bash -c "! grep -qiE 'maximum retries exceeded|Connection .* closed' '$WORK/l/xl2tpd/xl2tpd.log'"

# ---- planned move: the maintenance flag ----
# What an operator or a rolling upgrade does before stopping lns-b's
# frontend: the check fails, keepalived goes to FAULT, the VIP moves.
on lns-b 'touch /run/tandem/frontend.maintenance'
t0=$(now_ms)
if wait_vip a 10; then ok "maintenance flag on lns-b: the VIP moved to lns-a in $(($(now_ms) - t0)) ms (lns-b: $(vrrp_state b))"; else bad "maintenance flag on lns-b: VIP holder is $(vip_holder)"; fi
on lns-b 'rm /run/tandem/frontend.maintenance'
b_backup() { [ "$(vrrp_state b)" = BACKUP ] && frontend_healthy b; }
check "flag removed: lns-b's keepalived back to BACKUP" wait_for 10 b_backup
stays_a() { for _ in $(seq 30); do vip_is a || return 1; sleep 0.1; done; }
check "the VIP stays on lns-a (no fail-back) for 3 s" stays_a
stop_watchdog
finish pair
