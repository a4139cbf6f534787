# tests/e2e/lib.sh: what the PPP end-to-end tests share (sourced by
# tests/e2e/test_*.sh, inside User-Mode Linux; tests/e2e/run.sh starts them
# there). The layout: netns `lns` 192.0.2.1 runs redis-server, tandem
# frontends and workers with ppp_backend pppd; netns `lac` 192.0.2.2 runs
# xl2tpd as the LAC with its pppd (kernel pppol2tp), over a veth pair.
#
#   e2e_need BIN...          binaries under $BIN, and /dev/ppp
#   e2e_net; e2e_redis       the two namespaces; redis-server in lns
#   e2e_lns_ppp [LINE...]    $W/lns.ppp (CHAP, plus LINEs) and chap-secrets
#   e2e_conf POOL            $W/tandem.conf: pppd backend, ppp_pool POOL
#   e2e_worker ID [ARG...]   a worker (WPID[ID]); e2e_frontend ID
#   e2e_cluster_up           checks: shards owned and spread, 2 frontends
#   e2e_lac                  xl2tpd + pppd in lac (XL2TPD, T_START)
#   e2e_ppp_up               until ppp0 has an address: ADDR
#   e2e_owner                TID, SID of the call; OWNER, OTHER workers
#   e2e_kill_owner DEST      ping DEST from lac, kill -9 OWNER (KILL_AT)
#   e2e_outage               after the caller saw the new pppd start: wait
#                            for ping replies, OUTAGE (longest silence)
# Needs E2E_WORK (a writable directory) and BIN; every wait is bounded.
set -u
[ "${UML_GUEST:-0}" = 1 ] || { echo "run me through tests/e2e/run.sh (inside UML)" >&2; exit 2; }
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$TOP/bin}
W=${E2E_WORK:?E2E_WORK must name a writable directory}
PASS=0 FAIL=0
PIDS=()
declare -A WPID=()
FPIDS=()

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

e2e_need() {
	local b
	for b in "$@"; do
		[ -x "$BIN/$b" ] || die "$BIN/$b missing (make all)"
	done
	[ -e /dev/ppp ] || die "no /dev/ppp in the guest"
}

# ---- network: lns 192.0.2.1 <-> lac 192.0.2.2 ----
e2e_net() {
	ip netns add lns && ip netns add lac || die "netns"
	lns ip link set lo up; lac ip link set lo up
	ip link add vlns netns lns type veth peer name vlac netns lac || die "veth"
	lns ip addr add 192.0.2.1/24 dev vlns; lns ip link set vlns up
	lac ip addr add 192.0.2.2/24 dev vlac; lac ip link set vlac up
}

e2e_redis() {
	ip netns exec lns redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
		--dir "$W" --logfile "$W/redis.log" --daemonize no &
	PIDS+=($!)
	wait_for 10 rcli ping >/dev/null 2>&1 || die "redis-server did not start"
}

# e2e_lns_ppp [LINE...]: the LNS's pppd options (CHAP required), LINEs
# (e.g. local:remote addresses) before the log file; CHAP secrets go in
# /etc/ppp, a private copy inside the guest
e2e_lns_ppp() {
	{
		printf '%s\n' auth require-chap "name tandem-lns" noccp nodefaultroute noproxyarp
		[ $# -gt 0 ] && printf '%s\n' "$@"
		echo "logfile $W/pppd-lns.log"
	} >"$W/lns.ppp"
	echo 'subscriber * s3cret *' > /etc/ppp/chap-secrets
	chmod 600 /etc/ppp/chap-secrets
}

# e2e_conf POOL: deploy/tandem.conf.example for this cluster ("" = no pool)
e2e_conf() {
	local pool=$1
	[ -n "$pool" ] || pool='""'
	sed -e "s/^redis .*/redis 127.0.0.1:6379/" \
	    -e "s/^listen .*/listen 192.0.2.1:1701/" \
	    -e "s/^ppp_backend .*/ppp_backend pppd/" \
	    -e "s|^pppd_options .*|pppd_options $W/lns.ppp|" \
	    -e "s|^ppp_pool .*|ppp_pool $pool|" \
	    -e "s/^redis_timeout .*/redis_timeout 2s/" \
	    "$TOP/deploy/tandem.conf.example" > "$W/tandem.conf"
	grep -qxF "ppp_pool $pool" "$W/tandem.conf" || die "could not set ppp_pool $pool"
}

e2e_worker() { # e2e_worker ID [ARG...]: worker ID on $W/tandem.conf
	local id=$1; shift
	ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem.conf" --id "$id" "$@" > "$W/worker-$id.log" 2>&1 &
	WPID[$id]=$!
	PIDS+=($!)
}
e2e_frontend() { # e2e_frontend ID
	ip netns exec lns "$BIN/tandem-frontend" -c "$W/tandem.conf" --id "$1" > "$W/frontend-$1.log" 2>&1 &
	PIDS+=($!)
	FPIDS+=($!)
}

owned() { [ "$(rcli hvals tandem:shardmap | grep -c 'owner=w[12] ')" -eq 256 ]; }
spread() { # both workers hold shards (the hand-off after w2 joined is done)
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w1 ')" -gt 0 ] &&
	[ "$(rcli hvals tandem:shardmap | grep -c 'owner=w2 ')" -gt 0 ]
}
frontends2() { [ "$(rcli hlen tandem:frontends)" -eq 2 ]; }
e2e_cluster_up() {
	check "every shard owned" wait_for 15 owned
	check "both workers hold shards" wait_for 15 spread
	check "two frontends registered" wait_for 10 frontends2
}

# ---- the LAC: xl2tpd + pppd in netns lac ----
e2e_lac() {
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
	XL2TPD=$!
}
sub_addr() { lac ip -4 -o addr show dev ppp0 2>/dev/null | awk '{print $4}' | cut -d/ -f1; }
peer_addr() { lac ip -4 -o addr show dev ppp0 2>/dev/null | awk '{print $6}' | cut -d/ -f1; }
has_addr() { [ -n "$(sub_addr)" ]; }
e2e_ppp_up() {
	wait_for 30 has_addr || die "the subscriber's PPP link did not come up"
	ADDR=$(sub_addr)
	echo "  PPP up after $(awk -v a="$(up)" -v b="$T_START" 'BEGIN {printf "%.2f", a - b}') s: subscriber $ADDR, peer $(peer_addr)"
}

# e2e_owner: the call's tunnel and session in Redis, and which worker owns it
e2e_owner() {
	TID=$(rcli --scan --pattern 'tandem:t:*' | head -1 | cut -d: -f3)
	[ -n "$TID" ] || die "no tunnel record in Redis"
	SID=$(rcli hkeys "tandem:s:$TID" | head -1)
	OWNER=$(rcli get "tandem:lease:$((TID / 256))" | sed -n 's/.*owner=\([^ ]*\) .*/\1/p')
	case $OWNER in w1) OTHER=w2 ;; w2) OTHER=w1 ;; *) die "tunnel $TID has no live owner ($OWNER)" ;; esac
	echo "  tunnel $TID session $SID is owned by $OWNER"
}

# e2e_kill_owner DEST: ping DEST every 0.1 s from lac (into $W/ping.log),
# then kill -9 OWNER; OLD_PPPD is its pppd
e2e_kill_owner() {
	OLD_PPPD=$(pgrep -P "${WPID[$OWNER]}" pppd)
	[ -n "$OLD_PPPD" ] || die "no pppd child of $OWNER"
	ip netns exec lac ping -D -i 0.1 -W 1 "$1" > "$W/ping.log" 2>&1 &
	PING=$!
	PIDS+=($PING)
	sleep 1
	KILL_AT=$(now)
	kill -9 "${WPID[$OWNER]}"
	wait "${WPID[$OWNER]}" 2>/dev/null
	echo "  killed $OWNER (pid ${WPID[$OWNER]}) at t=$(up)"
}
# e2e_outage: call once the new pppd has started. A reply in flight at the
# kill may still arrive: recovery counts from the new pppd on, and the
# outage is the longest silence in the ping log.
e2e_outage() {
	local recovered gap_end since
	RESTART_AT=$(now)
	replied_after() {
		awk -v k="$RESTART_AT" -F'[][]' '/bytes from/ && $2 > k {f=1} END {exit !f}' "$W/ping.log"
	}
	wait_for 40 replied_after
	recovered=$?
	kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
	[ "$recovered" = 0 ] || die "no ping reply within 40 s of the new pppd"
	# (no process substitution: the guest has no /dev/fd)
	read -r OUTAGE gap_end <<< "$(awk -F'[][]' '/bytes from/ {
		if (p && $2 - p > g) {g = $2 - p; e = $2} p = $2 }
		END {printf "%.2f %s\n", g, e}' "$W/ping.log")"
	since=$(awk -v a="$gap_end" -v b="$KILL_AT" 'BEGIN {printf "%.2f", a - b}')
	echo "  outage: ${OUTAGE} s without ping replies (the first came back ${since} s after the kill)"
}
