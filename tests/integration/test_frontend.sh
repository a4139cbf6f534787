#!/bin/bash
# tandem-frontend against a private redis-server and two fake workers (small
# python3-zmq scripts that check the PACKET_IN batches they get and answer
# with PACKET_OUT batches). A python "LAC" sends datagrams to the frontend:
# SCCRQ, its retransmission, data, a malformed packet, an SCCRQ with a hidden
# Assigned Tunnel ID, a 50-datagram burst (batching); then a shard-map change
# and a worker-down event on P:events, a Redis outage, SIGHUP and SIGTERM.
# Everything on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
echo "frontend against redis-server and fake workers"

# Stop by ourselves well within 60 s whatever hangs.
(
	sleep 55 &
	s=$!
	trap 'kill $s; exit 0' TERM
	wait $s
	echo "test_frontend: time limit, giving up" >&2
	kill -TERM $$
) &
PIDS+=($!)

if ! /usr/bin/python3 -c 'import zmq' 2>/dev/null; then
	bad "python3-zmq is missing (apt-get install -y python3-zmq)"
	finish frontend
	exit 1
fi
if [ ! -x "$BIN/tandem-frontend" ]; then
	bad "$BIN/tandem-frontend is missing (run make)"
	finish frontend
	exit 1
fi

P=tandem
SECRET=s3cret
PY=/usr/bin/python3

# ---- helpers in python ----------------------------------------------------

cat > "$WORK/fake_worker.py" <<'PY'
# fake_worker.py NAME ENDPOINT_FILE LOG_FILE: a PULL socket like a worker's.
# Every PACKET_IN record is logged as one JSON line; every batch is answered
# with a PACKET_OUT batch to its origin: per record, an L2TP data message
# whose payload is "reply-from-NAME:<sha1 of the received datagram>".
import hashlib, json, os, struct, sys, time
import zmq

name, epfile, logfile = sys.argv[1:4]
ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.bind("tcp://127.0.0.1:*")
ep = pull.getsockopt(zmq.LAST_ENDPOINT).decode()
with open(epfile + ".tmp", "w") as f:
    f.write(ep)
os.rename(epfile + ".tmp", epfile)
log = open(logfile, "a", buffering=1)
pushes = {}
seq = 0

def decode(msg):
    if len(msg) < 7:
        raise ValueError("short header")
    magic, ver, typ, count, olen = struct.unpack_from(">HBBHB", msg, 0)
    if magic != 0x5444 or ver != 1 or typ != 1:
        raise ValueError("bad magic/version/type %x/%d/%d" % (magic, ver, typ))
    origin = msg[7:7 + olen].decode()
    off, recs = 7 + olen, []
    for _ in range(count):
        fam = msg[off]
        alen = {4: 4, 6: 16}.get(fam)
        if alen is None:
            raise ValueError("bad family %d" % fam)
        addr = msg[off + 1:off + 1 + alen]
        port, ln = struct.unpack_from(">HH", msg, off + 1 + alen)
        data = msg[off + 5 + alen:off + 5 + alen + ln]
        if len(data) != ln:
            raise ValueError("truncated record")
        recs.append((fam, addr, port, data))
        off += 5 + alen + ln
    if off != len(msg):
        raise ValueError("trailing bytes")
    return origin, recs

def encode_out(origin_ep, recs):
    o = origin_ep.encode()
    out = struct.pack(">HBBHB", 0x5444, 1, 2, len(recs), len(o)) + o
    for fam, addr, port, data in recs:
        out += bytes([fam]) + addr + struct.pack(">HH", port, len(data)) + data
    return out

deadline = time.time() + 60
poller = zmq.Poller()
poller.register(pull, zmq.POLLIN)
while time.time() < deadline:
    if not poller.poll(200):
        continue
    msg = pull.recv()
    seq += 1
    try:
        origin, recs = decode(msg)
    except ValueError as e:
        log.write(json.dumps({"worker": name, "error": str(e)}) + "\n")
        continue
    replies = []
    for fam, addr, port, data in recs:
        log.write(json.dumps({"worker": name, "origin": origin, "family": fam,
                              "addr": addr.hex(), "port": port,
                              "data": data.hex(), "batch": len(recs),
                              "seq": seq}) + "\n")
        payload = ("reply-from-%s:%s" % (name, hashlib.sha1(data).hexdigest()[:8])).encode()
        replies.append((fam, addr, port, struct.pack(">HHH", 0x0002, 0, 0) + payload))
    if origin not in pushes:
        s = ctx.socket(zmq.PUSH)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(origin)
        pushes[origin] = s
    pushes[origin].send(encode_out(ep, replies))
PY

cat > "$WORK/lac.py" <<'PY'
# lac.py: the LAC side.
#   lac.py packet KIND [ARG]         print a datagram as hex
#   lac.py send HEX SRCPORT FEPORT [wait]  send it; with wait, print the reply
#                                     as JSON {"from": port, "payload": "..."}
#   lac.py count LOG HEX [WORKER]    how many records carry exactly HEX
#   lac.py origins LOG               distinct origins seen
#   lac.py errors LOG                batch decoding errors seen
#   lac.py hidden_atid SRCPORT SHARD an Assigned Tunnel ID whose peer hash
#                                     lands on SHARD (and atid 0 does not)
import hashlib, json, socket, struct, sys

SECRET = b"s3cret"

def avp(t, val, m=True, h=False):
    flags = (0x8000 if m else 0) | (0x4000 if h else 0)
    return struct.pack(">HHH", flags | (6 + len(val)), 0, t) + val

def ctrl(tid, avps):
    body = b"".join(avps)
    return struct.pack(">HHHHHH", 0xC802, 12 + len(body), tid, 0, 0, 0) + body

def sccrq(atid, hidden=False):
    avps = [avp(0, struct.pack(">H", 1)), avp(2, b"\x01\x00"),
            avp(7, b"lac-test"), avp(3, struct.pack(">I", 3))]
    if hidden:  # RFC 2661 4.3
        rv = bytes(range(16))
        sub = struct.pack(">HH", 2, atid)
        key = hashlib.md5(struct.pack(">H", 9) + SECRET + rv).digest()
        avps += [avp(36, rv), avp(9, bytes(a ^ b for a, b in zip(sub, key)), h=True)]
    else:
        avps.append(avp(9, struct.pack(">H", atid)))
    return ctrl(0, avps)

def fnv_shard(port, atid, shards=256):
    h = 2166136261
    for b in bytes([4]) + socket.inet_aton("127.0.0.1") + struct.pack(">HH", port, atid):
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h & (shards - 1)

def records(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []

cmd = sys.argv[1]
if cmd == "packet":
    kind = sys.argv[2]
    if kind == "sccrq":
        p = sccrq(int(sys.argv[3], 0))
    elif kind == "sccrq_hidden":
        p = sccrq(int(sys.argv[3], 0), hidden=True)
    elif kind == "data":  # T=0, L=1: tunnel, session 1, payload
        tid = int(sys.argv[3], 0)
        payload = sys.argv[4].encode()
        p = struct.pack(">HHHH", 0x4002, 8 + len(payload), tid, 1) + payload
    elif kind == "malformed":  # Length says 100, the datagram has 12 bytes
        p = struct.pack(">HHHHHH", 0xC802, 100, 0x0105, 0, 0, 0)
    print(p.hex())
elif cmd == "send":
    data, src, fe = bytes.fromhex(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", src))
    s.sendto(data, ("127.0.0.1", fe))
    if len(sys.argv) > 5:
        s.settimeout(3)
        try:
            reply, addr = s.recvfrom(65535)
            print(json.dumps({"from": addr[1], "payload": reply[6:].decode(errors="replace")}))
        except socket.timeout:
            print(json.dumps({"from": None, "payload": None}))
elif cmd == "count":
    want = sys.argv[3]
    who = sys.argv[4] if len(sys.argv) > 4 else None
    print(sum(1 for r in records(sys.argv[2])
              if r.get("data") == want and (who is None or r["worker"] == who)))
elif cmd == "origins":
    print(" ".join(sorted({r["origin"] for r in records(sys.argv[2]) if "origin" in r})))
elif cmd == "errors":
    print(sum(1 for r in records(sys.argv[2]) if "error" in r))
elif cmd == "hidden_atid":
    port, shard = int(sys.argv[2]), int(sys.argv[3])
    for atid in range(1, 65536):
        if fnv_shard(port, atid) == shard and fnv_shard(port, 0) != shard:
            print(atid)
            break
elif cmd == "burst":  # burst N SRCPORT FEPORT READYFILE: N data datagrams
    n, src, fe, ready = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", src))
    for i in range(n):
        payload = b"burst-%d" % i
        s.sendto(struct.pack(">HHHH", 0x4002, 8 + len(payload), 0x0300 + i, 1) + payload,
                 ("127.0.0.1", fe))
    open(ready, "w").close()
    s.settimeout(5)
    got = 0
    try:
        while got < n:
            reply, addr = s.recvfrom(65535)
            got += addr[1] == fe and reply[6:].startswith(b"reply-from-w1:")
    except socket.timeout:
        pass
    print(got)
elif cmd == "batches":  # "RECORDS BATCHES" of the records whose payload has WORD
    word = sys.argv[3].encode().hex()
    rs = [r for r in records(sys.argv[2]) if word in r.get("data", "")]
    print(len(rs), len({(r["worker"], r["seq"]) for r in rs}))
elif cmd == "sha":
    print(hashlib.sha1(bytes.fromhex(sys.argv[2])).hexdigest()[:8])
PY

lac() { "$PY" "$WORK/lac.py" "$@"; }
LOGW="$WORK/workers.jsonl"
count() { lac count "$LOGW" "$@"; }
# reply_ok JSON WORKER HEX: the reply came from the frontend's UDP port and
# carries the worker's answer to exactly that datagram.
reply_ok() {
	local want="reply-from-$2:$(lac sha "$3")"
	[ "$1" = "{\"from\": $FE_PORT, \"payload\": \"$want\"}" ]
}

# ---- set-up -------------------------------------------------------------

start_redis || { bad "redis-server did not start"; finish frontend; exit 1; }
for w in w1 w2; do
	"$PY" "$WORK/fake_worker.py" "$w" "$WORK/$w.ep" "$LOGW" 2> "$WORK/$w.err" &
	PIDS+=($!)
done
wait_for 10 test -s "$WORK/w1.ep" && wait_for 10 test -s "$WORK/w2.ep" ||
	{ bad "fake workers did not start"; finish frontend; exit 1; }
EP1=$(cat "$WORK/w1.ep")
EP2=$(cat "$WORK/w2.ep")
rcli hset $P:workers w1 "1 endpoint=$EP1 control=- wire=1 pid=1 host=test" \
	w2 "1 endpoint=$EP2 control=- wire=1 pid=2 host=test" > /dev/null
args=()
for s in $(seq 0 255); do args+=("$s" "1 owner=w1 epoch=1"); done
rcli hset $P:shardmap "${args[@]}" > /dev/null
check "all 256 shards belong to w1" [ "$(rcli hlen $P:shardmap)" = 256 ]

# P:events as a subscriber sees it, for the up/down announcements.
redis-cli -p "$REDIS_PORT" subscribe $P:events > "$WORK/events.txt" 2>&1 &
PIDS+=($!)

FE_PORT=$(free_port udp)
LAC_PORT=$(free_port udp)
LAC_PORT2=$(free_port udp)
LAC_PORT3=$(free_port udp)
CONF="$WORK/tandem.conf"
LOG_LEVEL=debug write_conf "$CONF" "127.0.0.1:$FE_PORT" "secret $SECRET"

# A bad config file: exit status 2, file:line on stderr.
printf 'listen 127.0.0.1:%s\nshard_count 3\n' "$FE_PORT" > "$WORK/bad.conf"
"$BIN/tandem-frontend" -c "$WORK/bad.conf" --id bad > "$WORK/bad.out" 2>&1
rc=$?
check "bad config: exit 2" [ "$rc" = 2 ]
check "bad config: the message names file:line" grep -q "bad.conf:2" "$WORK/bad.out"

FLOG="$WORK/frontend-fe1.log"
"$BIN/tandem-frontend" -c "$CONF" --id fe1 > "$FLOG" 2>&1 &
FE_PID=$!
PIDS+=($FE_PID)
registered() { rcli hget $P:frontends fe1 | grep -q '^1 endpoint='; }
check "frontend registered in P:frontends" wait_for 5 registered
REG=$(rcli hget $P:frontends fe1)
FE_EP=$(echo "$REG" | sed -n 's/^1 endpoint=\([^ ]*\) .*/\1/p')
check "registration: endpoint wire listen pid host version started ($REG)" grep -Eq \
	"^1 endpoint=tcp://127\.0\.0\.1:[0-9]+ wire=1 listen=127\.0\.0\.1:$FE_PORT pid=$FE_PID host=$(hostname) version=[^ ]+ started=[0-9]+\$" <<< "$REG"
pttl=$(rcli pttl $P:frontend:fe1:alive)
check "alive key with a TTL of at most 3 s (pttl=$pttl)" [ "$pttl" -gt 0 -a "$pttl" -le 3000 ]
check "a second frontend can share the UDP port (SO_REUSEPORT)" \
	"$PY" -c "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEPORT,1); s.bind(('127.0.0.1',$FE_PORT))"

# The PUSH sockets connect in the background (ZMQ_IMMEDIATE drops until
# then): probe with data for tunnel 0x0105 (shard 1) until w1 sees one.
probe_seen() {
	local hex
	hex=$(lac packet data 0x0105 "probe")
	lac send "$hex" "$LAC_PORT3" "$FE_PORT"
	sleep 0.1
	[ "$(count "$hex" w1)" -ge 1 ]
}
check "routing works once the worker socket is up" wait_for 5 probe_seen

# ---- SCCRQ, its retransmission, data, malformed ------------------------

SCCRQ=$(lac packet sccrq 0x1234)
r1=$(lac send "$SCCRQ" "$LAC_PORT" "$FE_PORT" wait)
check "SCCRQ reached w1" [ "$(count "$SCCRQ" w1)" = 1 ]
check "w1's reply left from the frontend's UDP port to the LAC ($r1)" reply_ok "$r1" w1 "$SCCRQ"
r2=$(lac send "$SCCRQ" "$LAC_PORT" "$FE_PORT" wait)
check "retransmitted SCCRQ reached the same worker" [ "$(count "$SCCRQ" w1)" = 2 -a "$(count "$SCCRQ" w2)" = 0 ]
check "reply to the retransmission came back too" reply_ok "$r2" w1 "$SCCRQ"

DATA=$(lac packet data 0x0203 "hello-shard-2")
r3=$(lac send "$DATA" "$LAC_PORT" "$FE_PORT" wait)
check "data for tunnel 0x0203 reached w1 (owner of shard 2)" [ "$(count "$DATA" w1)" = 1 ]
check "reply to the data packet came back" reply_ok "$r3" w1 "$DATA"

BAD=$(lac packet malformed)
lac send "$BAD" "$LAC_PORT" "$FE_PORT"
sleep 0.3
check "malformed packet reached no worker" [ "$(count "$BAD")" = 0 ]
check "malformed packet logged with its reason" \
	grep -q 'datagram dropped: malformed.*rej=LENGTH_BEYOND' "$FLOG"

check "every record names the frontend's endpoint as origin" \
	[ "$(lac origins "$LOGW")" = "$FE_EP" ]
check "every batch decoded cleanly (magic, version, count, no trailing bytes)" \
	[ "$(lac errors "$LOGW")" = 0 ]

# ---- batching: one loop iteration, one PACKET_IN batch per worker ------

# The frontend is stopped while 50 datagrams queue in its socket; once it
# runs again, each loop iteration reads what libuv's recvmmsg support takes in
# one wakeup (two rounds of 20 datagrams in libuv 1.44) and sends it to w1 in
# one zmq_send: 50 datagrams in 2 batches (1 if libuv reads more). w1 answers
# each batch with one PACKET_OUT, sent with sendmmsg.
LAC_PORT4=$(free_port udp)
kill -STOP "$FE_PID"
lac burst 50 "$LAC_PORT4" "$FE_PORT" "$WORK/burst.ready" > "$WORK/burst.out" &
BURST_PID=$!
wait_for 5 test -e "$WORK/burst.ready"
kill -CONT "$FE_PID"
wait "$BURST_PID"
read -r n_rec n_batch <<< "$(lac batches "$LOGW" burst-)"
check "a 50-datagram burst reached w1: $n_rec records in $n_batch batches" \
	[ "$n_rec" = 50 -a "$n_batch" -le 2 ]
check "all 50 replies came back from the frontend's port" [ "$(cat "$WORK/burst.out")" = 50 ]

# ---- the shard map follows P:events ------------------------------------

rcli hset $P:shardmap 2 "1 owner=w2 epoch=2" > /dev/null
rcli publish $P:events "1 shard=2 owner=w2 epoch=2" > /dev/null
sleep 0.3
DATA2=$(lac packet data 0x0203 "after-move")
r4=$(lac send "$DATA2" "$LAC_PORT" "$FE_PORT" wait)
check "after the shard-map event, tunnel 0x0203 goes to w2" \
	[ "$(count "$DATA2" w2)" = 1 -a "$(count "$DATA2" w1)" = 0 ]
check "w2's reply came back through the frontend" reply_ok "$r4" w2 "$DATA2"

# Events come in the order Redis ran the scripts, so the latest one is the
# truth even with a lower epoch: after Redis lost its data (restart, failover
# to a replica that missed the last writes) the epochs start again, and the
# frontend must follow the new owner rather than keep routing to the old.
rcli publish $P:events "1 shard=2 owner=w1 epoch=1" > /dev/null
sleep 0.3
DATA3=$(lac packet data 0x0203 "epochs-restarted")
lac send "$DATA3" "$LAC_PORT" "$FE_PORT" wait > /dev/null
check "after an epoch restart, the latest event's owner (w1) gets the tunnel" \
	[ "$(count "$DATA3" w1)" = 1 -a "$(count "$DATA3" w2)" = 0 ]
rcli publish $P:events "1 shard=2 owner=w2 epoch=2" > /dev/null
sleep 0.3

# SCCRQ with a hidden Assigned Tunnel ID whose peer hash lands on shard 2:
# only a frontend that unhides it with the secret sends it to w2.
ATID=$(lac hidden_atid "$LAC_PORT2" 2)
HSCCRQ=$(lac packet sccrq_hidden "$ATID")
r5=$(lac send "$HSCCRQ" "$LAC_PORT2" "$FE_PORT" wait)
check "SCCRQ with hidden Assigned Tunnel ID $ATID routed by FNV-1a peer hash to w2" \
	[ "$(count "$HSCCRQ" w2)" = 1 ]
check "its reply came back" reply_ok "$r5" w2 "$HSCCRQ"

# Worker down: its shards' packets are dropped and counted.
rcli hdel $P:workers w2 > /dev/null
rcli publish $P:events "1 worker=w2 down" > /dev/null
sleep 0.3
DATA4=$(lac packet data 0x0203 "w2-is-down")
lac send "$DATA4" "$LAC_PORT" "$FE_PORT"
sleep 0.3
check "after 'worker=w2 down' nothing reaches w2" [ "$(count "$DATA4")" = 0 ]
check "the drop is logged as no_worker" grep -q 'reason=no_worker .*tid=515 ' "$FLOG"

# ---- SIGHUP ------------------------------------------------------------

sed -i 's/^log_level .*/log_level info/' "$CONF"
kill -HUP "$FE_PID"
check "SIGHUP applies log_level" wait_for 3 grep -q 'config changed.*key=log_level' "$FLOG"

# ---- Redis outage: keep routing with the last map ----------------------

kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
sleep 1
DATA5=$(lac packet data 0x0105 "redis-is-down")
r6=$(lac send "$DATA5" "$LAC_PORT" "$FE_PORT" wait)
check "with Redis down, tunnel 0x0105 still reaches w1" [ "$(count "$DATA5" w1)" = 1 ]
check "and its reply still comes back" reply_ok "$r6" w1 "$DATA5"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
	--dir "$WORK" --logfile "$WORK/redis2.log" &
REDIS_PID=$!
PIDS+=($!)
check "re-registered in the restarted Redis" wait_for 10 registered
# The new Redis is empty: what it does not know, the last map still says.
DATA7=$(lac packet data 0x0105 "empty-redis")
r8=$(lac send "$DATA7" "$LAC_PORT" "$FE_PORT" wait)
check "a Redis that lost its data does not erase the map: 0x0105 still reaches w1" \
	[ "$(count "$DATA7" w1)" = 1 ]
check "and its reply comes back" reply_ok "$r8" w1 "$DATA7"
check "Redis loss logged once" [ "$(grep -c 'redis unreachable' "$FLOG")" = 1 ]
check "Redis connection logged once per state change" [ "$(grep -c 'msg="redis connected"' "$FLOG")" = 2 ]

# Only the subscriber link is cut: it comes back on its own, and events flow
# again: a worker-up event re-reads P:workers, a shard event re-routes.
n_connected() { grep -c 'msg="redis connected"' "$FLOG"; }
rcli client kill type pubsub > /dev/null
three_connects() { [ "$(n_connected)" = 3 ]; }
check "subscriber loss and return logged once each" wait_for 5 three_connects
rcli hset $P:workers w1 "1 endpoint=$EP1 control=- wire=1 pid=1 host=test" > /dev/null
rcli publish $P:events "1 worker=w1 up" > /dev/null
rcli hset $P:shardmap 1 "1 owner=w1 epoch=5" > /dev/null
rcli publish $P:events "1 shard=1 owner=w1 epoch=5" > /dev/null
sleep 0.5
DATA6=$(lac packet data 0x0105 "after-resubscribe")
r7=$(lac send "$DATA6" "$LAC_PORT" "$FE_PORT" wait)
check "after 'worker=w1 up' and a shard event, 0x0105 reaches w1 again" \
	[ "$(count "$DATA6" w1)" = 1 ]
check "and its reply comes back" reply_ok "$r7" w1 "$DATA6"

# The subscriber redis-cli died with the first Redis: listen again.
redis-cli -p "$REDIS_PORT" subscribe $P:events > "$WORK/events2.txt" 2>&1 &
PIDS+=($!)
sleep 0.3

# ---- SIGTERM -----------------------------------------------------------

kill -TERM "$FE_PID"
for _ in $(seq 50); do kill -0 "$FE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$FE_PID"
rc=$?
check "SIGTERM: exit 0" [ "$rc" = 0 ]
check "SIGTERM: removed from P:frontends" [ "$(rcli hexists $P:frontends fe1)" = 0 ]
check "SIGTERM: alive key deleted" [ "$(rcli exists $P:frontend:fe1:alive)" = 0 ]
check "'frontend=fe1 up' was published" grep -q '^1 frontend=fe1 up$' "$WORK/events.txt"
check "'frontend=fe1 down' was published" wait_for 2 grep -q '^1 frontend=fe1 down$' "$WORK/events2.txt"
STATS=$(grep 'msg="counters"' "$FLOG" | tail -1)
check "exit counters: the malformed packet counted by reason" \
	grep -q 'malformed=1 .*rej_LENGTH_BEYOND=1' <<< "$STATS"
nw=$(sed -n 's/.* no_worker=\([0-9]*\) .*/\1/p' <<< "$STATS")
check "exit counters: no_worker drops counted ($nw)" [ "${nw:-0}" -ge 1 ]
check "exit counters logged at info" grep -q 'level=info .*msg="counters"' <<< "$STATS"
echo "    $STATS"
finish frontend
