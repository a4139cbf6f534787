#!/bin/bash
# GET /metrics on a live cluster (redis-server, one worker, one frontend,
# tandem-lac holding 5 tunnels x 3 calls): both endpoints answer Prometheus
# text that a strict parser accepts, counters move with the traffic, the
# tunnel and session gauges follow the calls up and down, a 3-byte datagram
# shows as a malformed drop, other paths get 404 and other methods 405, bad
# metrics_listen / --metrics values and a port in use fail start-up, and an
# idle HTTP connection does not hold up SIGTERM. Bounded: done within 60 s.
. "$(dirname "$0")/lib.sh"
echo "metrics: /metrics of a worker and a frontend"
LNS=$(rand_lo)
LAC_ADDR=$(rand_lo)
T=5 # tunnels
S=3 # sessions per tunnel
PY=/usr/bin/python3

(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 55 &
	sp=$!
	wait $sp && echo "  watchdog: 55 s passed" && kill -TERM $$
) 2>/dev/null &
PIDS+=($!)
trap 'exit 1' TERM

for f in "$BIN/tandem-worker" "$BIN/tandem-frontend" "$BIN/tandem-lac"; do
	[ -x "$f" ] || { bad "missing $f"; finish metrics; exit 1; }
done
command -v curl >/dev/null || { bad "curl is missing (make deps)"; finish metrics; exit 1; }

# prom.py check FILE PREFIX: the text exposition format, strictly (HELP and
# TYPE once each, before the samples, families contiguous, label escapes,
# no duplicate series, histogram buckets cumulative up to +Inf == _count,
# counters named _total, every name starting with PREFIX).
# prom.py get FILE NAME [label=value...]: sum of the matching samples.
cat >"$WORK/prom.py" <<'PY'
import math, re, sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LNAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

def fail(n, why):
    sys.exit("line %d: %s" % (n, why))

def labels(s, i, n):
    """Parse {a="x",b="y"} from s[i] == '{'; return (dict, index after)."""
    out, i = {}, i + 1
    while s[i] != "}":
        m = LNAME.match(s, i)
        if not m or s[m.end():m.end() + 2] != '="':
            fail(n, "bad label at %d" % i)
        name, i, val = m.group(), m.end() + 2, ""
        while s[i] != '"':
            if s[i] == "\\":
                esc = {"\\": "\\", '"': '"', "n": "\n"}.get(s[i + 1])
                if esc is None:
                    fail(n, "bad escape in label value")
                val, i = val + esc, i + 2
            else:
                val, i = val + s[i], i + 1
        if name in out:
            fail(n, "label %s twice" % name)
        out[name] = val
        i += 1
        if s[i] == ",":
            i += 1
    return out, i + 1

def parse(path):
    text = open(path, encoding="utf-8").read()
    if text and not text.endswith("\n"):
        fail(0, "no final newline")
    types, helps, samples, done, cur = {}, {}, [], set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        m = re.fullmatch(r"# (HELP|TYPE) (\S+) ?(.*)", line)
        if m:
            kind, name, rest = m.groups()
            if not NAME.fullmatch(name):
                fail(n, "bad metric name " + name)
            table = helps if kind == "HELP" else types
            if name in table:
                fail(n, "%s %s twice" % (kind, name))
            if kind == "TYPE" and rest not in ("counter", "gauge",
                                               "histogram", "summary",
                                               "untyped"):
                fail(n, "bad type " + rest)
            if kind == "HELP" and re.search(r"\\[^\\n]", rest):
                fail(n, "bad escape in help")
            table[name] = rest
            if cur != name:
                if name in done:
                    fail(n, "family %s is not contiguous" % name)
                if cur:
                    done.add(cur)
                cur = name
            continue
        if line.startswith("#"):
            continue
        m = NAME.match(line)
        if not m:
            fail(n, "bad sample")
        name, i = m.group(), m.end()
        lab = {}
        if i < len(line) and line[i] == "{":
            lab, i = labels(line, i, n)
        parts = line[i:].split(" ")
        if parts[0] != "" or len(parts) not in (2, 3):
            fail(n, "bad value part %r" % line[i:])
        value = float(parts[1])  # accepts NaN, +Inf, -Inf, 1e+06
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and types.get(name[: -len(suf)]) == "histogram":
                fam = name[: -len(suf)]
        if fam not in types:
            fail(n, "sample %s before its TYPE" % name)
        if fam != cur:
            fail(n, "sample %s outside its family" % name)
        if types[fam] == "histogram" and fam == name:
            fail(n, "histogram sample without a suffix")
        samples.append((n, fam, name, lab, value))
    return types, helps, samples

def check(path, prefix):
    types, helps, samples = parse(path)
    seen = set()
    for n, fam, name, lab, value in samples:
        key = (name, tuple(sorted(lab.items())))
        if key in seen:
            fail(n, "series %s%s twice" % (name, lab))
        seen.add(key)
        if types[fam] == "counter" and (value < 0 or not fam.endswith("_total")):
            fail(n, "counter %s negative or not named _total" % fam)
    for fam, t in types.items():
        if not fam.startswith(prefix):
            fail(0, "%s does not start with %s" % (fam, prefix))
        if fam not in helps:
            fail(0, "%s has no HELP" % fam)
        if t != "histogram":
            continue
        groups = {}
        for n, f, name, lab, value in samples:
            if f != fam:
                continue
            rest = tuple(sorted((k, v) for k, v in lab.items() if k != "le"))
            g = groups.setdefault(rest, {"b": [], "count": None})
            if name.endswith("_bucket"):
                g["b"].append((float(lab["le"]), value))
            elif name.endswith("_count"):
                g["count"] = value
        for rest, g in groups.items():
            b = g["b"]
            if not b or b[-1][0] != math.inf or b[-1][1] != g["count"]:
                fail(0, "%s%s: +Inf bucket != _count" % (fam, rest))
            for (l1, c1), (l2, c2) in zip(b, b[1:]):
                if not (l1 < l2 and c1 <= c2):
                    fail(0, "%s%s: buckets not cumulative" % (fam, rest))
    print("%d families, %d samples" % (len(types), len(samples)))

def get(path, name, want):
    want = dict(w.split("=", 1) for w in want)
    total = None
    for n, fam, nm, lab, value in parse(path)[2]:
        if nm == name and all(lab.get(k) == v for k, v in want.items()):
            total = (total or 0) + value
    if total is None:
        sys.exit("no sample %s %s" % (name, want))
    print(int(total) if total == int(total) else total)

if sys.argv[1] == "check":
    check(sys.argv[2], sys.argv[3])
else:
    get(sys.argv[2], sys.argv[3], sys.argv[4:])
PY

# scrape PORT FILE [PATH]: GET it, the body in FILE.
scrape() {
	curl -sf --max-time 3 -o "$2" "http://127.0.0.1:$1${3:-/metrics}"
}
# m FILE NAME [label=value...]: the value (sum of the matching series).
m() { "$PY" "$WORK/prom.py" get "$@" 2>>"$WORK/prom.err"; }
# gt A B: A > B, both numbers
gt() { [ -n "$1" ] && [ -n "$2" ] && "$PY" -c "import sys; sys.exit(not float('$1') > float('$2'))"; }
http_code() { # http_code ARGS...: the status curl saw
	curl -s --max-time 3 -o /dev/null -w '%{http_code}' "$@"
}
moved() { # moved FILE0 FILE2 NAME [labels...]: the value went up
	gt "$(m "$2" "${@:3}")" "$(m "$1" "${@:3}")"
}
export -f m gt moved # for the `bash -c` checks
export WORK PY

start_redis || { bad "redis-server did not start"; finish metrics; exit 1; }
MW=$(free_port tcp)
MF=$(free_port tcp)
while [ "$MF" = "$MW" ]; do MF=$(free_port tcp); done
# The worker takes its port from the file, the frontend from --metrics
# (one file, two processes on one host).
write_conf "$WORK/tandem.conf" "$LNS:1701" "metrics_listen 127.0.0.1:$MW"
start_worker w1 "$WORK/tandem.conf"
WORKER_PID=$LAST_PID
"$BIN/tandem-frontend" -c "$WORK/tandem.conf" --id f1 \
	--metrics "127.0.0.1:$MF" >>"$WORK/frontend-f1.log" 2>&1 &
PIDS+=($!)
FE_PID=$!
check "cluster ready on $LNS:1701" wait_for 10 cluster_ready
check "worker serves /metrics on 127.0.0.1:$MW (metrics_listen)" \
	wait_for 5 scrape "$MW" "$WORK/w0.txt"
check "frontend serves /metrics on 127.0.0.1:$MF (--metrics)" \
	wait_for 5 scrape "$MF" "$WORK/f0.txt"
check "worker log names the metrics URL" \
	grep -q "metrics served.*url=http://127.0.0.1:$MW/metrics" \
	"$WORK/worker-w1.log"
check "worker text parses as Prometheus exposition format" \
	"$PY" "$WORK/prom.py" check "$WORK/w0.txt" tandem_worker_
check "frontend text parses as Prometheus exposition format" \
	"$PY" "$WORK/prom.py" check "$WORK/f0.txt" tandem_frontend_
check "Content-Type is text/plain; version=0.0.4" bash -c \
	"curl -sfI --max-time 3 http://127.0.0.1:$MW/metrics | grep -qi '^content-type: text/plain; version=0.0.4'"
check "worker owns all 256 shards, Redis up" bash -c \
	"[ \"\$(m '$WORK/w0.txt' tandem_worker_shards state=owned)\" = 256 ] &&
	 [ \"\$(m '$WORK/w0.txt' tandem_worker_redis_up)\" = 1 ]"
check "info carries the IDs" bash -c \
	"[ \"\$(m '$WORK/w0.txt' tandem_worker_info id=w1)\" = 1 ] &&
	 [ \"\$(m '$WORK/f0.txt' tandem_frontend_info id=f1)\" = 1 ]"
# Other paths and methods.
check "GET /other -> 404" [ "$(http_code "http://127.0.0.1:$MW/other")" = 404 ]
check "GET / -> 404 (frontend)" [ "$(http_code "http://127.0.0.1:$MF/")" = 404 ]
check "POST /metrics -> 405" \
	[ "$(http_code -X POST -d x=1 "http://127.0.0.1:$MW/metrics")" = 405 ]
check "GET /metrics?x=1 -> 200 (query ignored)" \
	[ "$(http_code "http://127.0.0.1:$MW/metrics?x=1")" = 200 ]

# A 3-byte datagram: too short for any L2TP header.
DROP0=$(m "$WORK/f0.txt" tandem_frontend_drops_total reason=malformed)
SHORT0=$(m "$WORK/f0.txt" tandem_frontend_malformed_total reason=short_header)
"$PY" -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'\x01\x02\x03', ('$LNS', 1701))"
malformed_counted() {
	scrape "$MF" "$WORK/f1.txt" &&
		[ "$(m "$WORK/f1.txt" tandem_frontend_drops_total reason=malformed)" = $((DROP0 + 1)) ] &&
		[ "$(m "$WORK/f1.txt" tandem_frontend_malformed_total reason=short_header)" = $((SHORT0 + 1)) ]
}
check "3-byte datagram: drops{malformed} and malformed{short_header} +1" \
	wait_for 3 malformed_counted

# Traffic: the LAC holds T x S calls for 4 s, then clears them.
"$BIN/tandem-lac" --lns "$LNS:1701" --bind "$LAC_ADDR" --tunnels $T \
	--sessions $S --duration 4 --json --report-file "$WORK/lac.json" \
	2>"$WORK/lac.err" &
LAC_PID=$!
PIDS+=($LAC_PID)
calls_up() {
	scrape "$MW" "$WORK/w1.txt" &&
		[ "$(m "$WORK/w1.txt" tandem_worker_sessions state=ESTABLISHED)" = $((T * S)) ] &&
		[ "$(m "$WORK/w1.txt" tandem_worker_tunnels state=ESTABLISHED)" = $T ]
}
check "during the run: sessions{ESTABLISHED} = $((T * S)), tunnels{ESTABLISHED} = $T" \
	wait_for 4 calls_up
check "during the run: worker text still parses" \
	"$PY" "$WORK/prom.py" check "$WORK/w1.txt" tandem_worker_
lac_done() { ! kill -0 "$LAC_PID" 2>/dev/null; }
wait_for 15 lac_done
wait "$LAC_PID"
check "tandem-lac: exit 0" [ $? -eq 0 ]
calls_gone() {
	scrape "$MW" "$WORK/w2.txt" &&
		[ "$(m "$WORK/w2.txt" tandem_worker_sessions)" = 0 ] &&
		[ "$(m "$WORK/w2.txt" tandem_worker_tunnels state=ESTABLISHED)" = 0 ]
}
check "after the run: no session left, no tunnel established" \
	wait_for 5 calls_gone
scrape "$MF" "$WORK/f2.txt"
check "after the run: both texts parse" bash -c \
	"'$PY' '$WORK/prom.py' check '$WORK/w2.txt' tandem_worker_ >/dev/null &&
	 '$PY' '$WORK/prom.py' check '$WORK/f2.txt' tandem_frontend_ >/dev/null"

W0=$WORK/w0.txt W2=$WORK/w2.txt F0=$WORK/f0.txt F2=$WORK/f2.txt
for name in tandem_worker_packets_received_total \
	tandem_worker_packets_sent_total tandem_worker_control_sent_total \
	tandem_worker_zlb_sent_total tandem_worker_tunnels_created_total \
	tandem_worker_checkpoint_rounds_total \
	tandem_worker_checkpoint_latency_seconds_count \
	tandem_worker_checkpoint_batch_size_count \
	tandem_worker_lease_renewals_total tandem_worker_redis_commands_total; do
	check "worker: $name went up" moved "$W0" "$W2" $name
done
check "worker: checkpoints{ok} went up" \
	moved "$W0" "$W2" tandem_worker_checkpoints_total result=ok
check "worker: batches{sent} went up" \
	moved "$W0" "$W2" tandem_worker_batches_total result=sent
for t in SCCRQ:$T SCCCN:$T ICRQ:$((T * S)) ICCN:$((T * S)) \
	CDN:$((T * S)) STOPCCN:$T; do
	check "worker: control_received{type=${t%%:*}} >= ${t##*:}" \
		bash -c "[ \"\$(m '$W2' tandem_worker_control_received_total type=${t%%:*})\" -ge ${t##*:} ]"
done
check "worker: checkpoint latency sum > 0 and batch sizes sum >= rounds" \
	bash -c "'$PY' -c \"import sys; sys.exit(not (float('\$(m '$W2' tandem_worker_checkpoint_latency_seconds_sum)') > 0 and
		float('\$(m '$W2' tandem_worker_checkpoint_batch_size_sum)') >= float('\$(m '$W2' tandem_worker_checkpoint_batch_size_count)')))\""
check "worker: no malformed message, no fenced checkpoint" bash -c \
	"[ \"\$(m '$W2' tandem_worker_malformed_total)\" = 0 ] &&
	 [ \"\$(m '$W2' tandem_worker_checkpoints_total result=fenced)\" = 0 ]"
for name in tandem_frontend_datagrams_received_total \
	tandem_frontend_datagrams_routed_total \
	tandem_frontend_datagrams_sent_total; do
	check "frontend: $name went up" moved "$F0" "$F2" $name
done
check "frontend: batches{sent} and {received} went up" bash -c \
	"moved '$F0' '$F2' tandem_frontend_batches_total direction=sent &&
	 moved '$F0' '$F2' tandem_frontend_batches_total direction=received"
check "frontend: worker_datagrams{w1,sent} = datagrams_routed" bash -c \
	"[ \"\$(m '$F2' tandem_frontend_worker_datagrams_total worker=w1 result=sent)\" = \
	   \"\$(m '$F2' tandem_frontend_datagrams_routed_total)\" ]"
check "frontend: the worker's received count matches what was routed" bash -c \
	"[ \"\$(m '$F2' tandem_frontend_datagrams_routed_total)\" = \
	   \"\$(m '$W2' tandem_worker_packets_received_total)\" ]"

# Start-up refusals: a bad value (file:line), a bad --metrics, a port in use.
write_conf "$WORK/bad.conf" "$LNS:1701" "metrics_listen 127.0.0.1"
LINE=$(grep -n '^metrics_listen ' "$WORK/bad.conf" | cut -d: -f1)
timeout 5 "$BIN/tandem-worker" -c "$WORK/bad.conf" --id bad >"$WORK/bad.out" 2>&1
RC=$?
check "metrics_listen without a port: exit 2, message names bad.conf:$LINE" \
	bash -c "[ $RC -eq 2 ] && grep -q 'bad.conf:$LINE: metrics_listen: \"127.0.0.1\" is not host:port' '$WORK/bad.out'"
timeout 5 "$BIN/tandem-frontend" -c "$WORK/tandem.conf" --id bad \
	--metrics 127.0.0.1:99999 >"$WORK/badopt.out" 2>&1
RC=$?
check "--metrics 127.0.0.1:99999: exit 2, message names --metrics" \
	bash -c "[ $RC -eq 2 ] && grep -q -- '--metrics: port 99999 is out of range' '$WORK/badopt.out'"
timeout 10 "$BIN/tandem-worker" -c "$WORK/tandem.conf" --id w2 \
	--metrics "127.0.0.1:$MF" >"$WORK/inuse.out" 2>&1
RC=$?
check "worker on the frontend's metrics port: exit 1, address in use" \
	bash -c "[ $RC -eq 1 ] && grep -q 'Address already in use' '$WORK/inuse.out'"
check "the refused worker did not stay registered" \
	bash -c "! redis-cli -p $REDIS_PORT hexists tandem:workers w2 | grep -q 1"

# SIGTERM with an idle HTTP connection open: the process still stops.
"$PY" - "$MW" "$MF" <<'PY' &
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(p))) for p in sys.argv[1:]]
time.sleep(8)
PY
IDLE_PID=$!
PIDS+=($IDLE_PID)
sleep 0.3
kill -TERM "$FE_PID" "$WORKER_PID"
stopped() { ! kill -0 "$FE_PID" 2>/dev/null && ! kill -0 "$WORKER_PID" 2>/dev/null; }
check "SIGTERM with idle HTTP connections open: both stop within 5 s" \
	wait_for 5 stopped
kill "$IDLE_PID" 2>/dev/null

if [ "$FAIL" -gt 0 ]; then
	for f in "$WORK"/*.log "$WORK"/lac.err "$WORK"/prom.err; do
		echo "--- $f"
		tail -n 8 "$f"
	done
fi
finish metrics
