#!/bin/bash
# Third-party check of the codec's decoder: a real xl2tpd LAC dials a real
# xl2tpd LNS on loopback (tunnel authentication with Challenge / Challenge
# Response and Random Vector AVPs on), dumpcap records it, and every L2TP
# packet (at least the LAC's SCCRQ and ICRQ) must decode with tandem-l2tpdump
# to the header fields and AVP values tshark shows. pppd fails without
# /dev/ppp, which is expected: the ICRQ goes out before pppd starts.
# shellcheck source=tests/interop/lib.sh
source "$(dirname "$0")/lib.sh"

for tool in /usr/sbin/xl2tpd dumpcap setsid; do
	command -v "$tool" >/dev/null || {
		echo "FAIL missing $tool"
		exit 1
	}
done

# Addresses and port of our own on 127/8 so that nothing else on the host
# (a tandem LNS on :1701, another test run) shares the capture.
net=127.77.$((RANDOM % 250 + 1))
LNS_ADDR=$net.1
LAC_ADDR=$net.2
PORT=$((20000 + RANDOM % 20000))
SECRET='xl2tpd interop s3cret'
DEADLINE=$((SECONDS + 40)) # everything below finishes well before this
PGIDS=()

# Stop what we started: each process runs in its own process group (setsid)
# under `timeout`, so killing the group also reaches xl2tpd's pppd children.
stop_all() {
	local g
	for g in "${PGIDS[@]}"; do
		kill -TERM -- "-$g" 2>/dev/null || true
	done
	for g in "${PGIDS[@]}"; do
		local n=0
		while kill -0 -- "-$g" 2>/dev/null && [ "$n" -lt 30 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL -- "-$g" 2>/dev/null || true
	done
	PGIDS=()
}
xl2tpd_cleanup() {
	stop_all
	interop_cleanup
}
trap xl2tpd_cleanup EXIT

# start NAME COMMAND...: background, own process group, killed after 45 s
# even if this script dies without running its trap.
start() {
	local name=$1
	shift
	setsid timeout -k 2 45 "$@" >"$WORK/$name.log" 2>&1 &
	PGIDS+=("$!")
}

# wait_for DESCRIPTION COMMAND...: poll every 0.1 s until the command
# succeeds or the deadline passes.
wait_for() {
	local desc=$1
	shift
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$DEADLINE" ]; then
			echo "FAIL timed out waiting for $desc"
			return 1
		fi
		sleep 0.1
	done
}

echo "* * $SECRET" >"$WORK/l2tp-secrets"
chmod 600 "$WORK/l2tp-secrets"
cat >"$WORK/lns.conf" <<EOF
[global]
listen-addr = $LNS_ADDR
port = $PORT
auth file = $WORK/l2tp-secrets
[lns default]
ip range = 10.250.0.2-10.250.0.20
local ip = 10.250.0.1
require authentication = no
hostname = interop-lns
challenge = yes
hidden bit = yes
EOF
cat >"$WORK/lac.conf" <<EOF
[global]
listen-addr = $LAC_ADDR
port = $PORT
auth file = $WORK/l2tp-secrets
[lac interop]
lns = $LNS_ADDR:$PORT
autodial = yes
redial = no
hostname = interop-lac
require authentication = no
challenge = yes
hidden bit = yes
EOF

CAP=$WORK/xl2tpd.pcap
start dumpcap dumpcap -i lo -P -w "$CAP" -a duration:40 \
	-f "udp and host $LNS_ADDR and host $LAC_ADDR"
wait_for "dumpcap to start" grep -q "^Capturing on" "$WORK/dumpcap.log" ||
	{ cat "$WORK/dumpcap.log"; exit 1; }
start lns /usr/sbin/xl2tpd -D -c "$WORK/lns.conf" -p "$WORK/lns.pid" \
	-C "$WORK/lns.control"
wait_for "the LNS to listen" grep -q "Listening on IP address" "$WORK/lns.log" ||
	{ cat "$WORK/lns.log"; exit 1; }
start lac /usr/sbin/xl2tpd -D -c "$WORK/lac.conf" -p "$WORK/lac.pid" \
	-C "$WORK/lac.control"

# The LAC's SCCRQ and ICRQ are what we need; the rest of the exchange (up to
# its CDN when pppd dies) follows within milliseconds, so wait for the CDN a
# little and take what is there.
have() {
	"$DUMP" -p "$PORT" "$CAP" 2>/dev/null |
		grep " src=$LAC_ADDR:$PORT .* msg=$1 " >/dev/null
}
check "xl2tpd LAC sent SCCRQ" wait_for SCCRQ have SCCRQ
check "xl2tpd LAC sent ICRQ" wait_for ICRQ have ICRQ
DEADLINE=$((SECONDS + 3))
wait_for CDN have CDN || true
stop_all # dumpcap flushes and closes the file on SIGTERM

check "capture is readable" tshark_pdml "$CAP" "$WORK/cap.pdml" \
	-d "udp.port==$PORT,l2tp"
check "tshark: no malformed packet or expert warning" \
	sh -c '"$@" > "$0"' "$WORK/tshark.txt" "${L2T[@]}" norm "$WORK/cap.pdml"
check "tandem-l2tpdump decodes the capture" \
	sh -c '"$@" > "$0"' "$WORK/dump.txt" "$DUMP" -p "$PORT" -s "$SECRET" "$CAP"
check "tandem-l2tpdump rejects no packet" \
	sh -c '! grep " reject=" "$0"' "$WORK/dump.txt"
for m in SCCRQ ICRQ; do
	check "tshark and tandem-l2tpdump both show the LAC's $m" \
		sh -c 'grep -q " src=$1 .* msg=$2 " "$3" &&
			grep -q " src=$1 .* msg=$2 " "$4"' _ \
		"$LAC_ADDR:$PORT" "$m" "$WORK/tshark.txt" "$WORK/dump.txt"
done
check "tunnel authentication AVPs captured (Challenge, Response, RV)" \
	sh -c 'grep -q " challenge=" "$0" && grep -q " challenge_response=" "$0" &&
		grep -q " random_vector=" "$0"' "$WORK/dump.txt"
# auth= is the dump tool's own check of the Challenge Responses (tshark
# cannot check them): xl2tpd's answers must verify with the codec.
check "tandem-l2tpdump = tshark for every packet (header and AVPs)" \
	compare "$WORK/tshark.txt" "$WORK/dump.txt" --ignore auth,mandatory
for m in SCCRP SCCCN; do
	check "xl2tpd's Challenge Response in $m verifies (l2tp_auth)" \
		grep -q " msg=$m .* auth=ok" "$WORK/dump.txt"
done
check "no Challenge Response fails to verify" \
	sh -c '! grep -q " auth=bad" "$0"' "$WORK/dump.txt"

echo "--- what the codec decoded:"
cut -c1-240 "$WORK/dump.txt" 2>/dev/null || true

# Negative control: the comparison notices one changed AVP value.
if [ -s "$WORK/dump.txt" ]; then
	sed '1s/ assigned_tunnel_id=\([0-9]*\)/ assigned_tunnel_id=1\1/' \
		"$WORK/dump.txt" >"$WORK/tampered.txt"
	expect_fail "a changed Assigned Tunnel ID differs from tshark" \
		compare "$WORK/tshark.txt" "$WORK/tampered.txt" --ignore auth,mandatory
	"$DUMP" -p "$PORT" -s "wrong $SECRET" "$CAP" >"$WORK/dump-wrong.txt" ||
		true
	expect_fail "with the wrong secret no response verifies" \
		grep -q " auth=ok" "$WORK/dump-wrong.txt"
fi
finish
