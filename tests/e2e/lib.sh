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
#   e2e_worker ID [ARG...]   a worker (WPID[ID]), its log appended to
#                            $W/worker-ID.log; e2e_frontend ID
#   e2e_cluster_up           checks: shards owned and spread, 2 frontends
#   e2e_two_workers POOL [LINE...]  all of the above: network, redis, LNS
#                            pppd options with LINEs, config with POOL,
#                            workers w1 w2 (metrics on MPORT[w1], MPORT[w2]),
#                            frontends f1 f2, e2e_cluster_up
#   e2e_lac                  xl2tpd + pppd in lac (XL2TPD, T_START)
#   e2e_ppp_up               until ppp0 has an address: ADDR
#   e2e_owner                TID, SID of the call; OWNER, OTHER workers
#   e2e_metric WORKER RESULT, e2e_reports_dropped WORKER: its pppd reports
#   e2e_learned WORKER LOCAL REMOTE  it learned the addresses from pppd
#   e2e_in_redis LOCAL REMOTE  the session's record holds these addresses
#   e2e_kill_owner DEST      ping DEST from lac ($PING_LOG), kill -9 OWNER
#                            (KILL_AT; OLD_PPPD: the session's pppd)
#   e2e_outage               after e2e_kill_owner: wait for the first ping
#                            reply after the kill; OUTAGE = kill to it
#   e2e_takeover_round N DEST [ADDRS]  one kill -9 of the owner and its
#                            checks (PPP back within E2E_MAX_OUTAGE s)
# Needs E2E_WORK (a writable directory) and BIN; every wait is bounded.
set -u
[ "${UML_GUEST:-0}" = 1 ] || { echo "run me through tests/e2e/run.sh (inside UML)" >&2; exit 2; }
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/tests/lib/hog.sh" # log_ts, flap_counts; hog_start (a hog in the guest)
BIN=${BIN:-$TOP/bin}
W=${E2E_WORK:?E2E_WORK must name a writable directory}
PASS=0 FAIL=0
PIDS=()
declare -A WPID=()
declare -A MPORT=([w1]=9101 [w2]=9102 [w3]=9103)
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
die() { # a test may name a function to run first (a summary) in E2E_ON_DIE
	bad "$*"
	[ -z "${E2E_ON_DIE:-}" ] || "$E2E_ON_DIE"
	dump
	exit 1
}
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

# e2e_conf POOL: deploy/tandem.conf.example for this cluster ("" = no pool);
# E2E_LEASE_TTL / E2E_LEASE_RENEW replace the lease timing (docs/TAKEOVER.md)
e2e_conf() {
	local pool=$1
	[ -n "$pool" ] || pool='""'
	sed -e "s/^redis .*/redis 127.0.0.1:6379/" \
	    -e "s/^listen .*/listen 192.0.2.1:1701/" \
	    -e "s/^ppp_backend .*/ppp_backend pppd/" \
	    -e "s|^pppd_options .*|pppd_options $W/lns.ppp|" \
	    -e "s|^ppp_pool .*|ppp_pool $pool|" \
	    -e "s/^redis_timeout .*/redis_timeout 2s/" \
	    -e "s/^lease_ttl .*/lease_ttl ${E2E_LEASE_TTL:-600ms}/" \
	    -e "s/^lease_renew .*/lease_renew ${E2E_LEASE_RENEW:-200ms}/" \
	    "$TOP/deploy/tandem.conf.example" > "$W/tandem.conf"
	grep -qxF "ppp_pool $pool" "$W/tandem.conf" || die "could not set ppp_pool $pool"
}

e2e_worker() { # e2e_worker ID [ARG...]: worker ID on $W/tandem.conf
	local id=$1; shift
	ip netns exec lns "$BIN/tandem-worker" -c "$W/tandem.conf" --id "$id" "$@" >> "$W/worker-$id.log" 2>&1 &
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
# e2e_two_workers POOL [LINE...]: the cluster every test starts with
e2e_two_workers() {
	local pool=$1; shift
	e2e_net
	e2e_redis
	e2e_lns_ppp "$@"
	e2e_conf "$pool"
	e2e_worker w1 --metrics "127.0.0.1:${MPORT[w1]}"
	e2e_worker w2 --metrics "127.0.0.1:${MPORT[w2]}"
	e2e_frontend f1
	e2e_frontend f2
	e2e_cluster_up
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
	lease_owner() { # (a lease may be between owners for a moment)
		OWNER=$(rcli get "tandem:lease:$((TID / 256))" | sed -n 's/.*owner=\([^ ]*\) .*/\1/p')
		[ "$OWNER" = w1 ] || [ "$OWNER" = w2 ]
	}
	wait_for 10 lease_owner || die "tunnel $TID has no live owner (${OWNER:--})"
	case $OWNER in w1) OTHER=w2 ;; w2) OTHER=w1 ;; esac
	echo "  tunnel $TID session $SID is owned by $OWNER"
}

# e2e_metric WORKER RESULT: the worker's tandem_worker_ppp_reports_total{result=RESULT}
e2e_metric() {
	lns curl -s --max-time 2 "http://127.0.0.1:${MPORT[$1]}/metrics" |
		awk -v r="tandem_worker_ppp_reports_total{result=\"$2\"}" '$1 == r {print $2}'
}
# e2e_reports_dropped WORKER: how many pppd reports the worker dropped (any
# reason), "?" when its metrics do not answer
e2e_reports_dropped() {
	local m
	m=$(lns curl -s --max-time 2 "http://127.0.0.1:${MPORT[$1]}/metrics") || { echo "?"; return; }
	echo "$m" | awk '$1 ~ /^tandem_worker_ppp_reports_total\{result="(malformed|denied|unknown_session|wrong_pid)"\}$/ {n += $2; seen = 1}
		END {if (seen) print n + 0; else print "?"}'
}
# e2e_learned WORKER LOCAL REMOTE: the worker logged the addresses of the
# call's session learned from its pppd's ip-up report
e2e_learned() {
	grep -q "msg=\"PPP addresses learned from pppd\" tid=$TID sid=$SID local=$2 remote=$3 " "$W/worker-$1.log"
}
# e2e_sessions_json: clusterctl's view (from Redis) of tunnel TID's sessions
e2e_sessions_json() { lns "$BIN/clusterctl" -c "$W/tandem.conf" --json sessions --tunnel "$TID" 2>/dev/null; }
# e2e_in_redis LOCAL REMOTE: the session's record holds these PPP addresses
e2e_in_redis() {
	local j; j=$(e2e_sessions_json)
	echo "$j" | grep -q "\"ppp_local_address\": *\"$1\"" &&
	echo "$j" | grep -q "\"ppp_remote_address\": *\"$2\""
}
# e2e_session_pppd: the LNS pppd serving session TID/SID (a worker's child,
# or one a worker adopted in a hand-over and that is still its old worker's)
e2e_session_pppd() { pgrep -f "ipparam $TID/$SID( |\$)" | head -1; }

# e2e_kill_owner DEST: ping DEST every 0.1 s from lac (into $PING_LOG,
# default $W/ping.log), then kill -9 OWNER. OLD_PPPD is the session's pppd;
# KILL_AT the time of the kill (unix, us; taken without a fork: a fork in a
# slow guest takes up to half a second), KILL_TS the same in the workers'
# log format, DEAD_AT when the victim had been reaped.
e2e_kill_owner() {
	PING_LOG=${PING_LOG:-$W/ping.log}
	OLD_PPPD=$(e2e_session_pppd)
	[ -n "$OLD_PPPD" ] || die "no pppd serves session $TID/$SID"
	ip netns exec lac ping -D -i 0.1 -W 1 "$1" > "$PING_LOG" 2>&1 &
	PING=$!
	PIDS+=($PING)
	sleep 1
	KILL_AT=${EPOCHREALTIME/,/.}
	kill -9 "${WPID[$OWNER]}"
	wait "${WPID[$OWNER]}" 2>/dev/null
	DEAD_AT=${EPOCHREALTIME/,/.}
	KILL_TS=$(log_ts "$KILL_AT")
	echo "  killed $OWNER (pid ${WPID[$OWNER]}) at t=$(up), reaped $(awk -v a="$DEAD_AT" -v k="$KILL_AT" 'BEGIN {printf "%.3f", a - k}') s after the kill"
}

# e2e_first_reply: the -D time of the first ping reply whose echo request
# left after the victim was dead (request time = reply time - RTT): a reply
# in flight at the kill, or one the victim relayed while it was dying (in a
# slow guest that may take a while), proves nothing about the path after it.
e2e_first_reply() {
	awk -v k="$DEAD_AT" -F'[][]' '/bytes from/ {
		rtt = 0
		if (match($0, /time=[0-9.]+ ms/)) rtt = substr($0, RSTART + 5, RLENGTH - 8) / 1000
		if ($2 - rtt > k) { print $2; exit }
	}' "$PING_LOG"
}
e2e_replied() { [ -n "$(e2e_first_reply)" ]; }
# e2e_outage: after e2e_kill_owner: waits until E2E_OUTAGE_WAIT s (default
# 30) after the kill for that first reply and stops the ping. OUTAGE: the
# seconds from the kill to the first reply ("none" and status 1 when none
# came).
e2e_outage() {
	local left back
	left=$(awk -v k="$KILL_AT" -v n="$(now)" -v w="${E2E_OUTAGE_WAIT:-30}" 'BEGIN {print k + w - n}')
	wait_for "$left" e2e_replied
	kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
	back=$(e2e_first_reply)
	if [ -z "$back" ]; then
		OUTAGE=none
		echo "  outage: no ping reply within ${E2E_OUTAGE_WAIT:-30} s of the kill"
		return 1
	fi
	OUTAGE=$(awk -v a="$back" -v k="$KILL_AT" 'BEGIN {printf "%.2f", a - k}')
	echo "  outage: ${OUTAGE} s from kill -9 to the first ping reply after it"
}

# e2e_takeover_round N DEST [ADDRS]: round N, after e2e_owner: kill -9
# OWNER under a ping to DEST. OTHER must own every shard, start a fresh
# pppd in the session (with ADDRS, "local:remote", when given: the
# addresses of the session's record), and PPP must answer again within
# E2E_MAX_OUTAGE s (default 5) of the kill. Then: the old pppd gone, the
# subscriber's address kept, tunnel and session in Redis and in xl2tpd, no
# zombie under OTHER. Sets OUTAGE, NEW_PPPD; appends "KILL_TS OWNED_TS
# victim survivor" to $W/kill-windows (the kill window: until OTHER owned
# every shard). Status 1 when PPP did not come back.
e2e_takeover_round() {
	local n=$1 dest=$2 addrs=${3:-} mark line='' max=${E2E_MAX_OUTAGE:-5}
	mark=$(stat -c %s "$W/worker-$OTHER.log")
	PING_LOG=$W/ping-$n.log
	e2e_kill_owner "$dest"
	other_all() { [ "$(rcli hvals tandem:shardmap | grep -c "owner=$OTHER ")" -eq 256 ]; }
	check "round $n: $OTHER owns every shard after kill -9 of $OWNER" wait_for 10 other_all
	echo "$KILL_TS $(log_ts) $OWNER $OTHER" >> "$W/kill-windows"
	restarted() {
		line=$(tail -c +$((mark + 1)) "$W/worker-$OTHER.log" |
			grep -m1 "msg=\"pppd started\" tid=$TID sid=$SID pid=[0-9]* addrs=$addrs")
	}
	if ! wait_for "${E2E_OUTAGE_WAIT:-30}" restarted; then
		bad "round $n: $OTHER did not start pppd in session $TID/$SID${addrs:+ with $addrs}"
		kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
		return 1
	fi
	NEW_PPPD=$(echo "$line" | sed -n 's/.* pid=\([0-9]*\) .*/\1/p')
	ok "round $n: $OTHER started pppd ${NEW_PPPD:-?} in session $TID/$SID${addrs:+ with $addrs}"
	e2e_outage || { bad "round $n: PPP did not come back within ${E2E_OUTAGE_WAIT:-30} s of the kill"; return 1; }
	check "round $n: PPP back within $max s of the kill ($OUTAGE s)" \
		awk -v o="$OUTAGE" -v m="$max" 'BEGIN {exit !(o <= m)}'
	old_gone() { # exited (a zombie too: reaping is the zombie check's)
		! kill -0 "$OLD_PPPD" 2>/dev/null || ps -o stat= -p "$OLD_PPPD" | grep -q Z
	}
	check "round $n: the old pppd $OLD_PPPD is gone (its tty hung up)" wait_for 5 old_gone
	check "round $n: the subscriber kept its address" [ "$(sub_addr)" = "$ADDR" ]
	check "round $n: same tunnel and session in Redis" [ "$(rcli hexists "tandem:s:$TID" "$SID")" = 1 ]
	check "round $n: ping across the PPP link after the takeover" lac ping -c 3 -i 0.2 -W 2 "$dest"
	check "round $n: xl2tpd kept its tunnel and call" \
		bash -c "! grep -qiE 'Connection .* closed|disconnect|maximum retries' '$W/xl2tpd.log'"
	check "round $n: no zombie pppd under $OTHER" \
		bash -c "[ -z \"\$(ps -o stat= --ppid ${WPID[$OTHER]} | grep Z)\" ]"
}
