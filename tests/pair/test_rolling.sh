#!/bin/bash
# A rolling upgrade of the redundant pair under load (issue 7), the way
# docs/OPERATIONS.md tells an operator to do it. lns-a and lns-b
# (tests/pair/topo.sh) run the previous release, built from git
# (PAIR_UPGRADE_FROM, default 4963cee) and installed on each host with
# `make install install-systemd`; their frontend and worker run from the
# installed systemd units (tests/pair/bin/systemctl runs the units' own
# command lines, as their User= and capabilities). tandem-lac holds 500
# tunnels x 10 calls through the VIP, a second tandem-lac keeps placing new
# calls (--churn), xl2tpd holds one more tunnel. Then, from the admin host
# wit, deploy/rolling-upgrade installs this tree's build on lns-a and lns-b
# over ssh (tests/pair/bin/ssh) and restarts one process at a time. Checked:
# it exits 0, every process runs the new version, the cluster is healthy,
# no tunnel was dropped and no call setup failed, xl2tpd's tunnel still
# takes calls. Bounded: a watchdog ends it after PAIR_WATCHDOG seconds.
. "$(dirname "$0")/topo.sh"
OLD_REV=${PAIR_UPGRADE_FROM:-4963cee}
TUNNELS=${TUNNELS:-500}
SESSIONS=${SESSIONS:-10}
CHURN_TUNNELS=10
CHURN_SESSIONS=4
PY=/usr/bin/python3
echo "pair: rolling upgrade from $OLD_REV to this build under load"

start_watchdog
abort() { bad "$1"; stop_watchdog; finish rolling; exit 1; }
why=$(pair_need) || abort "$why"
for c in jq setpriv unshare make git; do
	command -v "$c" >/dev/null || abort "missing $c"
done

# ---- the two builds ----
# The previous release from git (a clean clone has the history; a shallow
# one is deepened), built in the work directory with its own version.
if ! git -C "$TOP" cat-file -e "$OLD_REV^{commit}" 2>/dev/null &&
	[ "$(git -C "$TOP" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
	git -C "$TOP" fetch -q --unshallow 2>/dev/null
fi
git -C "$TOP" cat-file -e "$OLD_REV^{commit}" 2>/dev/null || abort "no commit $OLD_REV in $TOP (needs the git history)"
OLD_SRC=$WORK/src-old
OLD_VER=$(git -C "$TOP" rev-parse --short=7 "$OLD_REV")
mkdir -p "$OLD_SRC"
git -C "$TOP" archive "$OLD_REV" | tar -x -C "$OLD_SRC" || abort "git archive $OLD_REV failed"
t0=$(now_ms)
# (a clean environment: make's and the test's variables, BIN above all,
# would point the old build at this tree's binaries)
env -i PATH="$PATH" HOME="${HOME:-/root}" make -s -C "$OLD_SRC" -j2 all VERSION="$OLD_VER" >"$WORK/build-old.log" 2>&1 ||
	abort "building $OLD_REV failed (see $WORK/build-old.log)"
echo "  built $OLD_REV (version $OLD_VER) in $(($(now_ms) - t0)) ms"
NEW_VER=$("$BIN/tandem-worker" --version | awk '{print $2}')
[ -n "$NEW_VER" ] && [ "$NEW_VER" != "$OLD_VER" ] || abort "this build's version ($NEW_VER) must differ from $OLD_VER"
echo "  new build: $TOP (version $NEW_VER)"

pair_up || abort "topology did not come up"
echo "  namespaces: ${NS[a]} ... (work dir $WORK)"

# ---- each host: its configuration, the old release installed, units ----
# /usr/src/tandem on a host is the release to install there; tandem.conf
# and the units' env files are the host's own /etc/tandem.
for h in a b; do
	tandem_conf "$h"
	etc=$WORK/$h/root/etc/tandem
	printf 'TANDEM_FRONTEND_ID=f-%s\nTANDEM_FRONTEND_ARGS=--metrics %s\n' "$h" "$FE_METRICS" >"$etc/frontend.env"
	printf 'TANDEM_WORKER_ARGS=--metrics %s\n' "$WK_METRICS" >"$etc/worker-w-$h.env"
	ln -sfn "$OLD_SRC" "$WORK/$h/root/usr/src/tandem"
done
tandem_conf w
ln -sfn "$TOP" "$WORK/w/root/usr/src/tandem"
logged() { local f=$1; shift; "$@" >"$f" 2>&1; } # logged FILE cmd...
check "lns-a: the old release installs (make install install-systemd)" \
	logged "$WORK/a/install.log" on lns-a 'cd /usr/src/tandem && make install install-systemd PREFIX=/usr/local'
check "lns-b: the old release installs" \
	logged "$WORK/b/install.log" on lns-b 'cd /usr/src/tandem && make install install-systemd PREFIX=/usr/local'
check "wit (admin host): this build's clusterctl installs" \
	logged "$WORK/w/install.log" on wit 'cd /usr/src/tandem && make install PREFIX=/usr/local'
runs() { [ "$(on "$1" 'tandem-worker --version')" = "tandem-worker $2" ]; }
[ -x "$OLD_SRC/bin/tandem-worker" ] || abort "the old build has no bin/tandem-worker (see $WORK/build-old.log)"
check "lns-a's installed tandem-worker --version says $OLD_VER" runs lns-a "$OLD_VER"
[ "$FAIL" -eq 0 ] || abort "installation failed; not going on"

start_sentinel w || abort "witness Sentinel did not start"
start_redis a && start_sentinel a || abort "lns-a's Redis did not start"
start_redis b --replicaof "${ADDR[a]}" && start_sentinel b || abort "lns-b's Redis did not start"
check "lns-a: systemctl start tandem-frontend tandem-worker@w-a" \
	on lns-a 'systemctl start tandem-frontend tandem-worker@w-a'
check "lns-b: systemctl start tandem-frontend tandem-worker@w-b" \
	on lns-b 'systemctl start tandem-frontend tandem-worker@w-b'
start_keepalived a
start_keepalived b
ready_a() { all_owned_by w-a && frontends_registered 2; }
check "lns-a holds the VIP" wait_vip a 15
check "lns-a's worker owns all $SHARDS shards, 2 frontends registered" wait_for 15 ready_a
check "systemctl is-active tandem-worker@w-a on lns-a" on lns-a 'systemctl is-active tandem-worker@w-a'
healthy() { on wit 'clusterctl -c /etc/tandem/tandem.conf status' >"$WORK/status.out" 2>&1; }
check "clusterctl status on the admin host: healthy" wait_for 20 healthy
sed 's/^/    | /' "$WORK/status.out"

# What docs/OPERATIONS.md has the operator look at, as it says.
quorum() { on wit 'redis-cli -p 26379 sentinel ckquorum tandem' | grep -q '^OK 3 usable Sentinels'; }
check "redis-cli sentinel ckquorum: OK, 3 usable Sentinels" quorum
primary_is_a() { [ "$(on wit 'redis-cli -p 26379 sentinel get-master-addr-by-name tandem' | head -1)" = "${ADDR[a]}" ]; }
check "redis-cli sentinel get-master-addr-by-name: lns-a" primary_is_a
replica_up() { on lns-b 'redis-cli info replication' | tr -d '\r' | grep -qx 'master_link_status:up'; }
check "redis-cli info replication on lns-b: a replica, link up" replica_up
workers_listed() {
	on wit 'clusterctl -c /etc/tandem/tandem.conf workers' >"$WORK/workers.out" 2>&1 &&
		grep -q '^ *w-a .* yes' "$WORK/workers.out" && grep -q '^ *w-b .* yes' "$WORK/workers.out"
}
check "clusterctl workers lists w-a and w-b alive" workers_listed
metric() { on lns-a 'curl -s http://127.0.0.1:9102/metrics' | awk -v m="$1" '$1 == m {print $2}'; }
# (until the replica's first sync ends, WAIT comes back short: the worker
# looks again every few lease periods)
not_degraded() { [ "$(metric tandem_worker_replication_degraded)" = 0 ]; }
check "worker metrics: replication not degraded (tandem_worker_replication_degraded 0)" \
	wait_for 10 not_degraded
reloaded() {
	on lns-a 'systemctl reload tandem-worker@w-a' &&
		wait_for 5 grep -q 'config reloaded' "$WORK/a/systemctl/tandem-worker@w-a.service.log"
}
check "systemctl reload tandem-worker@w-a: the worker re-reads tandem.conf" reloaded
versions() { # versions: "frontends f-a=V f-b=V workers w-a=V w-b=V"
	on wit 'clusterctl -c /etc/tandem/tandem.conf --json status' 2>/dev/null | jq -r \
		'"frontends " + ([.frontends[] | select(.alive) | .id + "=" + (.version // "?")] | sort | join(" ")) +
		 " workers " + ([.workers[] | select(.alive) | .id + "=" + (.version // "?")] | sort | join(" "))'
}
all_at() { [ "$(versions)" = "frontends f-a=$1 f-b=$1 workers w-a=$1 w-b=$1" ]; }
check "every process runs $OLD_VER ($(versions))" all_at "$OLD_VER"
[ "$FAIL" -eq 0 ] || abort "the pair did not come up; not going on"

# ---- load ----
start_lac_load load --tunnels "$TUNNELS" --sessions "$SESSIONS" --duration 280 \
	--hello 2 --log-level warn
LOAD=$LAST_PID
# new calls all through the upgrade: each call is cleared after 1 s and a
# new one placed on its slot
start_lac_load churn --tunnels "$CHURN_TUNNELS" --sessions "$CHURN_SESSIONS" --hold 1 --churn \
	--duration 280 --hello 2 --log-level warn
CHURN=$LAST_PID
start_xl2tpd
sessions_total() {
	on wit 'clusterctl -c /etc/tandem/tandem.conf --json status' 2>/dev/null | jq -r '.totals.sessions' 2>/dev/null
}
up_at_least() { local n; n=$(sessions_total); [ -n "$n" ] && [ "$n" -ge "$1" ]; }
ALL=$((TUNNELS * SESSIONS))
t0=$(now_ms)
if wait_for 90 up_at_least "$ALL"; then
	ok "the $ALL load calls are up in $(($(now_ms) - t0)) ms ($(sessions_total) calls checkpointed)"
else
	abort "calls not all up: $(sessions_total) of $ALL checkpointed"
fi
check "xl2tpd's tunnel and first call are up" wait_for 15 grep -q 'Call established' "$WORK/l/xl2tpd/xl2tpd.log"
sleep 1

# ---- the upgrade, from the admin host ----
for h in a b; do ln -sfn "$TOP" "$WORK/$h/root/usr/src/tandem"; done
log "rolling upgrade: lns-a then lns-b, worker then frontend"
# how long the VIP is on neither host, sampled every 0.1 s while it runs
vip_gaps() { # vip_gaps FLAG OUT: the longest stretch without a holder, ms
	local start="" longest=0 t n=0
	while [ -e "$1" ] && [ $n -lt 1500 ]; do
		t=$(now_ms)
		if [ "$(vip_holder)" = none ]; then
			[ -n "$start" ] || start=$t
			[ $((t - start)) -gt $longest ] && longest=$((t - start))
		else
			start=""
		fi
		n=$((n + 1))
		sleep 0.1
	done
	echo "$longest" >"$2"
}
touch "$WORK/upgrading"
vip_gaps "$WORK/upgrading" "$WORK/vip-gap" &
GAPS=$!
t0=$(now_ms)
on wit 'cd /usr/src/tandem && deploy/rolling-upgrade -c /etc/tandem/tandem.conf --install "cd /usr/src/tandem && make install install-systemd PREFIX=/usr/local" --vip 192.0.2.10 lns-a:worker=w-a,frontend=f-a lns-b:worker=w-b,frontend=f-b' \
	>"$WORK/rolling-upgrade.log" 2>&1
rc=$?
T_UPGRADE=$(($(now_ms) - t0))
rm -f "$WORK/upgrading"
wait "$GAPS"
VIP_GAP=$(cat "$WORK/vip-gap")
sed 's/^/    | /' "$WORK/rolling-upgrade.log"
check "deploy/rolling-upgrade exits 0 after $T_UPGRADE ms" [ "$rc" -eq 0 ]
check "every process runs $NEW_VER ($(versions))" all_at "$NEW_VER"
check "clusterctl status: healthy" wait_for 20 healthy
sed 's/^/    | /' "$WORK/status.out"
check "keepalived's check, installed by the new release, passes on lns-a" \
	on lns-a '/usr/local/libexec/tandem/tandem-check-frontend --metrics 127.0.0.1:9101 --maintenance-file /run/tandem/frontend.maintenance'

# Taking one worker out by hand (docs/OPERATIONS.md): drain, start again.
check "clusterctl drain w-a: its shards go to w-b" on wit 'clusterctl -c /etc/tandem/tandem.conf drain w-a'
check "w-b owns every shard" all_owned_by w-b
check "systemctl start tandem-worker@w-a: back as the standby" on lns-a 'systemctl start tandem-worker@w-a'
check "clusterctl status healthy" wait_for 20 healthy
check "lns-b's installed tandem-worker --version says $NEW_VER" runs lns-b "$NEW_VER"
status_active() { on lns-b 'systemctl status tandem-worker@w-b' | grep -q 'Active: active'; }
check "systemctl status tandem-worker@w-b on lns-b: active" status_active
one_vip() { case $(vip_holder) in a | b) return 0 ;; esac; return 1; }
check "the VIP is held by exactly one host" wait_for 5 one_vip
# Each frontend hands the VIP over by resigning (priority 0); a peer that
# missed it would take it only after the master-down interval (~3.6 s).
check "the VIP was on no host for at most $VIP_GAP ms in a row (bound 2500)" [ "$VIP_GAP" -le 2500 ]

# ---- a step that fails stops the run and says where ----
# A release whose worker refuses the host's configuration (here: a key it
# does not know): lns-a's worker is drained, then cannot start; the run
# stops there and lns-b is not touched. The cluster keeps serving on lns-b.
CONF_A=$(conf_of a)
cp -p "$CONF_A" "$WORK/a/tandem.conf.good"
pid_b=$(cat "$WORK/b/systemctl/tandem-worker@w-b.service.pid")
on wit 'cd /usr/src/tandem && deploy/rolling-upgrade -c /etc/tandem/tandem.conf --install "echo no_such_key 1 >>/etc/tandem/tandem.conf" --timeout 20 lns-a:worker=w-a,frontend=f-a lns-b:worker=w-b,frontend=f-b' \
	>"$WORK/rolling-upgrade-fail.log" 2>&1
rc=$?
sed 's/^/    | /' "$WORK/rolling-upgrade-fail.log" | grep -v '  ts='
check "a failing step: rolling-upgrade exits 1" [ "$rc" -eq 1 ]
check "it names the host, the process and the step (FAILED on lns-a, worker w-a: ...)" \
	grep -q '^rolling-upgrade: FAILED on lns-a, worker w-a: start' "$WORK/rolling-upgrade-fail.log"
check "lns-b untouched: its worker is the same process" [ "$(cat "$WORK/b/systemctl/tandem-worker@w-b.service.pid")" = "$pid_b" ]
check "lns-b's worker serves every shard meanwhile" all_owned_by w-b
# Recovery, as docs/OPERATIONS.md says: fix the configuration, start it.
cp -p "$WORK/a/tandem.conf.good" "$CONF_A"
check "recovery: systemctl start tandem-worker@w-a" on lns-a 'systemctl start tandem-worker@w-a'
check "clusterctl status healthy again" wait_for 20 healthy

# calls placed after the upgrade, and the churn's record across it
c0=$(xl2tpd_calls)
xl2tpd_call
check "xl2tpd placed a new call on its tunnel after the upgrade" \
	wait_for 15 bash -c "[ \$(grep -c 'Call established' '$WORK/l/xl2tpd/xl2tpd.log') -gt $c0 ]"
not() { ! "$@"; }
check "xl2tpd never gave up on its tunnel" not xl2tpd_gave_up
end_lac() { # end_lac NAME PID: SIGTERM (the normal end of run), wait for the report
	kill -TERM "$2" 2>/dev/null
	if wait_for 60 eval "! kill -0 $2 2>/dev/null"; then
		wait "$2"
	else
		echo "    $1 did not finish within 60 s of SIGTERM"
		return 1
	fi
}
end_lac churn "$CHURN"
rc=$?
check "the churning LAC exits 0 (no call setup failed across the upgrade)" [ "$rc" -eq 0 ]
# every slot's call was replaced at least twice: setups ran all along
check "churn report: $CHURN_TUNNELS tunnels, calls set up all along, none failed" \
	lac_report_clean "$WORK/l/churn.json" "$CHURN_TUNNELS" "$((CHURN_TUNNELS * CHURN_SESSIONS * 3))"
end_lac load "$LOAD"
rc=$?
check "the load LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
check "load report: $TUNNELS tunnels and $ALL calls survived the upgrade" \
	lac_report_clean "$WORK/l/load.json" "$TUNNELS" "$ALL"
if [ "$FAIL" -gt 0 ]; then
	for f in "$WORK"/hosts/*/systemctl/*.log; do
		echo "--- $f"
		tail -n 8 "$f"
	done
fi
stop_watchdog
finish rolling
