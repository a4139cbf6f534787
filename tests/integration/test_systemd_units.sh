#!/bin/bash
# The systemd units of deploy/systemd (docs/SYSTEMD.md), as `make
# install-systemd` installs them into a temporary root that also holds the
# binaries under test at the units' /usr/local/bin paths:
# - `systemd-analyze verify --root` passes on every unit (the worker template
#   instantiated) and prints nothing about them; two broken copies (a typo'd
#   directive, a missing binary) are caught, so the check is not blind;
# - `systemd-analyze security --offline` stays within an exposure budget;
# - each unit's own ExecStart=, with its specifiers, Environment= and
#   EnvironmentFile= expanded and run as its User= with its capability set
#   and NoNewPrivileges (setpriv), starts and registers, takes its env file's
#   --metrics, reloads on ExecReload=, and stops on SIGTERM within
#   TimeoutStopSec= with status 0; a bad config exits with the status that
#   RestartPreventExitStatus= names.
# Everything on 127.0.0.0/8; bounded: done within 60 s.
. "$(dirname "$0")/lib.sh"
echo "systemd: deploy/systemd units"
UNITDIR=/lib/systemd/system
ROOT=$WORK/root
SA=/usr/bin/systemd-analyze
FRONTEND_UNIT=tandem-frontend.service
WORKER_UNIT=tandem-worker@.service
TARGET_UNIT=tandem.target
WORKER_ID=w1

for t in "$SA" /usr/bin/setpriv make curl redis-server; do
	command -v "$t" >/dev/null || { bad "$t is missing (make deps)"; finish systemd; exit 1; }
done
for f in "$BIN/tandem-worker" "$BIN/tandem-frontend"; do
	[ -x "$f" ] || { bad "missing $f"; finish systemd; exit 1; }
done

# ---- Install into a root: the real target, the real files.
make -s -C "$TOP" install-systemd DESTDIR="$ROOT" PREFIX=/usr/local \
	SYSTEMD_UNITDIR="$UNITDIR" >"$WORK/install.log" 2>&1
check "make install-systemd DESTDIR=... installs the three units and sysusers.d" \
	test -f "$ROOT$UNITDIR/$FRONTEND_UNIT" -a -f "$ROOT$UNITDIR/$WORKER_UNIT" \
	-a -f "$ROOT$UNITDIR/$TARGET_UNIT" -a -f "$ROOT/usr/lib/sysusers.d/tandem.conf"
install -D -m 0755 "$BIN/tandem-frontend" "$ROOT/usr/local/bin/tandem-frontend"
install -D -m 0755 "$BIN/tandem-worker" "$ROOT/usr/local/bin/tandem-worker"
# Any other program an Exec*= line names (/bin/kill) comes from this host.
sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$ROOT$UNITDIR"/*.service |
	grep -v '^/usr/local/bin/' | sort -u | while read -r p; do
	[ -e "$p" ] && install -D -m 0755 "$p" "$ROOT$p"
done
make -s -C "$TOP" install-systemd DESTDIR="$WORK/opt" PREFIX=/opt/tandem \
	SYSTEMD_UNITDIR="$UNITDIR" >>"$WORK/install.log" 2>&1
check "PREFIX=/opt/tandem: ExecStart= names /opt/tandem/bin" bash -c \
	"grep -q '^ExecStart=/opt/tandem/bin/tandem-worker ' '$WORK/opt$UNITDIR/$WORKER_UNIT' &&
	 grep -q '^ExecStart=/opt/tandem/bin/tandem-frontend ' '$WORK/opt$UNITDIR/$FRONTEND_UNIT'"

# ---- systemd-analyze verify.
# verify_root ROOT OUT: verify our three units inside ROOT (only its unit
# directories and files count, not this host's). --recursive-errors=no: the
# status speaks for our units alone, not for units they pull in. Clean means
# status 0 and no line about our units; other lines are shown, not counted.
verify_root() {
	local r=$1 out=$2 rc
	"$SA" verify --root="$r" --man=no --generators=no --recursive-errors=no \
		"$r$UNITDIR/$FRONTEND_UNIT" "$r$UNITDIR/$WORKER_UNIT" \
		"$r$UNITDIR/$TARGET_UNIT" >"$out" 2>&1
	rc=$?
	grep -v -i 'tandem' "$out" | sed 's/^/    (not about our units) /'
	[ "$rc" -eq 0 ] && ! grep -q -i 'tandem' "$out"
}
check "systemd-analyze verify: all three units clean" verify_root "$ROOT" "$WORK/verify.out"
sed 's/^/    /' "$WORK/verify.out"

# The check is not blind: a typo'd directive and a missing binary are caught.
cp -a "$ROOT" "$WORK/broken1"
sed -i 's/^RestartSec=/RestrtSec=/' "$WORK/broken1$UNITDIR/$WORKER_UNIT"
verify_root "$WORK/broken1" "$WORK/broken1.out" >/dev/null
RC=$?
check "verify catches a typo'd directive (RestrtSec=) in the worker" \
	bash -c "[ $RC -ne 0 ] && grep -q \"Unknown key.*RestrtSec\" '$WORK/broken1.out'"
cp -a "$ROOT" "$WORK/broken2"
rm "$WORK/broken2/usr/local/bin/tandem-frontend"
verify_root "$WORK/broken2" "$WORK/broken2.out" >/dev/null
RC=$?
check "verify catches a missing ExecStart= binary (frontend)" \
	bash -c "[ $RC -ne 0 ] && grep -q 'tandem-frontend.service: Command /usr/local/bin/tandem-frontend is not executable' '$WORK/broken2.out'"

# ---- Exposure (0-100; systemd-analyze shows it divided by 10).
exposure() { # exposure UNIT BUDGET
	"$SA" security --root="$ROOT" --offline=yes --threshold="$2" --no-pager \
		"$ROOT$UNITDIR/$1" >"$WORK/security-$1.out" 2>&1
	local rc=$?
	echo "    $(grep 'Overall exposure level' "$WORK/security-$1.out")"
	return $rc
}
check "frontend: exposure at most 2.0 (systemd-analyze security)" exposure "$FRONTEND_UNIT" 20
check "worker: exposure at most 3.0 (systemd-analyze security)" exposure "$WORKER_UNIT" 30

# ---- What verify does not judge: how the units fit together.
. "$TOP/tests/lib/systemd_unit.sh" # key, expand, load_env, command_of, privs, secs
UNIT_ETC_ROOT=$WORK # the units' /etc/tandem is $WORK/etc/tandem here
UNIT_ROOT=$ROOT
FU=$ROOT$UNITDIR/$FRONTEND_UNIT
WU=$ROOT$UNITDIR/$WORKER_UNIT
TU=$ROOT$UNITDIR/$TARGET_UNIT
check "services are PartOf= and WantedBy= tandem.target" bash -c \
	"for u in '$FU' '$WU'; do
	   grep -qx 'PartOf=tandem.target' \"\$u\" && grep -qx 'WantedBy=tandem.target' \"\$u\" || exit 1
	 done"
check "tandem.target: WantedBy=multi-user.target, Also= the frontend" bash -c \
	"grep -qx 'WantedBy=multi-user.target' '$TU' && grep -qx 'Also=$FRONTEND_UNIT' '$TU'"
check "no continuation lines (tests/lib/systemd_unit.sh reads one line per key)" \
	bash -c "! grep -q '\\\\\$' '$FU' '$WU'"

# ---- Run each unit's own command lines (tests/lib/systemd_unit.sh).

# capmask "CAP_... ...": the /proc/PID/status bit mask of those capabilities
capmask() {
	local m=0 c n
	for c in $1; do
		case $c in
		CAP_NET_BIND_SERVICE) n=10 ;;
		CAP_NET_ADMIN) n=12 ;;
		*) echo "capmask: add $c" >&2; return 1 ;;
		esac
		m=$((m | (1 << n)))
	done
	printf '%016x\n' "$m"
}
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

start_redis || { bad "redis-server did not start"; finish systemd; exit 1; }
LNS=$(rand_lo)
MF=$(free_port tcp)
MW=$(free_port tcp)
while [ "$MW" = "$MF" ]; do MW=$(free_port tcp); done
mkdir -p "$WORK/etc/tandem"
chmod 0711 "$WORK" "$WORK/etc" "$WORK/etc/tandem"
write_conf "$WORK/etc/tandem/tandem.conf" "$LNS:1701"
chgrp nogroup "$WORK/etc/tandem/tandem.conf"
chmod 0640 "$WORK/etc/tandem/tandem.conf"
# Each process its own metrics port, through the env files the units read.
echo "TANDEM_FRONTEND_ARGS=--metrics 127.0.0.1:$MF" >"$WORK/etc/tandem/frontend.env"
echo "TANDEM_WORKER_ARGS=--metrics 127.0.0.1:$MW" >"$WORK/etc/tandem/worker-$WORKER_ID.env"

# start UNIT-FILE INSTANCE NAME: run its ExecStart= as the unit would
start_unit() {
	local cmd p
	load_env "$1" "$2" || return 1
	mapfile -t cmd < <(command_of "$1" "$2" ExecStart)
	mapfile -t p < <(privs "$1")
	[ "${#cmd[@]}" -gt 0 ] || return 1
	echo "    $3: setpriv ${p[*]} -- ${cmd[*]}"
	/usr/bin/setpriv "${p[@]}" -- "${cmd[@]}" >>"$WORK/$3.log" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

start_unit "$WU" "$WORKER_ID" worker
W_PID=$LAST_PID
start_unit "$FU" "" frontend
F_PID=$LAST_PID
FE_ID=$(uname -n)
check "worker (--id %i = $WORKER_ID) and frontend (--id %H = $FE_ID) registered, shards owned" \
	wait_for 10 cluster_ready
check "frontend registered under the host name" \
	[ "$(rcli hexists tandem:frontends "$FE_ID")" = 1 ]
check "worker registered as $WORKER_ID" \
	[ "$(rcli hexists tandem:workers "$WORKER_ID")" = 1 ]
scrape() { curl -sf --max-time 3 -o /dev/null "http://127.0.0.1:$1/metrics"; }
check "frontend.env's --metrics 127.0.0.1:$MF serves /metrics" wait_for 5 scrape "$MF"
check "worker-$WORKER_ID.env's --metrics 127.0.0.1:$MW serves /metrics" wait_for 5 scrape "$MW"
check "frontend runs as nobody with only CAP_NET_BIND_SERVICE, bound to $LNS:1701" bash -c \
	"[ \"\$(awk '\$1 == \"Uid:\" { print \$3 }' /proc/$F_PID/status)\" = 65534 ] &&
	 [ \"$(status_field "$F_PID" CapEff)\" = \"$(capmask "$(key "$FU" AmbientCapabilities)")\" ] &&
	 [ \"$(status_field "$F_PID" CapBnd)\" = \"$(capmask "$(key "$FU" CapabilityBoundingSet)")\" ] &&
	 [ \"$(status_field "$F_PID" NoNewPrivs)\" = 1 ] &&
	 grep -q 'udp listening.*listen=$LNS:1701' '$WORK/frontend.log'"
check "worker runs as root with only CAP_NET_ADMIN" bash -c \
	"[ \"$(status_field "$W_PID" CapEff)\" = \"$(capmask "$(key "$WU" CapabilityBoundingSet)")\" ] &&
	 [ \"$(status_field "$W_PID" CapBnd)\" = \"$(capmask "$(key "$WU" CapabilityBoundingSet)")\" ] &&
	 [ \"$(status_field "$W_PID" NoNewPrivs)\" = 1 ]"

# ExecReload=, with $MAINPID, run as systemd runs it (root).
reload_unit() { # reload_unit UNIT-FILE INSTANCE PID LOG
	local cmd
	load_env "$1" "$2" || return 1
	UNIT_ENV[MAINPID]=$3
	mapfile -t cmd < <(expand "$1" "$2" "$(key "$1" ExecReload | tail -n 1)")
	[ "${#cmd[@]}" -gt 0 ] && "${cmd[@]}" &&
		wait_for 5 grep -q 'config reloaded' "$4" && ! exited "$3"
}
check "worker: ExecReload= reloads the config, the worker stays" \
	reload_unit "$WU" "$WORKER_ID" "$W_PID" "$WORK/worker.log"
check "frontend: ExecReload= reloads the config, the frontend stays" \
	reload_unit "$FU" "" "$F_PID" "$WORK/frontend.log"

# Stop as systemd does (KillSignal= is SIGTERM unless the unit says else),
# the worker first: it is ordered after the frontend.
stop_unit() { # stop_unit UNIT-FILE PID NAME
	local sig t rc
	sig=$(key "$1" KillSignal | tail -n 1)
	t=$(secs "$(key "$1" TimeoutStopSec | tail -n 1)")
	kill -s "${sig:-SIGTERM}" "$2"
	if ! wait_for "$t" exited "$2"; then
		echo "    $3 still running after TimeoutStopSec=${t}s"
		return 1
	fi
	wait "$2"
	rc=$?
	echo "    $3: stopped, status $rc"
	[ "$rc" -eq 0 ]
}
check "worker: SIGTERM stops it within TimeoutStopSec=, status 0" stop_unit "$WU" "$W_PID" worker
check "worker: unregistered" [ "$(rcli hexists tandem:workers "$WORKER_ID")" = 0 ]
check "frontend: SIGTERM stops it within TimeoutStopSec=, status 0" stop_unit "$FU" "$F_PID" frontend
check "frontend: unregistered" [ "$(rcli hexists tandem:frontends "$FE_ID")" = 0 ]

# A config error must end in the status RestartPreventExitStatus= names, or
# Restart=on-failure would retry it every RestartSec=.
bad_config() { # bad_config UNIT-FILE INSTANCE NAME
	local cmd p rc want
	want=$(key "$1" RestartPreventExitStatus | tail -n 1)
	load_env "$1" "$2" || return 1
	mapfile -t cmd < <(command_of "$1" "$2" ExecStart)
	mapfile -t p < <(privs "$1")
	timeout 10 /usr/bin/setpriv "${p[@]}" -- "${cmd[@]}" >>"$WORK/$3-bad.log" 2>&1
	rc=$?
	echo "    $3 with a bad config: status $rc, RestartPreventExitStatus=$want"
	[ -n "$want" ] && [ "$rc" = "$want" ]
}
cp -p "$WORK/etc/tandem/tandem.conf" "$WORK/good.conf"
sed -i 's/^listen .*/listen nowhere/' "$WORK/etc/tandem/tandem.conf"
check "worker: bad config -> RestartPreventExitStatus=" bad_config "$WU" "$WORKER_ID" worker
check "frontend: bad config -> RestartPreventExitStatus=" bad_config "$FU" "" frontend
cp -p "$WORK/good.conf" "$WORK/etc/tandem/tandem.conf"

if [ "$FAIL" -gt 0 ]; then
	for f in "$WORK"/*.log "$WORK"/*.out; do
		echo "--- $f"
		tail -n 8 "$f"
	done
fi
finish systemd
