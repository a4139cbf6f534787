#!/bin/bash
# A real xl2tpd LAC's tunnel survives SIGKILL of the worker that owns it.
# xl2tpd places a call (its pppd cannot start here, so the call ends with a
# CDN; the tunnel stays). The owner is killed about 25 s into the tunnel's
# life and, once the standby has taken over, xl2tpd is told through its
# control FIFO to place another call. Then, in a capture: the new call on
# the same tunnel is accepted (ICRQ -> ICRP -> ICCN), xl2tpd's own HELLO (it
# sends one every 60 s) is acknowledged by the new owner, and nobody sends a
# StopCCN. Takes about 75 s.
. "$(dirname "$0")/lib.sh"
echo "xl2tpd tunnel across kill -9 of its owner"
LNS=$(rand_lo)
LAC=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish xl2tpd-takeover; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701" "shard_policy active-standby"
start_worker w1 "$WORK/t.conf"
W1=$LAST_PID
check "w1 active" wait_for 10 all_owned_by w1
start_worker w2 "$WORK/t.conf"
start_frontend f1 "$WORK/t.conf"
check "frontend registered" wait_for 10 bash -c "[ \$(redis-cli -p $REDIS_PORT hlen tandem:frontends) -ge 1 ]"

d=$WORK/xl2tpd
mkdir -p "$d"
cat > "$d/lac.conf" <<EOT
[global]
listen-addr = $LAC
port = 1701
auth file = $d/secrets
[lac tandem]
lns = $LNS
autodial = yes
redial = no
require authentication = no
name = subscriber
pppoptfile = $d/ppp.opts
length bit = yes
EOT
: > "$d/secrets"
printf 'noauth\nnoccp\n' > "$d/ppp.opts"
tshark -i lo -f "udp port 1701 and host $LNS" -w "$d/cap.pcap" -q > "$d/tshark.log" 2>&1 &
PIDS+=($!)
TSHARK=$!
wait_for 5 grep -q 'Capturing on' "$d/tshark.log"
sleep 1
/usr/sbin/xl2tpd -D -c "$d/lac.conf" -p "$d/xl2tpd.pid" -C "$d/ctl" > "$d/xl2tpd.log" 2>&1 &
XL=$!
PIDS+=($XL)
T0=$(date +%s)
check "xl2tpd's tunnel and first call are up" \
	wait_for 15 grep -q 'Call established' "$d/xl2tpd.log"

# kill the owner 25 s into the tunnel's life: xl2tpd's HELLO (every 60 s)
# then falls well after the takeover
sleep $((25 - ($(date +%s) - T0)))
KILL_AT=$(date +%s.%N)
kill -9 "$W1"
check "w2 takes every shard over" wait_for 5 all_owned_by w2
check "w2 loaded xl2tpd's tunnel" \
	wait_for 5 grep -q 'msg="shard loaded".*tunnels=1 ' "$WORK/worker-w2.log"
sleep 1
# a new call: xl2tpd places it on the tunnel it already has to this LNS
timeout 5 bash -c "echo 'c tandem' > '$d/ctl'"
check "xl2tpd placed the second call" \
	wait_for 10 bash -c "[ \$(grep -c 'Call established' '$d/xl2tpd.log') -ge 2 ]"
# bounded wait for xl2tpd's HELLO (60 s after the tunnel came up) + its ack
sleep $((68 - ($(date +%s) - T0)))
kill "$TSHARK"; wait "$TSHARK" 2>/dev/null
kill "$XL"; wait "$XL" 2>/dev/null

tshark -r "$d/cap.pcap" -T fields -e frame.time_epoch -e ip.src \
	-e l2tp.tunnel -e l2tp.Ns -e l2tp.Nr -e l2tp.avp.message_type \
	-Y 'l2tp.type == 1' > "$d/ctl.txt" 2>/dev/null
check "the capture dissects clean" bash -c "[ \$(tshark -r $d/cap.pcap -Y '_ws.malformed || _ws.expert.severity >= \"error\"' 2>/dev/null | wc -l) -eq 0 ]"
/usr/bin/python3 - "$d/ctl.txt" "$KILL_AT" "$LAC" "$LNS" <<'PY' > "$d/verdict.txt"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
kill, lac, lns = float(sys.argv[2]), sys.argv[3], sys.argv[4]
def mt(r): return r[5].split(",")[0] if len(r) > 5 and r[5] else ""
after = [r for r in rows if float(r[0]) > kill]
# the LNS's tunnel ID as xl2tpd addresses it: the same before and after
lns_tid = {r[2] for r in rows if r[1] == lac and mt(r) not in ("1", "")}
print("tunnel_ids_used_by_lac", " ".join(sorted(lns_tid)))
print("stopccn", sum(1 for r in rows if mt(r) == "4"))
seq = [(r[1], mt(r)) for r in after]
call_ok = any(seq[i:i + 3] == [(lac, "10"), (lns, "11"), (lac, "12")]
              for i in range(len(seq)))
print("call_after_kill", int(call_ok))
hello = [r for r in after if r[1] == lac and mt(r) == "6"]
acked = 0
for h in hello:
    ns = int(h[3])
    acked |= any(r[1] == lns and float(r[0]) >= float(h[0]) and
                 (int(r[4]) - ns) % 65536 >= 1 and (int(r[4]) - ns) % 65536 < 32768
                 for r in after)
print("hello_after_kill", len(hello))
print("hello_acked", int(acked))
PY
cat "$d/verdict.txt" | sed 's/^/    /'
v() { awk -v k="$1" '$1 == k {print $2}' "$d/verdict.txt"; }
check "one LNS tunnel ID all along (the tunnel was never re-established)" \
	[ "$(v tunnel_ids_used_by_lac | wc -w)" -eq 1 ]
check "no StopCCN from either side" [ "$(v stopccn)" = 0 ]
check "a new call on the same tunnel accepted after the kill (ICRQ, ICRP, ICCN)" \
	[ "$(v call_after_kill)" = 1 ]
check "xl2tpd sent a HELLO after the takeover" [ "$(v hello_after_kill)" -ge 1 ]
check "the new owner acknowledged it" [ "$(v hello_acked)" = 1 ]
check "xl2tpd never gave up on the tunnel" \
	bash -c "! grep -qiE 'maximum retries exceeded|Connection .* closed' $d/xl2tpd.log"
finish xl2tpd-takeover
