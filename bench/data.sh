#!/bin/bash
# make bench, part 5: the data path. tandem-lac sets up T tunnels x S calls
# on tandem (1 frontend, 1 worker with ppp_backend count, Redis with AOF),
# then sends data messages on the calls in turn for BENCH_DATA_SECONDS as
# fast as its sockets take them (--data). Counted: what the LAC sent, what
# the frontend received and what reached a call in the worker
# (tandem_worker_data_received_total). The ceiling, in the same run: the
# same LAC, the same calls and datagrams, sent to a plain UDP receiver
# (build/tests/tools/udp_sink, recvmmsg, the frontend's 16 MiB receive
# buffer) with --data-to. Prints frames/s received by each and the ratio.
# Loopback only; every step is bounded. Appends to bench/results.txt.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$TOP/bin}
TTOOLS=${TTOOLS:-$TOP/build/tests/tools}
. "$TOP/tests/integration/lib.sh"
OUT=$TOP/bench/results.txt
SHAPES=${BENCH_DATA_SHAPES:-"1x100 20x50"}
SECS=${BENCH_DATA_SECONDS:-5}
SIZE=${BENCH_DATA_SIZE:-64}
[ -x "$TTOOLS/udp_sink" ] || { echo "bench/data.sh: no $TTOOLS/udp_sink (make $TTOOLS/udp_sink)" >&2; exit 1; }

json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# lac_data T S DIR NAME [--data-to ADDR]: one LAC run, its report in
# DIR/NAME.json and its log in DIR/NAME.err. The run would end at
# --duration; it is stopped once it logs that the data is sent.
lac_data() {
	local t=$1 s=$2 d=$3 name=$4; shift 4
	"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels "$t" --sessions "$s" \
		--concurrency 2000 --hello 0 --no-teardown --data "$SECS" \
		--data-size "$SIZE" --duration $((SECS + 30)) --json \
		--log-level info --report-file "$d/$name.json" "$@" 2> "$d/$name.err" &
	local lac=$!
	PIDS+=($lac)
	for _ in $(seq $(((SECS + 30) * 10))); do
		grep -q 'msg="data sent"' "$d/$name.err" && break
		exited "$lac" && break
		sleep 0.1
	done
	kill -INT "$lac" 2>/dev/null
	wait_for 15 exited "$lac" || kill -9 "$lac" 2>/dev/null
	wait "$lac" 2>/dev/null
}

run_shape() { # run_shape TUNNELS SESSIONS
	local t=$1 s=$2 d=$WORK/data-${1}x$2 fport wport sport
	mkdir -p "$d"
	LNS=$(rand_lo)
	fport=$(free_port tcp)
	wport=$(free_port tcp)
	while [ "$wport" = "$fport" ]; do wport=$(free_port tcp); done
	start_redis_aof everysec "$d"
	local redis=$REDIS_PID
	write_conf "$d/t.conf" "$LNS:1701" "ppp_backend count"
	"$BIN/tandem-worker" -c "$d/t.conf" --id w --metrics "127.0.0.1:$wport" > "$d/worker.log" 2>&1 &
	local w=$!
	PIDS+=($w)
	"$BIN/tandem-frontend" -c "$d/t.conf" --id f --metrics "127.0.0.1:$fport" > "$d/frontend.log" 2>&1 &
	local fe=$!
	PIDS+=($fe)
	if ! wait_for 15 cluster_ready; then
		echo "data ${t}x$s: the cluster did not come up"
		kill "$w" "$fe" "$redis"; wait "$w" "$fe" "$redis" 2>/dev/null
		return
	fi
	local w0 f0 c0
	w0=$(metric_value "$wport" tandem_worker_data_received_total)
	f0=$(metric_value "$fport" tandem_frontend_datagrams_received_total)
	c0=$(ticks "$w" "$fe")
	lac_data "$t" "$s" "$d" lac-tandem
	sleep 1 # what is still queued is counted or dropped by now
	local w1 f1 c1
	w1=$(metric_value "$wport" tandem_worker_data_received_total)
	f1=$(metric_value "$fport" tandem_frontend_datagrams_received_total)
	c1=$(ticks "$w" "$fe")

	# the ceiling: the same sender to a plain receiver
	sport=$(free_port udp)
	"$TTOOLS/udp_sink" "127.0.0.1:$sport" $((SECS + 40)) > "$d/sink.out" &
	local sink=$!
	PIDS+=($sink)
	wait_for 5 grep -q ready "$d/sink.out"
	local s0 s1
	s0=$(ticks "$sink")
	lac_data "$t" "$s" "$d" lac-plain --data-to "127.0.0.1:$sport"
	s1=$(ticks "$sink") # it ends a second after the last datagram
	wait_for 10 exited "$sink"
	kill "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null

	/usr/bin/python3 - "$t" "$s" "$SIZE" "$d/lac-tandem.json" "$d/lac-plain.json" "$d/sink.out" \
		"$((w1 - w0))" "$((f1 - f0))" "$((c1 - c0))" "$((s1 - s0))" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys
t, s, size = sys.argv[1:4]
a, b = json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
sink = dict(re.findall(r"(\w+)=([0-9.]+)", open(sys.argv[6]).read()))
worker, fe = int(sys.argv[7]), int(sys.argv[8])
hz = float(sys.argv[11])
cpu_t, cpu_s = int(sys.argv[9]) / hz, int(sys.argv[10]) / hz
da, db = a.get("data", {}), b.get("data", {})
def rate(n, sec): return n / sec if sec > 0 else 0.0
if not da.get("sent") or not db.get("sent"):
    print("data %sx%s: the LAC sent no data (calls up: %d, %d)" % (t, s, a["sessions_established"], b["sessions_established"]))
    sys.exit(0)
tr = rate(worker, da["seconds"])
cr = rate(int(sink.get("datagrams", 0)), db["seconds"])
got = int(sink.get("datagrams", 0))
print("data %s tunnels x %s calls, %s-byte PPP payload, %.1f s:" % (t, s, size, da["seconds"]))
print("  tandem: %.0f frames/s reached a call (the LAC sent %d at %.0f/s; the frontend received %d,"
      " the worker counted %d: %.1f%% of those sent); frontend + worker CPU %.2f us per frame"
      % (tr, da["sent"], rate(da["sent"], da["seconds"]), fe, worker, 100.0 * worker / da["sent"],
         1e6 * cpu_t / worker if worker else 0.0))
print("  plain UDP receiver: %.0f frames/s (the LAC sent %d at %.0f/s, %d received: %.1f%%);"
      " its CPU %.2f us per frame" % (cr, db["sent"], rate(db["sent"], db["seconds"]), got,
                                      100.0 * got / db["sent"], 1e6 * cpu_s / got if got else 0.0))
print("  ratio tandem / plain receiver (frames/s): %.2f%s" % (tr / cr if cr else 0.0,
      "; both took all the LAC sent, so this is the sender's limit, not theirs"
      if worker >= da["sent"] and got >= db["sent"] else ""))
PY
	stop_cluster "$w" "$fe" "$redis"
}

exec > >(tee -a "$OUT") 2>&1
echo "data path $(date -u +%FT%TZ) on $(nproc) cores"
for sh in $SHAPES; do
	run_shape "${sh%x*}" "${sh#*x}"
done
