#!/bin/bash
# tandem-lac against a real xl2tpd LNS on loopback: tunnels and calls come up
# with and without tunnel authentication (and with hidden AVPs), the JSON
# report says so (every ICRQ answered by ICRP, sane final Ns/Nr), and the
# failure cases are reported as such (wrong secret, no secret, no LNS).
# xl2tpd cannot start pppd here (no /dev/ppp), so it clears each call with
# CDN soon after ICCN: expected, hence --allow-cdn. Then --probe against a
# real single-node tandem: SIGUSR1 rounds answered at once, and a round sent
# while the worker is stopped answered by retransmission once it runs again;
# and --data: data messages on every call, counted by the LAC and the worker.
# Done within 60 s.
. "$(dirname "$0")/lib.sh"
echo "tandem-lac -> xl2tpd LNS, and --probe -> single-node tandem"
LAC=$BIN/tandem-lac
XL2TPD=/usr/sbin/xl2tpd
LNS_ADDR=$(rand_lo)
LAC_ADDR=$(rand_lo)
SECRET='lac-test-s3cret'
T=4 # tunnels
S=5 # sessions per tunnel

# Whatever happens, stop before 60 s (the LAC runs below are bounded too).
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 55 &
	sp=$!
	wait $sp && echo "  watchdog: 55 s passed" && kill -TERM $$
) 2>/dev/null &
PIDS+=($!)
trap 'exit 1' TERM

for f in "$LAC" "$XL2TPD"; do
	[ -x "$f" ] || { bad "missing $f"; finish lac; exit 1; }
done
command -v jq >/dev/null || { bad "missing jq"; finish lac; exit 1; }

# start_lns NAME PORT AUTHFILE EXTRA: an xl2tpd LNS on LNS_ADDR:PORT.
start_lns() {
	local name=$1 port=$2 auth=$3 extra=$4 d="$WORK/$1"
	mkdir -p "$d"
	cat >"$d/xl2tpd.conf" <<EOF
[global]
listen-addr = $LNS_ADDR
port = $port
auth file = $auth
[lns default]
ip range = 198.51.100.2-198.51.100.254
local ip = 198.51.100.1
require authentication = no
hostname = xl2tpd-$name
$extra
EOF
	"$XL2TPD" -D -c "$d/xl2tpd.conf" -p "$d/xl2tpd.pid" -C "$d/ctl" \
		>"$d/xl2tpd.log" 2>&1 &
	PIDS+=($!)
	wait_for 5 grep -q "Listening on IP address" "$d/xl2tpd.log"
}

# lac NAME ARGS...: one tandem-lac run, JSON report in $WORK/NAME.json,
# logs in $WORK/NAME.err, exit status in RC.
lac() {
	local name=$1
	shift
	timeout -k 2 20 "$LAC" --bind "$LAC_ADDR" --json \
		--report-file "$WORK/$name.json" "$@" 2>"$WORK/$name.err"
	RC=$?
}

# jqc NAME EXPR: the report NAME satisfies the jq expression.
jqc() {
	jq -e "$2" "$WORK/$1.json" >/dev/null
}

summary() { # one line per run, for the log
	jq -r '"    \(.tunnels_established)/\(.tunnels_requested) tunnels, \(.icrp_received) ICRP, \(.sessions_established)/\(.sessions_requested) calls, setup p50=\(.setup_latency_ms.p50) ms p99=\(.setup_latency_ms.p99) ms, \(.messages.retransmitted) retransmitted, \(.elapsed_ms) ms"' \
		"$WORK/$1.json" 2>/dev/null
}

echo "$SECRET" | sed 's/^/* * /' >"$WORK/secrets"
: >"$WORK/no-secrets"
chmod 600 "$WORK/secrets" "$WORK/no-secrets"
PLAIN_PORT=$(free_port udp)
AUTH_PORT=$(free_port udp)
DEAD_PORT=$(free_port udp)
check "xl2tpd LNS without tunnel auth listens on $LNS_ADDR:$PLAIN_PORT" \
	start_lns plain "$PLAIN_PORT" "$WORK/no-secrets" ""
check "xl2tpd LNS with tunnel auth (challenge, hidden bit) listens on $LNS_ADDR:$AUTH_PORT" \
	start_lns auth "$AUTH_PORT" "$WORK/secrets" \
	"$(printf 'challenge = yes\nhidden bit = yes')"

# Command line.
"$LAC" --help >/dev/null 2>&1
check "--help exits 0" [ $? -eq 0 ]
"$LAC" --tunnels 2 >/dev/null 2>&1
check "no --lns is a usage error (exit 2)" [ $? -eq 2 ]
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --hide >/dev/null 2>&1
check "--hide without --secret is a usage error (exit 2)" [ $? -eq 2 ]
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --retransmit 0.2 --retransmit-max 0.1 \
	>/dev/null 2>"$WORK/usage.err"
check "--retransmit-max below --retransmit: exit 2, the message names it" \
	bash -c "[ $? -eq 2 ] && grep -q -- '--retransmit-max' '$WORK/usage.err'"
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --retransmit-max 0 >/dev/null 2>&1
check "--retransmit-max 0 is a usage error (exit 2)" [ $? -eq 2 ]
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --probe >/dev/null 2>&1
check "--probe without --duration is a usage error (exit 2)" [ $? -eq 2 ]
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --data 1 >/dev/null 2>&1
check "--data without --duration is a usage error (exit 2)" [ $? -eq 2 ]
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --duration 1 --data-to 127.0.0.1:9 >/dev/null 2>&1
check "--data-to without --data is a usage error (exit 2)" [ $? -eq 2 ]
"$LAC" --lns "$LNS_ADDR:$PLAIN_PORT" --duration 1 --data 1 --data-size 1401 >/dev/null 2>&1
check "--data-size above 1400 is a usage error (exit 2)" [ $? -eq 2 ]

# The good cases: every tunnel and call up, closed cleanly at the end.
ALL_UP=".tunnels_established == $T and .tunnels_failed == 0 and
	.icrp_received == $((T * S)) and .sessions_established == $((T * S)) and
	.sessions_failed == 0 and .tunnels_torn_down_by_lns == 0 and
	.tunnels_close_unacked == 0 and .setup_latency_ms.count == $((T * S))"
# Per tunnel: an LNS Tunnel ID, closed and acknowledged, and at least
# SCCRQ, SCCCN, S x (ICRQ, ICCN), StopCCN sent and SCCRP, S x ICRP seen.
SEQ="[.tunnels[] | select(.lns_tid > 0 and .state == \"DEAD\" and
	.unacked == 0 and .ns >= $((3 + 2 * S)) and .nr >= $((1 + S)))]
	| length == $T"
for mode in plain auth auth-hide; do
	case $mode in
	plain) args=(--lns "$LNS_ADDR:$PLAIN_PORT") ;;
	auth) args=(--lns "$LNS_ADDR:$AUTH_PORT" --secret "$SECRET") ;;
	auth-hide) args=(--lns "$LNS_ADDR:$AUTH_PORT" --secret "$SECRET" --hide) ;;
	esac
	lac "$mode" "${args[@]}" --tunnels $T --sessions $S --allow-cdn
	summary "$mode"
	check "$mode: exit 0" [ "$RC" -eq 0 ]
	check "$mode: $T tunnels up, ICRP for all $((T * S)) calls, all established" \
		jqc "$mode" "$ALL_UP"
	check "$mode: every tunnel has sane final Ns/Nr, StopCCN acknowledged" \
		jqc "$mode" "$SEQ"
done
check "auth: xl2tpd saw no tunnel authentication failure" \
	bash -c "! grep -qi 'authentication failed\|Invalid Hidden' '$WORK/auth/xl2tpd.log'"

# Failures are reported, with the exit status saying so.
lac wrong --lns "$LNS_ADDR:$AUTH_PORT" --secret "wrong $SECRET" \
	--tunnels 2 --sessions 1
check "wrong secret: exit 1, both tunnels failed auth, no call placed" \
	[ "$RC" -eq 1 ]
check "wrong secret: report says auth" \
	jqc wrong '.tunnel_failures.auth == 2 and .sessions_attempted == 0 and
		.session_failures.tunnel_failed == 2'
lac nosecret --lns "$LNS_ADDR:$AUTH_PORT" --tunnels 1 --sessions 1
check "LNS challenges, LAC has no secret: exit 1, reported as no_secret" \
	bash -c "[ $RC -eq 1 ] && jq -e '.tunnel_failures.no_secret == 1' \
		'$WORK/nosecret.json' >/dev/null"
lac nolns --lns "$LNS_ADDR:$DEAD_PORT" --tunnels 2 --sessions 1 \
	--retransmit 0.1 --retries 2 --close-wait 0.5
check "no LNS listening: exit 1, both tunnels time out" \
	bash -c "[ $RC -eq 1 ] && jq -e '.tunnel_failures.timeout == 2 and
		.tunnels_established == 0' '$WORK/nolns.json' >/dev/null"
# --retransmit-max caps the doubling: 50, then 100 ms steps, so 4 retries
# time out after 0.45 s (uncapped: 1.55 s).
lac rtmax --lns "$LNS_ADDR:$DEAD_PORT" --tunnels 2 --sessions 1 \
	--retransmit 0.05 --retransmit-max 0.1 --retries 4 --close-wait 0.2
check "--retransmit 0.05 --retransmit-max 0.1: 4 retransmissions each, dead within 1.2 s" \
	bash -c "[ $RC -eq 1 ] && jq -e '.tunnel_failures.timeout == 2 and
		.messages.retransmitted == 8 and .elapsed_ms < 1200' \
		'$WORK/rtmax.json' >/dev/null"

# HELLO when idle, and --duration bounds the run.
lac hello --lns "$LNS_ADDR:$PLAIN_PORT" --tunnels 2 --sessions 0 \
	--hello 0.5 --duration 2
check "idle tunnels send HELLO, then close at --duration" \
	bash -c "[ $RC -eq 0 ] && jq -e '.ended_by == \"duration\" and
		.messages.hello_sent >= 4 and .tunnels_closed == 2' \
		'$WORK/hello.json' >/dev/null"

# --churn keeps placing calls on the slots that free up.
lac churn --lns "$LNS_ADDR:$PLAIN_PORT" --tunnels 2 --sessions 2 --churn \
	--hold 0.2 --duration 2 --rate 20 --allow-cdn
summary churn
check "churn: exit 0, more calls placed than slots" \
	bash -c "[ $RC -eq 0 ] && jq -e '.sessions_attempted > 8 and
		.sessions_failed == 0' '$WORK/churn.json' >/dev/null"

# What xl2tpd does without /dev/ppp: CDN (lost carrier) after our ICCN was
# acknowledged. Without --allow-cdn that fails the run.
if [ ! -e /dev/ppp ]; then
	lac cdn --lns "$LNS_ADDR:$PLAIN_PORT" --tunnels 1 --sessions 2 \
		--duration 3
	check "xl2tpd clears established calls (CDN result 1): exit 1 without --allow-cdn" \
		bash -c "[ $RC -eq 1 ] && jq -e '.sessions_established == 2 and
			.sessions_cleared_by_lns == 2 and
			.sessions_cleared_by_result[0].result == 1' \
			'$WORK/cdn.json' >/dev/null"
fi

# --probe against a real single-node tandem (redis, worker, frontend).
PT=20 # tunnels
PS=2  # sessions per tunnel
TANDEM_ADDR=$(rand_lo)

WORKER_METRICS=$(free_port tcp)
tandem_up() {
	start_redis || return 1
	write_conf "$WORK/tandem.conf" "$TANDEM_ADDR:1701"
	write_conf "$WORK/worker.conf" "$TANDEM_ADDR:1701" "metrics_listen 127.0.0.1:$WORKER_METRICS"
	start_worker w1 "$WORK/worker.conf"
	WORKER_PID=$LAST_PID
	start_frontend f1 "$WORK/tandem.conf"
	wait_for 10 cluster_ready
}

# probe_start NAME ARGS...: a --probe LAC in the background (not under
# timeout(1), which SIGUSR1 would kill; --duration bounds it, probe_wait
# too), its PT tunnels up and calls placed. Report in $WORK/NAME.json.
probe_start() {
	local name=$1
	shift
	"$LAC" --lns "$TANDEM_ADDR:1701" --bind "$LAC_ADDR" --json \
		--report-file "$WORK/$name.json" --log-level info --probe \
		--tunnels $PT --sessions $PS --hello 0 --duration 6 "$@" \
		2>"$WORK/$name.err" &
	LAC_PID=$!
	PIDS+=($LAC_PID)
	PROBE_NAME=$name
	wait_for 5 probe_tunnels_up && sleep 0.5
}
probe_tunnels_up() {
	local n
	n=$(grep -c 'msg="tunnel up"' "$WORK/$PROBE_NAME.err" 2>/dev/null)
	[ "${n:-0}" -ge $PT ]
}
lac_running() { # not exited (an exited child is a zombie until waited for)
	ps -o stat= -p "$LAC_PID" 2>/dev/null | grep -qv Z
}
lac_exited() { ! lac_running; }
# probe_wait: its exit status in RC, within 12 s.
probe_wait() {
	wait_for 12 lac_exited || kill -9 "$LAC_PID" 2>/dev/null
	wait "$LAC_PID"
	RC=$?
}
probe_summary() {
	jq -r '.probes[] | "    probe: \(.answered)/\(.tunnels) answered, p50=\(.p50_ms) ms p99=\(.p99_ms) ms max=\(.max_ms) ms"' \
		"$WORK/$1.json" 2>/dev/null
	jq -r '"    \(.messages.retransmitted) retransmitted, \(.messages.hello_sent) HELLOs"' \
		"$WORK/$1.json" 2>/dev/null
}

if [ ! -x "$BIN/tandem-worker" ] || [ ! -x "$BIN/tandem-frontend" ]; then
	bad "missing $BIN/tandem-worker or tandem-frontend"
elif ! check "single-node tandem ready on $TANDEM_ADDR:1701" tandem_up; then
	:
else
	# Two rounds, the LNS answering: every HELLO acknowledged at once
	# (the worker's ZLB follows its 50 ms ack delay).
	check "probe: $PT tunnels up before the first SIGUSR1" \
		probe_start probe
	kill -USR1 "$LAC_PID"
	sleep 1
	kill -USR1 "$LAC_PID"
	probe_wait
	probe_summary probe
	check "probe: exit 0, $PT tunnels and $((PT * PS)) calls up" \
		bash -c "[ $RC -eq 0 ] && jq -e '.sessions_established ==
			$((PT * PS)) and .ended_by == \"duration\"' \
			'$WORK/probe.json' >/dev/null"
	check "probe: 2 rounds, each $PT/$PT answered, max under 500 ms" \
		jqc probe "(.probes | length) == 2 and all(.probes[];
			.tunnels == $PT and .answered == $PT and
			.unanswered == 0 and .max_ms < 500)"

	# The worker stopped across the probe: nothing is acknowledged until
	# it runs again 1.5 s later; the HELLOs, retransmitted after 0.25 s,
	# then every 0.5 s (the cap), are then answered.
	check "probe-stopped: $PT tunnels up before SIGUSR1" \
		probe_start probe-stopped --retransmit 0.25 \
		--retransmit-max 0.5 --retries 10
	kill -STOP "$WORKER_PID"
	kill -USR1 "$LAC_PID"
	sleep 1.5
	kill -CONT "$WORKER_PID"
	probe_wait
	probe_summary probe-stopped
	check "probe-stopped: exit 0, no tunnel lost or torn down" \
		bash -c "[ $RC -eq 0 ] && jq -e '.tunnels_lost == 0 and
			.tunnels_torn_down_by_lns == 0' \
			'$WORK/probe-stopped.json' >/dev/null"
	check "probe-stopped: 1 round, $PT/$PT answered, p50 and max >= 1000 ms, by retransmission" \
		jqc probe-stopped "(.probes | length) == 1 and
			.probes[0].answered == $PT and
			.probes[0].unanswered == 0 and
			.probes[0].p50_ms >= 1000 and
			.probes[0].max_ms >= 1000 and
			.messages.retransmitted >= $PT"

	# --data: data messages on every call once all are up, counted by
	# the LAC and by the worker (some may be dropped on a busy machine,
	# none may be invented)
	"$LAC" --lns "$TANDEM_ADDR:1701" --bind "$LAC_ADDR" --json \
		--report-file "$WORK/data.json" --log-level info --tunnels 2 \
		--sessions 3 --hello 0 --data 0.3 --duration 2 2>"$WORK/data.err"
	RC=$?
	check "data: exit 0, 6 calls up, data messages sent, none refused" \
		bash -c "[ $RC -eq 0 ] && jq -e '.sessions_established == 6 and
			.data.sent > 0 and .data.errors == 0 and .data.seconds > 0.2' \
			'$WORK/data.json' >/dev/null"
	sleep 0.5 # what the frontend still holds reaches the worker
	sent=$(jq -r '.data.sent // 0' "$WORK/data.json" 2>/dev/null)
	got=$(metric_value "$WORKER_METRICS" tandem_worker_data_received_total)
	check "data: the worker handed ${got:-?} of the ${sent:-?} sent to calls" \
		bash -c "[ '${got:-0}' -gt 0 ] && [ '${got:-0}' -le '${sent:-0}' ]"
fi

if [ "$FAIL" -gt 0 ]; then
	for f in "$WORK"/*.err; do
		echo "--- $f"
		tail -n 5 "$f"
	done
fi
finish lac
