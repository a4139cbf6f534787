#!/bin/bash
# One LAC tunnel carrying 5,000 calls (what a real LAC does after a restart):
# every call comes up, and the worker's CPU time per call does not grow with
# the calls already on the tunnel: the last 1,000 calls cost at most twice
# what the first 1,000 did (a checkpoint that walked every session of the
# tunnel made it grow linearly). CPU time, not wall time: a busy machine
# slows both ends alike. Checkpoints stay durable (Redis, write-ahead).
. "$(dirname "$0")/lib.sh"
echo "one tunnel x 5,000 calls: all up, worker CPU per call flat"
LNS=$(rand_lo)
N=5000
start_redis || { bad "redis-server did not start"; finish one-tunnel; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701"
start_worker w1 "$WORK/t.conf"
WP=$LAST_PID
start_frontend f1 "$WORK/t.conf"
check "cluster ready" wait_for 10 cluster_ready || { finish one-tunnel; exit 1; }

# The sampler: (calls on the tunnel in Redis, worker CPU ns) every 20 ms
# until all N are there, bounded to 120 s. Redis counts them, so that
# sampling costs the worker nothing.
/usr/bin/python3 - "$REDIS_PORT" "$WP" "$N" > "$WORK/samples.txt" 2>"$WORK/sampler.err" <<'PY' &
import os, sys, time
import redis as _r  # python3-redis (Debian)
r = _r.Redis(host="127.0.0.1", port=int(sys.argv[1]))
pid, n = sys.argv[2], int(sys.argv[3])
def cpu_ns():  # every thread of the worker (its ZeroMQ I/O thread too)
    t = 0
    for tid in os.listdir("/proc/%s/task" % pid):
        try:
            with open("/proc/%s/task/%s/schedstat" % (pid, tid)) as f:
                t += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return t
key = None
end = time.monotonic() + 120
print(0, cpu_ns(), flush=True)
while time.monotonic() < end:
    if key is None:
        ks = list(r.scan_iter("tandem:s:*", count=1000))
        key = ks[0] if ks else None
    c = r.hlen(key) if key else 0
    print(c, cpu_ns(), flush=True)
    if c >= n:
        break
    time.sleep(0.02)
PY
SAMPLER=$!
PIDS+=($SAMPLER)
sleep 0.3 # the sampler has its first reading
# paced (RATE, default 2,500 calls/s) so that each thousand spans many samples
timeout 120 "$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 1 --sessions $N \
	--rate "${RATE:-2500}" --no-teardown --json >"$WORK/lac.json" 2>"$WORK/lac.err"
rc=$?
check "tandem-lac exits 0: 1 tunnel, $N calls up, none failed" \
	eval '[ "$rc" -eq 0 ] && lac_clean "$WORK/lac.json" 1 $N'
wait "$SAMPLER"
/usr/bin/python3 - "$WORK/samples.txt" "$N" > "$WORK/cost.txt" <<'PY'
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
def cpu_at(calls):  # worker CPU ns when the tunnel first held `calls` calls
    for c, ns in s:
        if c >= calls:
            return c, ns
    return None
a, b, c, d = cpu_at(0), cpu_at(1000), cpu_at(n - 1000), cpu_at(n)
if None in (a, b, c, d):
    print("incomplete samples: last", s[-1] if s else None)
    sys.exit(1)
first = (b[1] - a[1]) / max(b[0] - a[0], 1)
last = (d[1] - c[1]) / max(d[0] - c[0], 1)
print("worker CPU per call: first 1,000 %.1f us, last 1,000 %.1f us, ratio %.2f (%d samples)"
      % (first / 1e3, last / 1e3, last / first, len(s)))
sys.exit(0 if last <= 2 * first else 1)
PY
rc=$?
sed 's/^/    /' "$WORK/cost.txt"
check "the last 1,000 calls cost the worker at most 2x the first 1,000" [ "$rc" -eq 0 ]
finish one-tunnel
