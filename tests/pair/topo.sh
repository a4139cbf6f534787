# tests/pair/topo.sh: a redundant tandem LNS pair on two "hosts" that are
# Linux network namespaces (sourced by tests/pair/test_*.sh; needs root).
#
#   sw     a Linux bridge br0; every other namespace has a veth (eth0) into it
#   lns-a  192.0.2.11  Redis primary, Sentinel, keepalived, frontend, worker
#   lns-b  192.0.2.12  Redis replica, Sentinel, keepalived, frontend, worker
#   wit    192.0.2.13  the third Sentinel (witness)
#   lac    192.0.2.20  tandem-lac, xl2tpd
#   VIP    192.0.2.10/24, held by keepalived (VRRP, unicast) on lns-a or lns-b
#
# Only RFC 5737 addresses are used. Namespace names carry the test's PID and
# a random suffix (tpair-<pid>-<hex>-<host>), so a crashed run's leftovers
# never collide with a new one; pair_up also removes leftovers whose test
# process is gone. The EXIT trap kills every process in our namespaces
# (found with `ip netns pids`, i.e. only processes this run started) and
# deletes the namespaces, which removes the veths and the bridge with them.
#
# Functions (HOST is a, b, w(it), l(ac) or s(w)):
#   pair_up                      namespaces, bridge, veths, addresses
#   in_ns HOST cmd...            run cmd in HOST's namespace
#   start_redis_a / start_redis_b [--replicaof IP]
#   start_sentinel HOST          Sentinel on a, b or w
#   start_keepalived HOST        keepalived (deploy/keepalived/keepalived.conf.example rendered)
#   start_frontend HOST / start_worker HOST
#   start_host HOST              all of the above for a or b
#   fail_host HOST [cmd...]      link down, SIGKILL every process in it (cmd right after)
#   restore_host HOST            link up (VIP gone, as after a reboot), then
#                                Redis as a replica of the current primary,
#                                Sentinel, keepalived, frontend, worker
#   vip_holder                   prints a, b, both or none
#   wait_vip HOST [SECONDS]      until HOST (alone) holds the VIP
#   sentinel_primary [HOST]      the primary's address per a Sentinel
#   rcli ARGS...                 redis-cli against the current primary
#   owned_by ID / all_owned_by ID / shards_owned
#   clusterctl_on HOST ARGS...   bin/clusterctl with HOST's configuration
#   start_lac_load NAME ARGS...  tandem-lac in lac (--lns VIP, --bind, --json report)
#   lac_report_clean FILE TUNNELS [MIN_SESSIONS]
#   start_xl2tpd / xl2tpd_calls / xl2tpd_call
#   on [-C DIR] HOST 'CMD'       CMD as typed on lns-a, lns-b, wit or lac
#                                (tests/pair/host-exec: the host's own
#                                /etc/tandem, /usr/local, /usr/src, /run/tandem,
#                                unit directory; tests/pair/bin's ssh between
#                                hosts and systemctl for tandem's units)
#   start_watchdog / stop_watchdog
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$TOP/bin}
PASS=0
FAIL=0
WORK=$(mktemp -d /tmp/tandem-pair.XXXXXX)
chmod 755 "$WORK" # keepalived's script security wants no group/other write on the path

# ---- what the cluster is told about Redis ----
#   sentinel: redis_sentinels A,B,WIT:26379 + redis_master_name tandem: every
#             process follows the Sentinels to the current primary (default)
#   direct:   redis 192.0.2.11:6379, the first primary only; lns-b cannot
#             survive the loss of lns-a this way, so the failover checks fail
#             (shows that the test can fail, and what Sentinel buys)
PAIR_REDIS=${PAIR_REDIS:-sentinel}

SHARDS=${SHARDS:-256}
NET=192.0.2
VIP=$NET.10
declare -A ADDR=([a]=$NET.11 [b]=$NET.12 [w]=$NET.13 [l]=$NET.20)
declare -A HOSTNAME_OF=([s]=sw [a]=lns-a [b]=lns-b [w]=wit [l]=lac)
declare -A PRIO=([a]=150 [b]=100) # VRRP: a wins the first election only
FE_METRICS=127.0.0.1:9101          # per namespace: each has its own loopback
WK_METRICS=127.0.0.1:9102
NS_PREFIX=tpair
RUN_ID=$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
declare -A NS=()
for h in s a b w l; do NS[$h]=$NS_PREFIX-$RUN_ID-${HOSTNAME_OF[$h]}; done
# for tests/pair/host-exec (and the ssh and systemctl stand-ins it puts on
# the hosts' PATH): where the hosts' files are, how their namespaces are named
export PAIR_WORK=$WORK PAIR_NS_PREFIX=$NS_PREFIX-$RUN_ID
# The directories each host has of its own (host-exec bind-mounts
# $WORK/<h>/root/<dir> over them); this machine needs them as mount points.
export PAIR_HOST_DIRS="/etc/tandem /usr/local /usr/src /run/tandem /lib/systemd/system /usr/lib/sysusers.d"
MOUNTPOINTS_MADE=()
NS_CREATED=()
EXTRA_PIDS=() # processes outside the namespaces that the EXIT trap ends

ok() { PASS=$((PASS + 1)); echo "  ok: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "  FAIL: $*"; }
check() { # check "description" command...
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo "$1: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
# wait_for SECONDS command... : poll every 0.1 s until it succeeds or
# SECONDS of wall time have passed (a slow command does not stretch it)
wait_for() {
	local end=$(($(date +%s%N) + $1 * 1000000000)); shift
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# start_watchdog: SIGTERM to this test after PAIR_WATCHDOG (default 330)
# seconds, so that a hang ends in the EXIT trap's clean-up; stop_watchdog
# before finishing
start_watchdog() {
	(
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		sleep "${PAIR_WATCHDOG:-330}" &
		sp=$!
		wait $sp && echo "  watchdog: ${PAIR_WATCHDOG:-330} s passed" && kill -TERM $$
	) 2>/dev/null &
	WATCHDOG=$!
	EXTRA_PIDS+=($WATCHDOG)
}
stop_watchdog() { kill "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null; }
# watch_ms FILE T0_MS SECONDS cmd...: in the background, poll cmd until it
# succeeds and write the ms since T0_MS to FILE (nothing after SECONDS);
# several run at once so that one slow condition does not delay another
watch_ms() {
	local f=$1 t0=$2 secs=$3; shift 3
	( wait_for "$secs" "$@" && echo $(($(now_ms) - t0)) >"$f" ) 2>/dev/null &
	WATCH_PIDS+=($!)
}
WATCH_PIDS=()
watch_wait() { wait "${WATCH_PIDS[@]}" 2>/dev/null; WATCH_PIDS=(); }
log() { echo "  [$(date +%T.%3N)] $*"; }

in_ns() { # in_ns HOST cmd...
	local h=$1; shift
	ip netns exec "${NS[$h]}" "$@"
}

# ---- processes ----
# Every process runs inside one of our namespaces; `ip netns exec` execs
# it, so $! is the process. They are found again with `ip netns pids`.
declare -A PID_OF=() # "a:redis" -> pid
spawn() { # spawn HOST NAME LOGFILE cmd...
	local h=$1 name=$2 logf=$3; shift 3
	# a simple command, not a function: bash's child execs ip, which execs
	# unshare, sh, then cmd, so $! is cmd's own PID (signals reach it, wait
	# gets its status). Each host has its own hostname (a UTS namespace),
	# as separate machines do: workers watch the processes of peers on
	# their own host only (workers/worker_peerwatch.c).
	ip netns exec "${NS[$h]}" unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' \
		"${HOSTNAME_OF[$h]}" "$@" >>"$logf" 2>&1 &
	PID_OF[$h:$name]=$!
	LAST_PID=$!
}
ns_pids() { ip netns pids "${NS[$1]}" 2>/dev/null; }
ns_empty() { [ -z "$(ns_pids "$1")" ]; }
kill_ns() { # kill_ns HOST SIGNAL: every process in the namespace
	local p
	for p in $(ns_pids "$1"); do kill "-$2" "$p" 2>/dev/null; done
}
reap() { # reap HOST: forget (wait for) our children that ran there
	local k
	for k in "${!PID_OF[@]}"; do
		[ "${k%%:*}" = "$1" ] || continue
		kill -0 "${PID_OF[$k]}" 2>/dev/null || { wait "${PID_OF[$k]}" 2>/dev/null; unset "PID_OF[$k]"; }
	done
}

pair_cleanup() {
	local rc=$? h n
	trap - EXIT INT TERM
	exec 2>/dev/null # no "Killed" job notices for what we end here
	for h in a b w l s; do kill_ns "$h" TERM; done
	for n in $(seq 30); do
		local left=0
		for h in a b w l s; do [ -n "$(ns_pids "$h")" ] && left=1; done
		[ $left = 0 ] && break
		sleep 0.1
	done
	for h in a b w l s; do kill_ns "$h" KILL; done
	for n in "${EXTRA_PIDS[@]}"; do kill "$n"; done # e.g. a test's watchdog
	wait 2>/dev/null
	for n in "${NS_CREATED[@]}"; do ip netns del "$n" 2>/dev/null; done
	for n in "${MOUNTPOINTS_MADE[@]}"; do rmdir "$n" 2>/dev/null; done
	if [ "${KEEP_WORK:-0}" = 1 ] || [ "$FAIL" -gt 0 ] || [ "$rc" -ne 0 ]; then
		echo "logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap pair_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# Leftovers of runs whose test process is gone (killed -9, host crash).
pair_sweep() {
	local n pid p
	for n in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX-[0-9]*-[0-9a-f]*-"); do
		pid=$(echo "$n" | cut -d- -f2)
		kill -0 "$pid" 2>/dev/null && continue
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null && echo "  (removed leftover namespace $n)"
	done
}

pair_need() {
	local c
	[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; return 1; }
	for c in ip redis-server redis-cli curl /usr/sbin/keepalived /usr/sbin/xl2tpd \
		"$BIN/tandem-frontend" "$BIN/tandem-worker" "$BIN/tandem-lac" "$BIN/clusterctl"; do
		command -v "$c" >/dev/null || { echo "missing $c"; return 1; }
	done
}

# ---- topology ----
# host_root HOST: the files HOST has of its own ($WORK/HOST/root, seen
# through tests/pair/host-exec as /etc/tandem, /usr/local, ...), and the
# name host-exec knows it by ($WORK/hosts/lns-a -> $WORK/a)
host_root() {
	local h=$1 d
	for d in $PAIR_HOST_DIRS; do
		mkdir -p "$WORK/$h/root$d" || return 1
		if [ ! -d "$d" ]; then
			mkdir -p "$d" || return 1
			MOUNTPOINTS_MADE+=("$d")
		fi
	done
	mkdir -p "$WORK/hosts"
	ln -sfn "$WORK/$h" "$WORK/hosts/${HOSTNAME_OF[$h]}"
}
# on [-C DIR] HOST 'COMMAND LINE': run a command line on HOST (lns-a,
# lns-b, wit, lac) as an operator's shell there would (tests/pair/host-exec:
# the host's own /etc/tandem, /usr/local, ..., and ssh and systemctl)
on() {
	local c=()
	[ "$1" = -C ] && { c=(-C "$2"); shift 2; }
	"$TOP/tests/pair/host-exec" "${c[@]}" "$1" /bin/sh -c "$2"
}
pair_up() {
	local h
	pair_sweep
	for h in s a b w l; do
		ip netns add "${NS[$h]}" || return 1
		NS_CREATED+=("${NS[$h]}")
		in_ns "$h" ip link set lo up || return 1
	done
	in_ns s ip link add br0 type bridge || return 1
	in_ns s ip link set br0 up || return 1
	for h in a b w l; do
		# the bridge port is p-<host> (p-a, p-b, p-w, p-l); the host's
		# end is eth0 in its own namespace
		ip -n "${NS[s]}" link add name "p-$h" type veth peer name eth0 netns "${NS[$h]}" || return 1
		ip -n "${NS[s]}" link set "p-$h" master br0 up || return 1
		in_ns "$h" ip addr add "${ADDR[$h]}/24" dev eth0 || return 1
		in_ns "$h" ip link set eth0 up || return 1
		host_root "$h" || return 1
	done
	# reachability across the bridge, bounded
	wait_for 5 in_ns l ping -c1 -W1 -q "${ADDR[a]}" >/dev/null 2>&1 &&
		wait_for 5 in_ns l ping -c1 -W1 -q "${ADDR[b]}" >/dev/null 2>&1 &&
		wait_for 5 in_ns w ping -c1 -W1 -q "${ADDR[a]}" >/dev/null 2>&1
}

# ---- Redis and Sentinel ----
redis_conf() { # redis_conf HOST: data node config (AOF everysec)
	local h=$1
	mkdir -p "$WORK/$h/redis"
	cat >"$WORK/$h/redis.conf" <<EOT
bind ${ADDR[$h]} 127.0.0.1
port 6379
protected-mode no
daemonize no
dir $WORK/$h/redis
logfile $WORK/$h/redis.log
save ""
appendonly yes
appendfsync everysec
replica-announce-ip ${ADDR[$h]}
EOT
}
start_redis() { # start_redis HOST [--replicaof IP]
	local h=$1; shift
	local extra=()
	[ "${1:-}" = --replicaof ] && extra=(--replicaof "$2" 6379)
	[ -f "$WORK/$h/redis.conf" ] || redis_conf "$h"
	spawn "$h" redis "$WORK/$h/redis.out" redis-server "$WORK/$h/redis.conf" "${extra[@]}"
	wait_for 5 in_ns "$h" redis-cli -h "${ADDR[$h]}" ping >/dev/null 2>&1
}
start_redis_a() { start_redis a "$@"; }
start_redis_b() { start_redis b "$@"; }

sentinel_conf() { # sentinel_conf HOST: written once; Sentinel rewrites it
	local h=$1
	mkdir -p "$WORK/$h/sentinel"
	cat >"$WORK/$h/sentinel.conf" <<EOT
port 26379
bind ${ADDR[$h]} 127.0.0.1
protected-mode no
daemonize no
dir $WORK/$h/sentinel
logfile $WORK/$h/sentinel.log
sentinel resolve-hostnames no
sentinel announce-ip ${ADDR[$h]}
sentinel announce-port 26379
sentinel monitor tandem ${ADDR[a]} 6379 2
sentinel down-after-milliseconds tandem 500
sentinel failover-timeout tandem 3000
sentinel parallel-syncs tandem 1
EOT
}
start_sentinel() { # start_sentinel HOST
	local h=$1
	[ -f "$WORK/$h/sentinel.conf" ] || sentinel_conf "$h"
	spawn "$h" sentinel "$WORK/$h/sentinel.out" redis-server "$WORK/$h/sentinel.conf" --sentinel
	wait_for 5 in_ns "$h" redis-cli -p 26379 ping >/dev/null 2>&1
}
# sentinel_primary [HOST]: the primary's address as that Sentinel (default:
# the witness) sees it
sentinel_primary() {
	in_ns "${1:-w}" timeout 3 redis-cli -p 26379 --raw sentinel get-master-addr-by-name tandem 2>/dev/null | head -1
}
# primary_addr: the data node (lns-a or lns-b) that answers ROLE master;
# if both do (a returning host not yet converted), the witness Sentinel's
# choice. Independent of how fast each Sentinel learns of a failover.
primary_addr() {
	local h c=()
	for h in a b; do
		ns_empty "$h" && continue # a failed host: do not wait for its time-out
		in_ns w timeout 0.5 redis-cli -h "${ADDR[$h]}" role 2>/dev/null | head -1 | grep -qx master && c+=("${ADDR[$h]}")
	done
	case ${#c[@]} in
	1) echo "${c[0]}" ;;
	2) sentinel_primary w ;;
	*) return 1 ;;
	esac
}
rcli() { # redis-cli against the current primary, from the witness
	local p
	p=$(primary_addr)
	[ -n "$p" ] || return 1
	in_ns w timeout 3 redis-cli -h "$p" "$@"
}
# sentinels_agree ADDR: every live Sentinel names ADDR as the primary
sentinels_agree() {
	local h n=0
	for h in a b w; do
		[ -n "$(ns_pids "$h")" ] || continue
		in_ns "$h" redis-cli -p 26379 ping >/dev/null 2>&1 || continue
		[ "$(sentinel_primary "$h")" = "$1" ] || return 1
		n=$((n + 1))
	done
	[ $n -ge 2 ]
}

# ---- keepalived ----
# Renders deploy/keepalived/keepalived.conf.example for HOST: the NODE B
# lines, the check script's path, its metrics port and maintenance file.
keepalived_conf() {
	local h=$1 o
	[ "$h" = a ] && o=b || o=a
	sed -e "s|^\(    router_id \).*|\1tandem-${HOSTNAME_OF[$h]}|" \
	    -e "s|^\(    priority \)[0-9]*.*|\1${PRIO[$h]}|" \
	    -e "s|^\(    unicast_src_ip \).*|\1${ADDR[$h]}|" \
	    -e "s|^\(        \)192\.0\.2\.1[12]\( *#.*\)\{0,1\}$|\1${ADDR[$o]}|" \
	    -e "s|^\(        \)192\.0\.2\.10/24 dev eth0.*|\1$VIP/24 dev eth0|" \
	    -e "s|/usr/local/libexec/tandem/tandem-check-frontend|$TOP/deploy/keepalived/tandem-check-frontend|" \
	    -e "s|--metrics 127\.0\.0\.1:9101|--metrics $FE_METRICS|" \
	    -e "s|--maintenance-file [^ \"]*|--maintenance-file $(maintenance_file "$h")|" \
	    "$TOP/deploy/keepalived/keepalived.conf.example" >"$WORK/$h/keepalived.conf"
}
start_keepalived() { # start_keepalived HOST
	local h=$1 n=1
	keepalived_conf "$h"
	# a restart gets a fresh log (tests grep it for state changes)
	while [ -e "$WORK/$h/keepalived.log.$n" ]; do n=$((n + 1)); done
	[ -e "$WORK/$h/keepalived.log" ] && mv "$WORK/$h/keepalived.log" "$WORK/$h/keepalived.log.$n"
	# -n: stay in the foreground; -P: VRRP only; -l -D: detailed log on
	# the console (our log file); -G: not to syslog; per-run pid files
	spawn "$h" keepalived "$WORK/$h/keepalived.log" /usr/sbin/keepalived -n -l -D -G -P \
		-f "$WORK/$h/keepalived.conf" -p "$WORK/$h/keepalived.pid" \
		-r "$WORK/$h/keepalived-vrrp.pid" -c "$WORK/$h/keepalived-check.pid" \
		-b "$WORK/$h/keepalived-bfd.pid"
}
# vrrp_state HOST: keepalived's last state on HOST (MASTER, BACKUP, FAULT),
# from its log since it was started
vrrp_state() {
	grep -oE 'Entering (MASTER|BACKUP|FAULT) STATE' "$WORK/$1/keepalived.log" 2>/dev/null |
		tail -1 | awk '{print $2}'
}
# maintenance_file HOST: the check's flag file, /run/tandem/frontend.maintenance
# as the host sees it (host-exec)
maintenance_file() { echo "$WORK/$1/root/run/tandem/frontend.maintenance"; }
# has_vip HOST: the VIP is on HOST's eth0 and that link is up (a failed
# host keeps the address configured on its dead link, like a powered-off box)
has_vip() { in_ns "$1" ip -4 -o addr show dev eth0 up 2>/dev/null | grep -q " $VIP/"; }
vip_holder() {
	local a=0 b=0
	has_vip a && a=1
	has_vip b && b=1
	case $a$b in 10) echo a ;; 01) echo b ;; 11) echo both ;; *) echo none ;; esac
}
vip_is() { [ "$(vip_holder)" = "$1" ]; }
wait_vip() { wait_for "${2:-10}" vip_is "$1"; }

# ---- tandem ----
redis_lines() {
	case $PAIR_REDIS in
	direct) echo "redis ${ADDR[a]}:6379" ;;
	sentinel)
		echo "redis_sentinels ${ADDR[a]}:26379,${ADDR[b]}:26379,${ADDR[w]}:26379"
		echo "redis_master_name tandem" ;;
	*) echo "PAIR_REDIS must be sentinel or direct" >&2; return 1 ;;
	esac
}
# conf_of HOST: its tandem.conf (/etc/tandem/tandem.conf on the host)
conf_of() { echo "$WORK/$1/root/etc/tandem/tandem.conf"; }
# tandem_conf HOST [extra "key value" lines...]: deploy/tandem.conf.example
# with this host's sockets, the VIP as listen address, active-standby;
# root:nogroup 0640 (the frontend's unit runs it as an unprivileged user)
tandem_conf() {
	local h=$1 f kv k; shift
	f=$(conf_of "$h")
	cp "$TOP/deploy/tandem.conf.example" "$f"
	{
		redis_lines || return 1
		echo "listen $VIP:1701"
		echo "frontend_endpoint tcp://${ADDR[$h]}:*"
		echo "worker_endpoint tcp://${ADDR[$h]}:*"
		echo "control_endpoint tcp://${ADDR[$h]}:*"
		echo "shard_policy active-standby"
		echo "shard_count $SHARDS"
		# a checkpoint counts once lns-b's replica has it too (WAIT 1), so
		# the promoted replica lacks nothing a LAC was answered on
		echo "redis_wait_replicas ${PAIR_WAIT_REPLICAS:-1}"
		echo "log_level ${LOG_LEVEL:-info}"
		for kv in "$@"; do echo "$kv"; done
	} >"$f.set"
	while read -r kv; do
		k=${kv%% *}
		sed -i "/^$k /d" "$f"
	done <"$f.set"
	cat "$f.set" >>"$f"
	rm -f "$f.set"
	chgrp nogroup "$f" && chmod 0640 "$f"
}
start_frontend() { # start_frontend HOST
	local h=$1
	[ -f "$(conf_of "$h")" ] || tandem_conf "$h"
	spawn "$h" frontend "$WORK/$h/frontend.log" "$BIN/tandem-frontend" \
		-c "$(conf_of "$h")" --id "f-$h" --metrics "$FE_METRICS"
}
start_worker() { # start_worker HOST
	local h=$1
	[ -f "$(conf_of "$h")" ] || tandem_conf "$h"
	spawn "$h" worker "$WORK/$h/worker.log" "$BIN/tandem-worker" \
		-c "$(conf_of "$h")" --id "w-$h" --metrics "$WK_METRICS"
}
clusterctl_on() { # clusterctl_on HOST ARGS...
	local h=$1; shift
	in_ns "$h" timeout 10 "$BIN/clusterctl" -c "$(conf_of "$h")" "$@"
}
# frontend_healthy HOST: the keepalived check script, as keepalived runs it
frontend_healthy() {
	in_ns "$1" timeout 3 "$TOP/deploy/keepalived/tandem-check-frontend" --metrics "$FE_METRICS" \
		--maintenance-file "$(maintenance_file "$1")" --min-shards "$SHARDS" 2>/dev/null
}

# start_host HOST: the whole of lns-a (Redis primary) or lns-b (replica):
# Redis, Sentinel, worker, frontend, keepalived.
start_host() {
	local h=$1
	if [ "$h" = a ]; then start_redis a; else start_redis b --replicaof "${ADDR[a]}"; fi || return 1
	start_sentinel "$h" || return 1
	start_worker "$h"
	start_frontend "$h"
	start_keepalived "$h"
}
start_witness() { start_sentinel w; }

# fail_host HOST [cmd...]: the host dies: its bridge port goes down and
# every process in its namespace gets SIGKILL; cmd (e.g. a probe's signal)
# runs right after that, then the host's own link goes down and we wait
# (5 s bound) until nothing is left running there.
fail_host() {
	local h=$1; shift
	{ # stderr off: no "Killed" job notices
		in_ns s ip link set "p-$h" down
		kill_ns "$h" KILL
		[ $# -gt 0 ] && "$@"
		in_ns "$h" ip link set eth0 down
		wait_for 5 ns_empty "$h"
		reap "$h"
	} 2>/dev/null
}
# restore_host HOST: the host boots again. Its addresses are as configured
# (a reboot does not keep the VIP), the link comes up, Redis starts as a
# replica of the primary the Sentinels name now (Sentinel would also convert
# it, but a stale primary must not take writes meanwhile), then its
# Sentinel (same, self-rewritten config), worker, frontend and keepalived.
restore_host() {
	local h=$1 p
	in_ns "$h" ip addr del "$VIP/24" dev eth0 2>/dev/null
	in_ns "$h" ip link set eth0 up
	in_ns s ip link set "p-$h" up
	wait_for 5 in_ns "$h" ping -c1 -W1 -q "${ADDR[w]}" >/dev/null 2>&1 || return 1
	p=$(primary_addr)
	[ -n "$p" ] || return 1
	if [ "$p" = "${ADDR[$h]}" ]; then start_redis "$h"; else start_redis "$h" --replicaof "$p"; fi || return 1
	start_sentinel "$h" || return 1
	start_worker "$h"
	start_frontend "$h"
	start_keepalived "$h"
}

# ---- shards ----
owned_by() { # owned_by ID: leases naming worker ID right now
	rcli eval "local n = 0
for i = 0, tonumber(ARGV[2]) - 1 do
  local v = redis.call('GET', 'tandem:lease:' .. i)
  if v and string.find(v, 'owner=' .. ARGV[1] .. ' ', 1, true) then n = n + 1 end
end
return n" 0 "$1" "$SHARDS" 2>/dev/null
}
all_owned_by() { [ "$(owned_by "$1")" = "$SHARDS" ]; }
frontends_registered() { [ "$(rcli hlen tandem:frontends 2>/dev/null)" -ge "$1" ] 2>/dev/null; }

# ---- the LAC side ----
# start_lac_load NAME ARGS...: tandem-lac in the lac namespace against the
# VIP; JSON report in $WORK/l/NAME.json, log in NAME.err; LAST_PID
start_lac_load() {
	local name=$1; shift
	spawn l "lac-$name" "$WORK/l/$name.err" "$BIN/tandem-lac" --lns "$VIP:1701" \
		--bind "${ADDR[l]}" --json --report-file "$WORK/l/$name.json" "$@"
}
# lac_report_clean FILE TUNNELS [MIN_SESSIONS]: every tunnel up, none torn
# down by the LNS or given up, no call failed (tests/lib/lac_clean.py)
lac_report_clean() { /usr/bin/python3 "$TOP/tests/lib/lac_clean.py" "$@"; }

# xl2tpd as a second, independent LAC (its pppd cannot start here: each call
# ends with a CDN, the tunnel stays; see tests/integration/test_xl2tpd_takeover.sh)
start_xl2tpd() {
	local d=$WORK/l/xl2tpd
	mkdir -p "$d"
	cat >"$d/lac.conf" <<EOT
[global]
listen-addr = ${ADDR[l]}
port = 1701
auth file = $d/secrets
[lac tandem]
lns = $VIP
autodial = yes
redial = no
require authentication = no
name = subscriber
pppoptfile = $d/ppp.opts
length bit = yes
EOT
	: >"$d/secrets"
	printf 'noauth\nnoccp\n' >"$d/ppp.opts"
	spawn l xl2tpd "$d/xl2tpd.log" /usr/sbin/xl2tpd -D -c "$d/lac.conf" -p "$d/xl2tpd.pid" -C "$d/ctl"
}
xl2tpd_calls() { grep -c 'Call established' "$WORK/l/xl2tpd/xl2tpd.log" 2>/dev/null; }
xl2tpd_call() { timeout 5 bash -c "echo 'c tandem' > '$WORK/l/xl2tpd/ctl'"; }
xl2tpd_gave_up() { grep -qiE 'maximum retries exceeded|Connection .* closed' "$WORK/l/xl2tpd/xl2tpd.log"; }
