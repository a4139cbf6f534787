#!/usr/bin/python3
"""tshark side of the interop tests: turn tshark's PDML dissection of L2TP
packets into the key=value vocabulary of tandem-l2tpdump, un-hide hidden AVPs
(RFC 2661 section 4.3, implemented here independently of the C codec) so
tshark can dissect their values, and compare key=value files frame by frame.

  norm PDML [--hidden HIDDEN]       tshark's view, one line per L2TP frame;
                                    exit 1 on malformed packets or expert
                                    info of severity warning or error
  unhide PCAP PDML SECRET OUT HIDDEN  rewrite hidden AVPs in clear text and
                                    list per frame which AVPs were hidden
                                    and the original Length (for norm)
  compare A B [--keys K,..] [--ignore K,..] [--frames N,..]
                                    exit 1 on any difference
"""
import argparse
import hashlib
import re
import struct
import sys
import xml.etree.ElementTree as ET

PI_WARN = 0x00600000  # epan/proto.h severity levels: chat, note, warn, error

MSG_NAMES = {0: "ZLB", 1: "SCCRQ", 2: "SCCRP", 3: "SCCCN", 4: "STOPCCN",
             6: "HELLO", 7: "OCRQ", 8: "OCRP", 9: "OCCN", 10: "ICRQ",
             11: "ICRP", 12: "ICCN", 14: "CDN", 15: "WEN", 16: "SLI"}

HEADER = {"l2tp.type": "t", "l2tp.length_bit": "l", "l2tp.seq_bit": "s",
          "l2tp.offset_bit": "o", "l2tp.priority": "p", "l2tp.version": "ver",
          "l2tp.length": "len", "l2tp.tunnel": "tid", "l2tp.session": "sid",
          "l2tp.Ns": "ns", "l2tp.Nr": "nr", "l2tp.offset": "offset"}

# tshark field -> (tandem-l2tpdump key, how to print the value)
AVP_FIELDS = {
    "l2tp.result_code": ("result", "int"),
    "l2tp.stop_ccn_result_code": ("result", "int"),
    "l2tp.avp.error_code": ("error", "int"),
    "l2tp.avp.error_message": ("error_msg", "text"),
    "l2tp.avp.protocol_version": ("protocol_version", "int"),
    "l2tp.avp.protocol_revision": ("protocol_revision", "int"),
    "l2tp.tie_breaker": ("tie_breaker", "hex64"),
    "l2tp.avp.firmware_revision": ("firmware_revision", "int"),
    "l2tp.avp.host_name": ("host_name", "text"),
    "l2tp.avp.vendor_name": ("vendor_name", "text"),
    "l2tp.avp.assigned_tunnel_id": ("assigned_tunnel_id", "int"),
    "l2tp.avp.receive_window_size": ("receive_window_size", "int"),
    "l2tp.avp.chap_challenge": ("challenge", "bytes"),
    "l2tp.avp.cause_code": ("q931_cause", "int"),
    "l2tp.avp.cause_msg": ("q931_msg", "int"),
    "l2tp.avp.advisory_msg": ("q931_advisory", "text"),
    "l2tp.avp.chap_challenge_response": ("challenge_response", "bytes"),
    "l2tp.avp.assigned_session_id": ("assigned_session_id", "int"),
    "l2tp.avp.call_serial_number": ("call_serial_number", "int"),
    "l2tp.avp.minimum_bps": ("minimum_bps", "int"),
    "l2tp.avp.maximum_bps": ("maximum_bps", "int"),
    "l2tp.avp.called_number": ("called_number", "text"),
    "l2tp.avp.calling_number": ("calling_number", "text"),
    "l2tp.avp.sub_address": ("sub_address", "text"),
    "l2tp.avp.connect_speed": ("tx_connect_speed", "int"),
    "l2tp.avp.physical_channel": ("physical_channel_id", "int"),
    "l2tp.avp.initial_received_lcp_confreq":
        ("initial_received_lcp_confreq", "bytes"),
    "l2tp.avp.last_sent_lcp_confreq": ("last_sent_lcp_confreq", "bytes"),
    "l2tp.avp.last_received_lcp_confreq":
        ("last_received_lcp_confreq", "bytes"),
    "l2tp.avp.proxy_authen_type": ("proxy_authen_type", "int"),
    "l2tp.avp.proxy_authen_name": ("proxy_authen_name", "text"),
    "l2tp.avp.proxy_authen_challenge": ("proxy_authen_challenge", "bytes"),
    "l2tp.avp.proxy_authen_id": ("proxy_authen_id", "int"),
    "l2tp.avp.proxy_authen_response": ("proxy_authen_response", "bytes"),
    "l2tp.avp.crc_errors": ("crc_errors", "int"),
    "l2tp.avp.framing_errors": ("framing_errors", "int"),
    "l2tp.avp.hardware_overruns": ("hardware_overruns", "int"),
    "l2tp.avp.buffer_overruns": ("buffer_overruns", "int"),
    "l2tp.avp.time_out_errors": ("timeout_errors", "int"),
    "l2tp.avp.alignment_errors": ("alignment_errors", "int"),
    "l2tp.avp.send_accm": ("send_accm", "int"),
    "l2tp.avp.receive_accm": ("receive_accm", "int"),
    "l2tp.avp.random_vector": ("random_vector", "bytes"),
    "l2tp.avp.private_group_id": ("private_group_id", "bytes"),
    "l2tp.avp.rx_connect_speed": ("rx_connect_speed", "int"),
}

# tshark shows these 32-bit bitmaps as two booleans: (key, bit 1, bit 0)
AVP_BITS = {
    3: ("framing_capabilities", "l2tp.avp.async_framing_supported",
        "l2tp.avp.sync_framing_supported"),
    4: ("bearer_capabilities", "l2tp.avp.analog_access_supported",
        "l2tp.avp.digital_access_supported"),
    18: ("bearer_type", "l2tp.avp.analog_bearer_type",
         "l2tp.avp.digital_bearer_type"),
    19: ("framing_type", "l2tp.avp.async_framing_type",
         "l2tp.avp.sync_framing_type"),
}


# Byte-string AVPs: tshark adds no value field for some when they are empty.
EMPTY_VALUE = {
    7: ("host_name", "text"), 8: ("vendor_name", "text"),
    11: ("challenge", "bytes"), 13: ("challenge_response", "bytes"),
    21: ("called_number", "text"), 22: ("calling_number", "text"),
    23: ("sub_address", "text"),
    26: ("initial_received_lcp_confreq", "bytes"),
    27: ("last_sent_lcp_confreq", "bytes"),
    28: ("last_received_lcp_confreq", "bytes"),
    30: ("proxy_authen_name", "text"),
    31: ("proxy_authen_challenge", "bytes"),
    33: ("proxy_authen_response", "bytes"),
    36: ("random_vector", "bytes"), 37: ("private_group_id", "bytes"),
}

# Expert info tshark adds for any vendor AVP it has no dissector for
# (severity warning, group undecoded): not a sign of a malformed packet.
EXPERT_ALLOWED = {"l2tp.vendor_specific_avp_data"}


def fail(msg):
    sys.stderr.write("l2tp_tshark: %s\n" % msg)
    sys.exit(2)


def text_value(raw):
    """Quote bytes the way tandem-l2tpdump does."""
    out = []
    for c in raw:
        if c in (0x22, 0x5c):
            out.append("\\" + chr(c))
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def field_value(f, kind):
    if kind == "int":
        return str(int(f.get("show"), 0))
    if kind == "hex64":
        return "0x%016x" % int(f.get("show"), 0)
    raw = bytes.fromhex(f.get("value", ""))
    return text_value(raw) if kind == "text" else raw.hex()


def types_value(types):
    return ",".join(str(t) for t in sorted(types))


def packet_problems(pkt):
    """Malformed markers and expert info of severity warning or above."""
    probs = []
    for el in pkt.iter():
        name = el.get("name", "")
        if name == "_ws.malformed" and el.tag == "proto":
            probs.append("malformed packet")
        elif name == "_ws.expert":
            sev = [c for c in el.iter() if c.get("name") ==
                   "_ws.expert.severity"]
            if any(c.get("name") in EXPERT_ALLOWED for c in el):
                continue
            if sev and int(sev[0].get("show"), 0) >= PI_WARN:
                probs.append("expert: " + el.get("showname", "?"))
    return sorted(set(probs))


def avp_subtree(kv, avp, hidden_types, avps, vendors, mandatory):
    kids = {c.get("name"): c for c in avp}
    raw = bytes.fromhex(avp.get("value", ""))
    m_bit = "l2tp.avp.mandatory" in kids and \
        kids["l2tp.avp.mandatory"].get("show") == "1"
    if kids.get("l2tp.avp.hidden") is not None and \
            kids["l2tp.avp.hidden"].get("show") == "1":
        # tshark does not dissect hidden AVPs; the header is all it shows.
        if len(raw) >= 6 and raw[2:4] == b"\0\0":
            t = struct.unpack("!H", raw[4:6])[0]
            avps.add(t)
            hidden_types.add(t)
            if m_bit:
                mandatory.add(t)
        return
    vendor = int(kids["l2tp.avp.vendor_id"].get("show"), 0) \
        if "l2tp.avp.vendor_id" in kids else 0
    if vendor != 0:
        # Vendors tshark knows get their own type fields; the AVP bytes
        # tshark delimited give type and value for all of them.
        t = struct.unpack("!H", raw[4:6])[0]
        vendors.append("%d:%d:%s" % (vendor, t, raw[6:].hex()))
        return
    if "l2tp.avp.type" not in kids:
        return
    atype = int(kids["l2tp.avp.type"].get("show"), 0)
    avps.add(atype)
    if m_bit:
        mandatory.add(atype)
    if len(raw) == 6 and atype in EMPTY_VALUE:
        # tshark adds no field for some empty strings
        key, kind = EMPTY_VALUE[atype]
        kv[key] = '""' if kind == "text" else ""
        return
    if atype in AVP_BITS:
        key, hi, lo = AVP_BITS[atype]
        v = 0
        if hi in kids and kids[hi].get("show") == "1":
            v |= 2
        if lo in kids and kids[lo].get("show") == "1":
            v |= 1
        kv[key] = str(v)
        return
    if "l2tp.avp.message_type" in kids:
        t = int(kids["l2tp.avp.message_type"].get("show"), 0)
        kv["msg"] = MSG_NAMES.get(t, "unknown")
        return
    for name, f in kids.items():
        if name in AVP_FIELDS:
            key, kind = AVP_FIELDS[name]
            kv[key] = field_value(f, kind)


def norm_packet(pkt, hidden_map):
    protos = {p.get("name"): p for p in pkt.findall("proto")}
    l2tp = protos.get("l2tp")
    if l2tp is None:
        return None
    frame = int(protos["geninfo"].find("field[@name='num']").get("show"))
    kv = {"frame": str(frame)}
    ip = protos.get("ip", protos.get("ipv6"))
    udp = protos.get("udp")
    if ip is None or udp is None:
        return None

    def fget(proto, name):
        for f in proto.iter("field"):
            if f.get("name") == name:
                return f.get("show")
        return None
    v6 = ip.get("name") == "ipv6"
    src = fget(ip, "ipv6.src" if v6 else "ip.src")
    dst = fget(ip, "ipv6.dst" if v6 else "ip.dst")
    if v6:
        src, dst = "[%s]" % src, "[%s]" % dst
    kv["src"] = "%s:%s" % (src, fget(udp, "udp.srcport"))
    kv["dst"] = "%s:%s" % (dst, fget(udp, "udp.dstport"))

    avps, hidden_types, vendors, mandatory = set(), set(), [], set()
    for c in l2tp:
        name = c.get("name")
        if name == "l2tp.flags":
            for b in c:
                if b.get("name") in HEADER:
                    kv[HEADER[b.get("name")]] = str(int(b.get("show"), 0))
        elif name in HEADER:
            kv[HEADER[name]] = str(int(c.get("show"), 0))
        elif name == "l2tp.zero_length_body_message":
            kv["msg"] = "ZLB"
        elif name == "" and c.find("field[@name='l2tp.avp.length']") \
                is not None:
            avp_subtree(kv, c, hidden_types, avps, vendors, mandatory)
    if kv.get("t") == "0":
        # The PPP frame starts where tshark hands over to PPP.
        udp_end = int(udp.get("pos")) + int(fget(udp, "udp.length"))
        ppp = protos.get("ppp")
        start = int(ppp.get("pos")) if ppp is not None else \
            int(l2tp.get("pos")) + int(l2tp.get("size"))
        kv["payload_len"] = str(udp_end - start)
    elif kv.get("msg") != "ZLB":
        kv["avps"] = types_value(avps)
        if frame in hidden_map:
            # Unhidden copy: restore what the original packet carried.
            hidden_types |= set(
                int(t) for t in hidden_map[frame]["hidden"].split(","))
            kv["len"] = hidden_map[frame]["len"]
        if hidden_types:
            kv["hidden"] = types_value(hidden_types)
        # IETF AVPs with the M bit (tandem-l2tpdump cannot show these)
        kv["mandatory"] = types_value(mandatory)
        if vendors:
            kv["vendor"] = ",".join(vendors)
    return kv


def load_pdml(path):
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        fail("%s: %s" % (path, e))


def cmd_norm(args):
    hidden_map = {}
    if len(args) == 3 and args[1] == "--hidden":
        hidden_map = read_kv(args[2])
    elif len(args) != 1:
        fail("usage: norm PDML [--hidden FILE]")
    bad = 0
    for pkt in load_pdml(args[0]).findall("packet"):
        kv = norm_packet(pkt, hidden_map)
        probs = packet_problems(pkt)
        if probs:
            num = pkt.find("proto[@name='geninfo']/field[@name='num']")
            sys.stderr.write("tshark frame %s: %s\n" %
                             (num.get("show"), "; ".join(probs)))
            bad += 1
        if kv is not None:
            print(" ".join("%s=%s" % i for i in kv.items()))
    sys.exit(1 if bad else 0)


# --- RFC 2661 section 4.3, independent of lib/l2tp_hidden.c ---

def unhide_value(atype, secret, rv, hidden):
    out = bytearray()
    prev = None
    for i in range(0, len(hidden), 16):
        if prev is None:
            b = hashlib.md5(struct.pack("!H", atype) + secret + rv).digest()
        else:
            b = hashlib.md5(secret + prev).digest()
        c = hidden[i:i + 16]
        out += bytes(x ^ y for x, y in zip(c, b))
        prev = c
    if len(out) < 2:
        raise ValueError("hidden value shorter than 2 bytes")
    n = struct.unpack("!H", out[:2])[0]
    if n > len(out) - 2:
        raise ValueError("original length %d exceeds hidden value" % n)
    return bytes(out[2:2 + n])


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        fail("%s: not a classic pcap file" % path)
    hdr, off, recs = data[:24], 24, []
    while off + 16 <= len(data):
        ts1, ts2, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append([ts1, ts2, bytearray(data[off + 16:off + 16 + incl])])
        off += 16 + incl
    return e, hdr, recs


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def rewrite_frame(frame, pkt, secret):
    """Replace the hidden AVPs of one frame by their clear values; returns
    (new frame, set of unhidden AVP types)."""
    protos = {p.get("name"): p for p in pkt.findall("proto")}
    l2tp, udp = protos.get("l2tp"), protos.get("udp")
    ip = protos.get("ip", protos.get("ipv6"))
    if l2tp is None or udp is None or ip is None:
        return frame, set()
    start = int(l2tp.get("pos"))
    avps = [c for c in l2tp if c.get("name") == "" and
            c.find("field[@name='l2tp.avp.length']") is not None]
    if not avps:
        return frame, set()
    first = int(avps[0].get("pos"))
    body, rv, types = bytearray(), b"", set()
    end = first
    for a in avps:
        pos, size = int(a.get("pos")), int(a.get("size"))
        raw = bytes(frame[pos:pos + size])
        end = pos + size
        flags, vendor, atype = struct.unpack("!HHH", raw[:6])
        if vendor == 0 and atype == 36 and not flags & 0x4000:
            rv = raw[6:]
        if flags & 0x4000:
            value = unhide_value(atype, secret, rv, raw[6:])
            flags = (flags & ~0x43ff) | (6 + len(value))
            raw = struct.pack("!HHH", flags, vendor, atype) + value
            types.add(atype)
        body += raw
    upos, ipos = int(udp.get("pos")), int(ip.get("pos"))
    udp_end = upos + struct.unpack("!H", frame[upos + 4:upos + 6])[0]
    l2 = bytearray(frame[start:first]) + body + frame[end:udp_end]
    if l2[0] & 0x40:  # L bit: fix Length
        struct.pack_into("!H", l2, 2, len(l2))
    u = bytearray(frame[upos:upos + 8]) + l2
    struct.pack_into("!HH", u, 4, len(u), 0)
    if ip.get("name") == "ip":
        iph = bytearray(frame[ipos:upos])
        struct.pack_into("!H", iph, 2, len(iph) + len(u))
        struct.pack_into("!H", iph, 10, 0)
        struct.pack_into("!H", iph, 10, csum(bytes(iph)))
        pseudo = bytes(iph[12:20]) + struct.pack("!BBH", 0, 17, len(u))
    else:
        iph = bytearray(frame[ipos:upos])
        struct.pack_into("!H", iph, 4, len(iph) - 40 + len(u))
        pseudo = bytes(iph[8:40]) + struct.pack("!IxxxB", len(u), 17)
    c = csum(pseudo + bytes(u))
    struct.pack_into("!H", u, 6, c or 0xffff)
    return bytearray(frame[:ipos]) + iph + u, types


def cmd_unhide(args):
    if len(args) != 5:
        fail("usage: unhide PCAP PDML SECRET OUT.pcap HIDDEN.txt")
    e, hdr, recs = read_pcap(args[0])
    pkts = load_pdml(args[1]).findall("packet")
    if len(pkts) != len(recs):
        fail("%s has %d frames, %s %d" % (args[0], len(recs), args[1],
                                          len(pkts)))
    secret = args[2].encode()
    with open(args[3], "wb") as out, open(args[4], "w") as hid:
        out.write(hdr)
        for i, (rec, pkt) in enumerate(zip(recs, pkts)):
            try:
                frame, types = rewrite_frame(rec[2], pkt, secret)
            except ValueError as ex:
                fail("frame %d: %s" % (i + 1, ex))
            if types:
                # The Length tshark saw before the rewrite changed it.
                ln = pkt.find(".//proto[@name='l2tp']/field"
                              "[@name='l2tp.length']")
                hid.write("frame=%d hidden=%s len=%s\n" %
                          (i + 1, types_value(types), ln.get("show")))
            out.write(struct.pack(e + "IIII", rec[0], rec[1], len(frame),
                                  len(frame)) + frame)


TOKEN = re.compile(r'([A-Za-z0-9_.]+)=("(?:[^"\\]|\\.)*"|\S*)')


def read_kv(path):
    frames = {}
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                kv = dict(TOKEN.findall(line))
                if "frame" not in kv:
                    fail("%s:%d: no frame= key" % (path, n))
                frames[int(kv["frame"])] = kv
    except OSError as e:
        fail(str(e))
    return frames


def cmd_compare(argv):
    ap = argparse.ArgumentParser(prog="l2tp_tshark.py compare")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--keys", help="compare only these keys")
    ap.add_argument("--ignore", help="do not compare these keys")
    ap.add_argument("--frames", help="compare only these frames")
    o = ap.parse_args(argv)
    keys = set(o.keys.split(",")) if o.keys else None
    ignore = set(o.ignore.split(",")) if o.ignore else set()
    frames = set(int(x) for x in o.frames.split(",") if x) \
        if o.frames is not None else None
    args = [o.a, o.b]
    a, b = read_kv(args[0]), read_kv(args[1])
    if frames is not None:
        a = {k: v for k, v in a.items() if k in frames}
        b = {k: v for k, v in b.items() if k in frames}
    diffs = []
    for fr in sorted(set(a) | set(b)):
        if fr not in a or fr not in b:
            diffs.append("frame %d: only in %s" %
                         (fr, args[0] if fr in a else args[1]))
            continue
        for k in sorted(set(a[fr]) | set(b[fr])):
            if (keys is not None and k not in keys) or k in ignore:
                continue
            va, vb = a[fr].get(k), b[fr].get(k)
            if va != vb:
                diffs.append("frame %d %s %s: %s has %s, %s has %s" %
                             (fr, a[fr].get("msg", b[fr].get("msg", "")), k,
                              args[0], va if va is not None else "nothing",
                              args[1], vb if vb is not None else "nothing"))
    for d in diffs:
        print("MISMATCH " + d)
    if not a and not b:
        print("MISMATCH no frames to compare")
        sys.exit(1)
    sys.exit(1 if diffs else 0)


def main():
    if len(sys.argv) < 2:
        fail(__doc__)
    cmd = {"norm": cmd_norm, "unhide": cmd_unhide,
           "compare": cmd_compare}.get(sys.argv[1])
    if cmd is None:
        fail(__doc__)
    cmd(sys.argv[2:])


if __name__ == "__main__":
    main()
