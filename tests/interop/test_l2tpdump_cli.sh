#!/bin/bash
# tandem-l2tpdump as an operator tool: usage and exit codes, clear errors
# naming the file for unreadable, foreign, truncated and unsupported
# captures, snaplen-cut and fragmented packets, -p, and reject lines for
# broken L2TP (which tshark must flag too).
# shellcheck source=tests/interop/lib.sh
source "$(dirname "$0")/lib.sh"

GEN=$TTOOLS/pcapgen
d=$WORK
"$GEN" -o "$d/raw.pcap" -e "$d/raw.txt" -s secret -l 101 ||
	{ echo "FAIL pcapgen"; exit 1; }
n_frames=$(wc -l <"$d/raw.txt")

# status WANT COMMAND...: the command exits with status WANT.
status() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	[ "$rc" -eq "$want" ] || { echo "exit status $rc, want $want"; return 1; }
}
# stderr_has PATTERN COMMAND...: the command fails and says PATTERN.
stderr_has() {
	local pat=$1 rc=0
	shift
	"$@" >/dev/null 2>"$d/err" || rc=$?
	cat "$d/err"
	[ "$rc" -eq 1 ] && grep -q -- "$pat" "$d/err"
}

check "no argument: usage error (2)" status 2 "$DUMP"
check "-h: help on stdout, exit 0" sh -c '"$0" -h | grep -q "^usage:"' "$DUMP"
check "-p 0 is refused" status 2 "$DUMP" -p 0 "$d/raw.pcap"
check "-p abc is refused" status 2 "$DUMP" -p abc "$d/raw.pcap"
check "missing file: exit 1 naming the file" \
	stderr_has "$d/nonexistent.pcap: No such file" "$DUMP" "$d/nonexistent.pcap"
echo "hello" >"$d/text.pcap"
check "text file: not a pcap file" \
	stderr_has "text.pcap: not a pcap file" "$DUMP" "$d/text.pcap"
head -c 10 "$d/raw.pcap" >"$d/short-header.pcap"
check "cut file header" \
	stderr_has "short-header.pcap: truncated file header" "$DUMP" \
	"$d/short-header.pcap"
if command -v editcap >/dev/null; then
	editcap -F pcapng "$d/raw.pcap" "$d/raw.pcapng"
	check "pcapng is named as unsupported" \
		stderr_has "raw.pcapng: pcapng is not supported" "$DUMP" \
		"$d/raw.pcapng"
	# snaplen 36 keeps IPv4 and UDP and cuts every L2TP message short
	editcap -F pcap -s 36 "$d/raw.pcap" "$d/snap.pcap" 2>/dev/null
	check "snaplen-cut packets are reported, exit 0" \
		sh -c '"$0" "$1" > "$2" && test "$(grep -c " skip=truncated " "$2")" -eq "$3"' \
		"$DUMP" "$d/snap.pcap" "$d/snap.txt" "$n_frames"
fi
size=$(stat -c %s "$d/raw.pcap")
head -c $((size - 3)) "$d/raw.pcap" >"$d/cut.pcap"
check "cut last record: exit 1 naming file and record" \
	stderr_has "cut.pcap: record $n_frames: truncated record" "$DUMP" \
	"$d/cut.pcap"
check "... after printing the complete records" \
	sh -c '"$0" "$1" 2>/dev/null | wc -l | grep -qx "$2"' "$DUMP" \
	"$d/cut.pcap" "$((n_frames - 1))"
check "another -p: no L2TP found, exit 0" \
	sh -c '"$0" -p 1702 "$1" > "$2" && ! test -s "$2"' "$DUMP" \
	"$d/raw.pcap" "$d/p.txt"

# Byte surgery on the raw-IP capture (little-endian, no link header):
# frame 5 is a HELLO (Message Type AVP only), frame 1 the SCCRQ.
"$PY" - "$d" <<'PYEOF'
import struct, sys
d = sys.argv[1]
data = open(d + "/raw.pcap", "rb").read()
recs, off = [], 24
while off < len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    recs.append(bytearray(data[off + 16:off + 16 + incl]))
    off += 16 + incl

def write(name, frames, linktype=101):
    hdr = bytearray(data[:24])
    struct.pack_into("<I", hdr, 20, linktype)
    with open(d + "/" + name, "wb") as f:
        f.write(hdr)
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)

l2 = 28  # IPv4 20 + UDP 8
bad = [bytearray(r) for r in recs]
bad[4][l2 + 12:l2 + 14] = b"\x80\x05"       # HELLO: AVP length 5
bad[0][l2 + 1] = (bad[0][l2 + 1] & 0xf0) | 3  # SCCRQ: version 3
bad[1][6] |= 0x20                           # SCCRP: IPv4 MF bit
write("bad.pcap", bad)
write("linktype.pcap", recs, linktype=105)
PYEOF
check "unsupported link type is named" \
	stderr_has "linktype.pcap: unsupported link type 105" "$DUMP" \
	"$d/linktype.pcap"
"$DUMP" -s secret "$d/bad.pcap" >"$d/bad.txt" 2>&1 || true
check "AVP length 5: reject=AVP_LENGTH_SHORT" \
	grep -q "^frame=5 .* reject=AVP_LENGTH_SHORT " "$d/bad.txt"
check "version 3: reject=VERSION3" grep -q "^frame=1 .* reject=VERSION3 " \
	"$d/bad.txt"
check "IP fragment: skip=ip-fragment" grep -q "^frame=2 .* skip=ip-fragment" \
	"$d/bad.txt"
check "other frames still decode" \
	compare "$d/raw.txt" "$d/bad.txt" --ignore mandatory --frames "$(seq -s, 6 "$n_frames")"
tshark_pdml "$d/bad.pcap" "$d/bad.pdml" || true
check "tshark also flags the AVP length 5 packet" \
	sh -c '"$@" 2>&1 >/dev/null | grep -q "^tshark frame 5: "' \
	"${L2T[@]}" norm "$d/bad.pdml"
finish
