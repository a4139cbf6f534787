#!/bin/bash
# tandem-lac drives 100 tunnels x 100 sessions through one frontend and one
# worker: zero failures, and afterwards every tunnel and session is in Redis
# with the sequence numbers the LAC last saw (the checkpoint is write-ahead).
. "$(dirname "$0")/lib.sh"
echo "tandem-lac 100x100 -> tandem, then Redis holds what the LAC saw"
LNS=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish lac-load; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701"
start_worker w1 "$WORK/t.conf"
start_frontend f1 "$WORK/t.conf"
check "cluster ready (all shards owned, frontend registered)" wait_for 10 cluster_ready
timeout 120 "$BIN/tandem-lac" --lns $LNS:1701 --tunnels 100 --sessions 100 \
	--no-teardown --json > "$WORK/lac.json" 2> "$WORK/lac.err"
rc=$?
check "tandem-lac exits 0 (every tunnel and session up, none torn down)" [ "$rc" -eq 0 ]
# Let the last acknowledgements' checkpoints land, then compare.
sleep 0.5
/usr/bin/python3 - "$WORK/lac.json" "$REDIS_PORT" > "$WORK/compare.txt" <<'PY'
import json, struct, sys
rep = json.load(open(sys.argv[1]))
port = sys.argv[2]
import redis as _r  # python3-redis (Debian)
r = _r.Redis(host="127.0.0.1", port=int(port))
bad = 0
print("tunnels_established", rep["tunnels_established"])
print("sessions_established", rep["sessions_established"])
for t in rep["tunnels"]:
    rec = r.get("tandem:t:%d" % t["lns_tid"])
    if rec is None:
        print("missing tunnel", t["lns_tid"]); bad += 1; continue
    # version u8, tid u16, peer_tid u16, family u8, addr 16, port u16,
    # state u8, ns_next u16, nr u16
    ver, tid, ptid = struct.unpack_from(">BHH", rec, 0)
    state, ns_next, nr = struct.unpack_from(">BHH", rec, 1 + 2 + 2 + 1 + 16 + 2)
    # The LNS's next Ns is what the LAC expects (its nr); the LNS expects
    # next what the LAC sends next (its ns).
    if ver != 1 or tid != t["lns_tid"] or ptid != t["lac_tid"] or \
       ns_next != t["nr"] or nr != t["ns"] or state != 2:
        print("mismatch", t["lns_tid"], dict(ver=ver, ptid=ptid, state=state,
              ns_next=ns_next, nr=nr), "lac", t["ns"], t["nr"]); bad += 1
    sess = r.hgetall("tandem:s:%d" % t["lns_tid"])
    want = {s["lns_sid"]: s["lac_sid"] for s in t["sessions"]}
    got = {}
    for k, v in sess.items():
        sver, sid, psid, sstate = struct.unpack_from(">BHHB", v, 0)
        got[sid] = psid
        if sver != 1 or sstate != 2:
            print("session not established in Redis", t["lns_tid"], sid); bad += 1
    if got != want:
        print("sessions differ", t["lns_tid"], len(got), len(want)); bad += 1
print("mismatches", bad)
sys.exit(1 if bad else 0)
PY
rc=$?
sed 's/^/    /' "$WORK/compare.txt" | head -20
check "every tunnel record matches the LAC's Ns/Nr and IDs" [ "$rc" -eq 0 ]
check "100 tunnels established" grep -q '^tunnels_established 100$' "$WORK/compare.txt"
check "10000 sessions established" grep -q '^sessions_established 10000$' "$WORK/compare.txt"
finish lac-load
