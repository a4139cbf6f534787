#!/bin/bash
# make bench, part 4: one tunnel carrying many calls, tandem beside l2tpns
# (Debian's l2tpns 2.4.1, a single-process LNS that forks no pppd) in the
# same run with the same LAC. Per shape (tunnels x calls) and LNS: setups/s,
# setup latency p50/p99, the LNS's CPU per setup, and the ratios. Each LNS
# runs fresh and alone in a network namespace of its own, the LAC in another,
# joined by a veth pair; nothing in /etc changes (l2tpns reads its fixed
# /etc/l2tpns/ip_pool through a bind mount private to its own process).
# Needs root. Every wait is bounded. Appends to bench/results.txt (or
# $BENCH_OUT). BENCH_L2TPNS_SHAPES="1x2000 20x100" picks the shapes.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
. "$TOP/tests/integration/lib.sh"
OUT=${BENCH_OUT:-$TOP/bench/results.txt}
SHAPES=${BENCH_L2TPNS_SHAPES:-"1x20000 20x2500 200x250"}
CONC=${BENCH_L2TPNS_CONCURRENCY:-4000}
L2TPNS=${L2TPNS:-/usr/sbin/l2tpns}
HZ=$(getconf CLK_TCK)
# Documentation ranges only: LAC .1 and LNS .2 on each link (RFC 5737), the
# l2tpns address pool in the benchmarking range (RFC 2544).
TANDEM_NET=192.0.2
L2TPNS_NET=198.51.100
L2TPNS_POOL=198.18.0.0/16
NS_PREFIX=tbl$$
NSES=()

if [ "$(id -u)" -ne 0 ]; then
	echo "bench/l2tpns.sh: needs root (network namespaces)" >&2
	exit 1
fi
if [ ! -x "$L2TPNS" ]; then
	echo "bench/l2tpns.sh: no $L2TPNS: install the Debian package l2tpns (make deps)" >&2
	exit 1
fi
if [ ! -c /dev/net/tun ]; then
	echo "bench/l2tpns.sh: no /dev/net/tun: l2tpns cannot start" >&2
	exit 1
fi

# Our namespaces go after our processes; what is still inside one (only
# what this script started there) is killed first.
ns_cleanup() {
	local ns
	for ns in "${NSES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}
trap 'cleanup; ns_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
calc() { /usr/bin/python3 -c "print($1)"; }

# net_pair NAME NET: fresh namespaces NAME-lns and NAME-lac, a veth between
# them, NET.1 on the LAC's end and NET.2 on the LNS's; loopback up in both
net_pair() {
	local lns=$NS_PREFIX-$1-lns lac=$NS_PREFIX-$1-lac
	ip netns add "$lns" || return 1
	NSES+=("$lns")
	ip netns add "$lac" || return 1
	NSES+=("$lac")
	ip link add name lac0 netns "$lac" type veth peer name lns0 netns "$lns" &&
		ip -n "$lac" addr add "$2.1/24" dev lac0 &&
		ip -n "$lns" addr add "$2.2/24" dev lns0 &&
		ip -n "$lac" link set lac0 up && ip -n "$lac" link set lo up &&
		ip -n "$lns" link set lns0 up && ip -n "$lns" link set lo up
	LNS_NS=$lns
	LAC_NS=$lac
}

# net_drop NAME: the pair's namespaces, once their processes are gone
net_drop() {
	local ns keep=()
	for ns in "${NSES[@]}"; do
		case $ns in
		"$NS_PREFIX-$1-lns" | "$NS_PREFIX-$1-lac")
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null ;;
		*) keep+=("$ns") ;;
		esac
	done
	NSES=("${keep[@]}")
}

# stop PID...: SIGTERM, at most 10 s each, then SIGKILL; reaped, and out
# of PIDS so that the EXIT trap never signals a reused PID
stop() {
	local p keep=() q
	kill -TERM "$@" 2>/dev/null
	for p in "$@"; do
		wait_for 10 exited "$p" || kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for q in "${PIDS[@]}"; do
		for p in "$@"; do [ "$q" = "$p" ] && continue 2; done
		keep+=("$q")
	done
	PIDS=("${keep[@]}")
}

# lac NAME NET TUNNELS CALLS PID...: tandem-lac against NET.2 from NET.1;
# the CPU of each PID is read just before it starts and just after it ends.
# Sets LAC_JSON, CPU_TICKS (the sum), CPU_OF[PID] and DROPS.
declare -A CPU_OF
lac() {
	local name=$1 net=$2 t=$3 s=$4 bound p
	shift 4
	# thousands of setups a second: the bound leaves room for a slow machine
	bound=$((60 + (t + t * s) / 1000))
	LAC_JSON=$WORK/$name/lac.json
	for p in "$@"; do CPU_OF[$p]=$(ticks "$p"); done
	timeout "$bound" ip netns exec "$LAC_NS" "$BIN/tandem-lac" --lns "$net.2:1701" \
		--bind "$net.1" --tunnels "$t" --sessions "$s" --concurrency "$CONC" \
		--no-teardown --json --report-file "$LAC_JSON" 2> "$WORK/$name/lac.err"
	CPU_TICKS=0
	for p in "$@"; do
		CPU_OF[$p]=$(($(ticks "$p") - CPU_OF[$p]))
		CPU_TICKS=$((CPU_TICKS + CPU_OF[$p]))
	done
	DROPS="UDP receive-buffer drops: LNS side $(udp_drops "$LNS_NS") (its socket's buffer $(rcvbuf "$LNS_NS" "$net.2") B), LAC side $(udp_drops "$LAC_NS")"
}
# udp_drops NS: datagrams the kernel dropped for a full socket receive
# buffer in that namespace (Udp RcvbufErrors of /proc/net/snmp; the
# namespace is new, so the count is this run's)
udp_drops() {
	ip netns exec "$1" cat /proc/net/snmp | awk '$1 == "Udp:" {
		if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c + 0 }'
}
# rcvbuf NS ADDR: the receive buffer of the UDP socket bound to ADDR:1701
# in that namespace, in bytes (what the LNS asked for, doubled by the kernel)
rcvbuf() {
	ip netns exec "$1" ss -uanm "src $2 and sport = :1701" |
		sed -n 's/.*skmem:(r[0-9]*,rb\([0-9]*\),.*/\1/p' | head -n 1
}
secs() { calc "round(${CPU_OF[$1]} / $HZ, 2)"; } # secs PID: its CPU in the last lac()

# report LNS SHAPE [what each PID's CPU was]: the result line of one run;
# sets RATE and US (CPU µs per setup) for the ratio line
report() {
	local n ms p50 p99
	RATE=0
	US=0
	if [ ! -s "$LAC_JSON" ]; then
		echo "$2 $1: no LAC report (it did not finish in time; $WORK/$1-$2/lac.err)"
		FAIL=$((FAIL + 1))
		return
	fi
	n=$(json "$LAC_JSON" 'r["sessions_established"]')
	ms=$(json "$LAC_JSON" 'r["elapsed_ms"]')
	p50=$(json "$LAC_JSON" 'r["setup_latency_ms"]["p50"]')
	p99=$(json "$LAC_JSON" 'r["setup_latency_ms"]["p99"]')
	RATE=$((n * 1000 / (ms > 0 ? ms : 1)))
	US=$(calc "round($CPU_TICKS * 1e6 / $HZ / max($n, 1))")
	echo "$2 $1: $n/$(json "$LAC_JSON" 'r["sessions_requested"]') calls in $ms ms" \
		"(tunnel setup included) = $RATE setups/s; setup latency p50 $p50 ms p99 $p99 ms;" \
		"LNS CPU $(calc "round($CPU_TICKS / $HZ, 2)") s = $US µs/setup${3:+ ($3)}"
	echo "  ($(json "$LAC_JSON" '"LAC: %d calls failed%s, %d cleared by the LNS, %d tunnels failed, %d retransmissions" % (r["sessions_failed"], " %s" % r["session_failures"] if r["session_failures"] else "", r["sessions_cleared_by_lns"], r["tunnels_failed"], r["messages"]["retransmitted"])'); $DROPS)"
}

# ---- tandem: 1 frontend + 1 worker + redis-server (AOF, everysec) ----
# write_conf of lib.sh: deploy/tandem.conf.example, only `listen` and
# `redis` changed; its ppp_backend stays unless it needs pppd.
tandem_ready() { # every shard owned and the frontend registered
	local r="timeout 2 ip netns exec $LNS_NS redis-cli -p $REDIS_PORT"
	[ "$($r hvals tandem:shardmap 2>/dev/null | grep -c 'owner=[^-]')" -eq "$SHARDS" ] &&
		[ "$($r hlen tandem:frontends 2>/dev/null)" -ge 1 ]
}
run_tandem() { # run_tandem TUNNELS CALLS
	local t=$1 s=$2 name=tandem-${1}x$2 d redis wk fe
	d=$WORK/$name
	mkdir -p "$d"
	net_pair "$name" "$TANDEM_NET" || { echo "${t}x$s tandem: network namespaces failed"; FAIL=$((FAIL + 1)); return; }
	REDIS_PORT=6379 # the namespace is new: nothing else binds there
	ip netns exec "$LNS_NS" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
		--appendonly yes --appendfsync everysec --dir "$d" --logfile "$d/redis.log" &
	redis=$!
	PIDS+=("$redis")
	wait_for 5 timeout 2 ip netns exec "$LNS_NS" redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1
	write_conf "$d/t.conf" "$TANDEM_NET.2:1701" "${PPP_OVERRIDE[@]}"
	SHARDS=$(sed -n 's/^shard_count //p' "$d/t.conf")
	ip netns exec "$LNS_NS" "$BIN/tandem-worker" -c "$d/t.conf" --id w1 > "$d/worker.log" 2>&1 &
	wk=$!
	PIDS+=("$wk")
	ip netns exec "$LNS_NS" "$BIN/tandem-frontend" -c "$d/t.conf" --id f1 > "$d/frontend.log" 2>&1 &
	fe=$!
	PIDS+=("$fe")
	if ! wait_for 15 tandem_ready; then
		echo "${t}x$s tandem: cluster not ready in 15 s (logs in $d)"
		FAIL=$((FAIL + 1))
	else
		lac "$name" "$TANDEM_NET" "$t" "$s" "$wk" "$fe" "$redis"
		report tandem "${t}x$s" "worker $(secs "$wk") s, frontend $(secs "$fe") s, redis-server $(secs "$redis") s"
	fi
	stop "$wk" "$fe" "$redis"
	net_drop "$name"
}

# ---- l2tpns ----
# Foreground (no -d), so the PID is its own. Its ip_pool path is fixed
# (/etc/l2tpns/ip_pool): it runs in a mount namespace of its own in which
# a temp dir is bind-mounted on /etc/l2tpns, so the host's files are never
# touched. It starts as a cluster slave and takes the master role once
# cluster_hb_timeout has passed without a heartbeat (3.1 s at least: it
# raises anything lower); until then it would forward every packet to a
# master that does not exist, so the LAC waits for that log line.
l2tpns_conf() { # l2tpns_conf DIR: startup-config, ip_pool and users in DIR/etc
	mkdir -p "$1/etc"
	cat > "$1/etc/startup-config" <<EOT
# bench/l2tpns.sh: l2tpns as LNS for tandem-lac. No RADIUS, no PPP
# authentication, no tunnel secret: tandem-lac places calls and runs no PPP,
# and sends no Challenge, so l2tp_secret would never be used.
set debug 1
set log_file "$1/l2tpns.log"
set pid_file "$1/l2tpns.pid"
set bind_address $L2TPNS_NET.2
set iftun_address $L2TPNS_NET.254
set cli_bind_address 127.0.0.1
set send_garp no
set cluster_interface lns0
set cluster_hb_interval 5
set cluster_hb_timeout 31
set primary_dns 0.0.0.0
set secondary_dns 0.0.0.0
EOT
	echo "$L2TPNS_POOL" > "$1/etc/ip_pool"
	: > "$1/etc/users"
}
own_session() { [ "$(ps -o sid= -p "$1" 2>/dev/null | tr -d ' ')" = "$1" ]; }
l2tpns_master() { grep -q 'I am declaring myself the master' "$1/l2tpns.log" 2>/dev/null; }
run_l2tpns() { # run_l2tpns TUNNELS CALLS
	local t=$1 s=$2 name=l2tpns-${1}x$2 d pid
	d=$WORK/$name
	mkdir -p "$d"
	net_pair "$name" "$L2TPNS_NET" || { echo "${t}x$s l2tpns: network namespaces failed"; FAIL=$((FAIL + 1)); return; }
	l2tpns_conf "$d"
	# setsid: on SIGTERM l2tpns signals its whole process group (kill(0)),
	# which would otherwise be this script, make and the shell running it.
	# unshare without --fork, sh's exec and setsid (sh leads no group, so
	# setsid does not fork either): $! is l2tpns itself.
	# shellcheck disable=SC2016 # $1 and $2 are the inner sh's arguments
	ip netns exec "$LNS_NS" unshare --mount --propagation private sh -c \
		'mount --bind "$1/etc" /etc/l2tpns && exec setsid "$2" -c "$1/etc/startup-config"' \
		sh "$d" "$L2TPNS" > "$d/l2tpns.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_for 5 own_session "$pid"; then
		# not its own session (or gone): never signal it, it would signal us
		echo "${t}x$s l2tpns: did not start in a session of its own: $(tail -n 3 "$d/l2tpns.out" 2>/dev/null | tr '\n' ' ')"
		FAIL=$((FAIL + 1))
		kill -9 "$pid" 2>/dev/null
	elif ! wait_for 20 l2tpns_master "$d"; then
		echo "${t}x$s l2tpns: not master in 20 s: $(tail -n 3 "$d/l2tpns.log" "$d/l2tpns.out" 2>/dev/null | tr '\n' ' ')"
		FAIL=$((FAIL + 1))
	else
		lac "$name" "$L2TPNS_NET" "$t" "$s" "$pid"
		report l2tpns "${t}x$s"
	fi
	stop "$pid"
	net_drop "$name"
}

# not `{ ...; } | tee`: that would run the body in a subshell whose
# processes the EXIT trap could not see
exec > >(tee -a "$OUT") 2>&1
echo "one tunnel, many calls: tandem beside l2tpns $(date -u +%FT%TZ) on $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tandem $("$BIN/tandem-worker" --version 2>/dev/null | awk '{print $NF}'): 1 frontend + 1 worker + redis-server (appendonly yes, appendfsync everysec); l2tpns $(dpkg-query -W -f='${Version}' l2tpns 2>/dev/null || echo '(version unknown)'), one process"
backend=$(sed -n 's/^ppp_backend //p' "${CONF_EXAMPLE:-$TOP/deploy/tandem.conf.example}")
PPP_OVERRIDE=()
if [ "$backend" = count ]; then
	echo "tandem config: deploy/tandem.conf.example with only listen and redis changed; its ppp_backend is count (no pppd: frames are only counted)"
else
	PPP_OVERRIDE=("ppp_backend count")
	echo "tandem config: deploy/tandem.conf.example with listen and redis changed, and ppp_backend count instead of its $backend (which needs pppd)"
fi
echo "l2tpns: no RADIUS, no tunnel secret; after each ICCN it starts PPP (an LCP Configure-Request the LAC drops)"
echo "LAC: tandem-lac --concurrency $CONC --no-teardown --json; a call = ICRQ -> ICRP -> ICCN acknowledged; each LNS fresh per shape, alone in its own network namespace, the LAC in another, one veth between"
echo "LNS CPU: utime+stime (+ reaped children) from /proc/PID/stat just before and after the LAC; tandem: worker + frontend + redis-server"
for shape in $SHAPES; do
	case $shape in
	*[!0-9x]* | x* | *x | *x*x*) echo "bad shape $shape (want TUNNELSxCALLS)"; FAIL=$((FAIL + 1)); continue ;;
	esac
	t=${shape%x*}
	s=${shape#*x}
	run_tandem "$t" "$s"
	trate=$RATE tus=$US
	run_l2tpns "$t" "$s"
	if [ "$RATE" -gt 0 ] && [ "$trate" -gt 0 ]; then
		echo "$shape tandem/l2tpns: rate $(calc "round($trate / $RATE, 2)")x, CPU per setup $(calc "round($tus / max($US, 1), 2)")x"
	fi
done
echo "data path: bench/data.sh (make bench, after this)"
[ "$FAIL" -eq 0 ]
