#!/bin/bash
# Fencing: the active worker (policy active-standby) is frozen with SIGSTOP
# past its lease, the standby takes every shard over, then the old owner is
# let run again (SIGCONT). Its HELLO timers fire and its renewals go out at
# once, but: a capture of what reaches the frontend's ZeroMQ port shows not
# one segment from the zombie, and Redis MONITOR shows none of its commands
# changing a lease, tunnel, session or shard key. It notices at its first
# renewal, drops the shards from memory and stays a standby.
. "$(dirname "$0")/lib.sh"
echo "zombie owner: frozen past its lease, then resumed"
LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish zombie; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701" "shard_policy active-standby" \
	"hello_interval 1s"

registered() { [ "$(rcli hlen tandem:frontends)" -ge 1 ] && [ "$(rcli hlen tandem:workers)" -ge 2 ]; }

start_worker w1 "$WORK/t.conf"
W1=$LAST_PID
check "w1 (active) owns every shard" wait_for 10 all_owned_by w1
start_worker w2 "$WORK/t.conf"
W2=$LAST_PID
start_frontend f1 "$WORK/t.conf"
check "w2 registered as standby, frontend up" wait_for 10 registered
check "the standby takes nothing while w1 lives" [ "$(owned_by w2)" -eq 0 ]

"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 20 --sessions 5 --hello 1 \
	--duration 16 --json > "$WORK/lac.json" 2> "$WORK/lac.err" &
LAC=$!
PIDS+=($LAC)
sleep 3

kill -STOP "$W1"
check "w2 takes over every shard while w1 is frozen" wait_for 5 all_owned_by w2

# the frontend's ZeroMQ PULL port: everything workers send arrives there
FE_PORT=$(rcli hget tandem:frontends f1 | sed -n 's/.*endpoint=tcp:[^ ]*:\([0-9]*\).*/\1/p')
tshark -i lo -f "tcp dst port $FE_PORT" -w "$WORK/zombie.pcap" -q \
	> "$WORK/tshark.log" 2>&1 &
TSHARK=$!
PIDS+=($TSHARK)
wait_for 5 grep -q 'Capturing on' "$WORK/tshark.log"
redis-cli -p "$REDIS_PORT" monitor > "$WORK/monitor.txt" 2>&1 &
MON=$!
PIDS+=($MON)
sleep 1
# the zombie's Redis connections, by the name the worker gives them
rcli client list | sed -n 's/.* addr=\([^ ]*\) .* name=tandem-w1 .*/\1/p' > "$WORK/w1-redis.txt"

kill -CONT "$W1"
check "the zombie notices and drops its shards" \
	wait_for 5 grep -q 'msg="shard dropped".*owned by another worker' "$WORK/worker-w1.log"
sleep 2
kill "$TSHARK" "$MON"; wait "$TSHARK" "$MON" 2>/dev/null
rcli client list | sed -n 's/.* addr=\([^ ]*\) .* name=tandem-w1 .*/\1/p' >> "$WORK/w1-redis.txt"

# local ports of every TCP connection each worker holds
ports_of() { ss -tnpH | grep "pid=$1," | awk '{print $4}' | sed 's/.*://' | sort -u; }
ports_of "$W1" > "$WORK/w1-ports.txt"
ports_of "$W2" > "$WORK/w2-ports.txt"
tshark -r "$WORK/zombie.pcap" -T fields -e tcp.srcport -e tcp.len 2>/dev/null \
	| awk '$2 > 0 {print $1}' > "$WORK/senders.txt"
zombie_segments=$(grep -cxFf "$WORK/w1-ports.txt" "$WORK/senders.txt")
standby_segments=$(grep -cxFf "$WORK/w2-ports.txt" "$WORK/senders.txt")
echo "    capture: $standby_segments segments from the new owner, $zombie_segments from the zombie"
check "capture: the new owner's packets flow through the frontend" [ "$standby_segments" -gt 0 ]
check "capture: not one packet from the zombie" [ "$zombie_segments" -eq 0 ]

check "MONITOR: the zombie tried (renewals, checkpoints) and nothing it ran wrote state" \
	/usr/bin/python3 - "$WORK/monitor.txt" "$WORK/w1-redis.txt" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
zombie = set(open(sys.argv[2]).read().split())
writes = {"SET", "HSET", "DEL", "SADD", "SREM", "HDEL", "PEXPIRE", "INCR",
          "PUBLISH", "EXPIRE", "UNLINK"}
state = re.compile(r'"tandem:(lease|epoch|t|s|shard|shardmap)\b')
who, tried, bad = None, 0, []
for ln in lines:
    m = re.match(r'[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"(.*)', ln)
    if not m:
        continue
    client, cmd, rest = m.group(1), m.group(2).upper(), m.group(3)
    if client != "lua":
        who = client
        if who in zombie:
            tried += 1
    if who in zombie and cmd in writes and state.search('"' + cmd + '"' + rest):
        bad.append(ln)
print("    zombie commands seen: %d, state writes among them: %d" % (tried, len(bad)))
for b in bad[:5]:
    print("      " + b[:160])
sys.exit(0 if tried > 0 and not bad else 1)
PY

check "the zombie stays a standby: w2 still owns every shard" all_owned_by w2
wait "$LAC"
rc=$?
check "the LAC saw nothing torn down (exit 0)" [ "$rc" -eq 0 ]
check "w1 still running (standby)" kill -0 "$W1"
finish zombie
