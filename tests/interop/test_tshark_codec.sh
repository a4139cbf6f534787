#!/bin/bash
# Third-party check of the codec's encoder: pcapgen encodes every RFC 2661
# control message (every AVP each may carry), hidden-AVP messages and data
# messages; tshark must dissect them without malformed or expert warnings and
# show the encoded values, and tandem-l2tpdump must decode the same values.
# Repeated over every link type and both IP versions the dump tool reads.
# shellcheck source=tests/interop/lib.sh
source "$(dirname "$0")/lib.sh"

GEN=$TTOOLS/pcapgen
SECRET='tandem interop s3cret'
# The codec does not report per-AVP M bits, so the dump tool has none.
NOT_IN_DUMP=mandatory
HDR_KEYS=frame,src,dst,t,l,s,o,p,ver,len,tid,sid,ns,nr,offset,payload_len,msg,avps,hidden,mandatory
# Every message pcapgen must produce: a guard against silently losing some.
MSGS="CDN HELLO ICCN ICRP ICRQ OCCN OCRP OCRQ SCCCN SCCRP SCCRQ SLI STOPCCN WEN ZLB"

# One capture variant: NAME, full|basic, then pcapgen options. "basic"
# skips the hidden-AVP round through tshark, which does not depend on the
# link type, to keep the run short.
variant() {
	local name=$1 depth=$2 d=$WORK/$1
	shift 2
	mkdir -p "$d"
	check "$name: pcapgen encodes every message" \
		"$GEN" -o "$d/gen.pcap" -e "$d/expected.txt" -s "$SECRET" "$@"
	[ -s "$d/expected.txt" ] || return 0

	check "$name: every message type generated" \
		test "$(grep -o ' msg=[A-Z]*' "$d/expected.txt" | cut -d= -f2 |
			sort -u | tr '\n' ' ')" = "$MSGS "
	check "$name: data messages generated" \
		test "$(grep -c ' t=0 ' "$d/expected.txt")" -ge 5
	local hidden_frames
	hidden_frames=$(awk '/ hidden=/ { sub("frame=", "", $1); print $1 }' \
		"$d/expected.txt" | paste -sd, -)
	check "$name: hidden-AVP messages generated" test -n "$hidden_frames"

	# tshark on the capture as encoded: no malformed packet, no expert
	# warning or error (bad checksums included), header fields, message
	# types, AVP types and hidden bits as encoded, values of the clear AVPs.
	check "$name: tshark dissects the capture" \
		tshark_pdml "$d/gen.pcap" "$d/gen.pdml"
	check "$name: tshark: no malformed packet or expert warning" \
		sh -c '"$@" > "$0"' "$d/tshark.txt" "${L2T[@]}" norm "$d/gen.pdml"
	check "$name: tshark header fields, AVP types, H and M bits = encoded" \
		compare "$d/expected.txt" "$d/tshark.txt" --keys "$HDR_KEYS"
	local clear_frames
	clear_frames=$(awk -v h=",$hidden_frames," '{ f = $1; sub("frame=", "", f)
		if (index(h, "," f ",") == 0) print f }' "$d/expected.txt" |
		paste -sd, -)
	check "$name: tshark values = encoded (clear messages)" \
		compare "$d/expected.txt" "$d/tshark.txt" --frames "$clear_frames"

	# The codec's decoder, through the dump tool.
	check "$name: tandem-l2tpdump reads the capture" \
		sh -c '"$@" > "$0"' "$d/dump.txt" "$DUMP" -s "$SECRET" "$d/gen.pcap"
	check "$name: tandem-l2tpdump values = encoded" \
		compare "$d/expected.txt" "$d/dump.txt" --ignore "$NOT_IN_DUMP"
	check "$name: without the secret, hidden messages reject" \
		sh -c '"$@" > "$0"' "$d/dump-nosecret.txt" "$DUMP" "$d/gen.pcap"
	check "$name: ... with HIDDEN_NO_SECRET, the others decode the same" \
		compare "$d/expected.txt" "$d/dump-nosecret.txt" --ignore "$NOT_IN_DUMP" \
		--frames "$clear_frames"
	check "$name: ... every hidden message rejected" \
		test "$(grep -c ' reject=HIDDEN_NO_SECRET ' "$d/dump-nosecret.txt")" \
		-eq "$(echo "$hidden_frames" | tr ',' '\n' | wc -l)"
	[ "$depth" = full ] || return 0

	# tshark does not decrypt hidden AVPs (its l2tp.shared_secret
	# preference is for L2TPv3 message digests), so l2tp_tshark.py unhides
	# them with its own RFC 2661 4.3 code and tshark dissects the result.
	check "$name: hidden AVPs unhidden outside the codec" \
		"${L2T[@]}" unhide "$d/gen.pcap" "$d/gen.pdml" "$SECRET" \
		"$d/unhidden.pcap" "$d/unhidden.txt"
	check "$name: tshark dissects the unhidden capture" \
		tshark_pdml "$d/unhidden.pcap" "$d/unhidden.pdml"
	check "$name: tshark: unhidden capture clean" \
		sh -c '"$@" > "$0"' "$d/tshark-unhidden.txt" "${L2T[@]}" norm \
		"$d/unhidden.pdml" --hidden "$d/unhidden.txt"
	check "$name: tshark values = encoded (all messages, hidden too)" \
		compare "$d/expected.txt" "$d/tshark-unhidden.txt"

	check "$name: tandem-l2tpdump values = tshark" \
		compare "$d/tshark-unhidden.txt" "$d/dump.txt" --ignore "$NOT_IN_DUMP"
}

variant eth-ipv4 full -l 1
variant sll2-ipv6-be full -l 276 -6 -B
variant eth-ipv6 basic -l 1 -6
variant null-ipv4 basic -l 0
variant null-ipv6 basic -l 0 -6
variant raw-ipv4 basic -l 101
variant raw-ipv6 basic -l 101 -6
variant ipv4-228 basic -l 228
variant sll-ipv4 basic -l 113
variant sll-ipv6-be basic -l 113 -6 -B
variant sll2-ipv4 basic -l 276

# Negative controls: each comparison above must be able to fail.
d=$WORK/eth-ipv4
if [ -s "$d/expected.txt" ]; then
	sed '1s/host_name="[^"]*"/host_name="tampered"/' "$d/expected.txt" \
		>"$d/tampered.txt"
	expect_fail "a changed host name differs from tandem-l2tpdump" \
		compare "$d/tampered.txt" "$d/dump.txt" --ignore "$NOT_IN_DUMP"
	expect_fail "a changed host name differs from tshark" \
		compare "$d/tampered.txt" "$d/tshark-unhidden.txt"
	sed '1s/ mandatory=0,/ mandatory=/' "$d/expected.txt" >"$d/m-bit.txt"
	expect_fail "a changed M bit differs from tshark" \
		compare "$d/m-bit.txt" "$d/tshark.txt" --keys "$HDR_KEYS"
	sed '/ msg=WEN /d' "$d/expected.txt" >"$d/missing.txt"
	expect_fail "a missing frame is noticed" \
		compare "$d/missing.txt" "$d/dump.txt" --ignore "$NOT_IN_DUMP"
	"$DUMP" -s "wrong $SECRET" "$d/gen.pcap" >"$d/dump-wrong.txt" || true
	expect_fail "the wrong secret does not decode hidden values" \
		compare "$d/expected.txt" "$d/dump-wrong.txt" --ignore "$NOT_IN_DUMP"
	# Flip the last byte of the first frame (inside the UDP checksum's
	# coverage): tshark must report a bad checksum as an expert error.
	cp "$d/gen.pcap" "$d/corrupt.pcap"
	"$PY" - "$d/corrupt.pcap" <<'PYEOF'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
incl = struct.unpack("<I", b[24 + 8:24 + 12])[0]
b[24 + 16 + incl - 1] ^= 0x01
open(p, "wb").write(b)
PYEOF
	tshark_pdml "$d/corrupt.pcap" "$d/corrupt.pdml" || true
	expect_fail "a corrupted packet raises a tshark expert error" \
		"${L2T[@]}" norm "$d/corrupt.pdml"
fi
finish
