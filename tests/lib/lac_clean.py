"""lac_clean.py REPORT.json TUNNELS [MIN_SESSIONS]: exit 0 when tandem-lac's
JSON report shows every tunnel up, none failed, torn down by the LNS or given
up, and no call failed, cleared by the LNS or lost with its tunnel (what the
LAC's own verdict, lac_report_ok in lac/lac_report.c, checks without
--allow-cdn), and at least MIN_SESSIONS calls established. Prints the main
counts and, on a failure, every count that failed it."""
import json
import sys

try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("    no report: %s" % e)
    sys.exit(1)
tunnels = int(sys.argv[2])
least = int(sys.argv[3]) if len(sys.argv) > 3 else 0
print("    tunnels_established %d, sessions_established %d, sessions_failed %d, "
      "up_at_end %s, retransmitted %d" % (
          r["tunnels_established"], r["sessions_established"],
          r["sessions_failed"], r.get("sessions_up_at_end", "?"),
          r["messages"]["retransmitted"]))
bad = []
if r["tunnels_established"] != tunnels:
    bad.append("tunnels_established %d, not %d" % (r["tunnels_established"], tunnels))
for k in ("tunnels_failed", "tunnels_torn_down_by_lns", "tunnels_lost",
          "sessions_failed", "sessions_cleared_by_lns",
          "sessions_lost_with_tunnel"):
    if r.get(k, 0):
        bad.append("%s %d" % (k, r[k]))
for k in ("tunnel_failures", "tunnels_torn_down_by_result",
          "tunnels_lost_by_reason", "session_failures",
          "session_failures_cdn", "sessions_cleared_by_result"):
    v = r.get(k)
    if isinstance(v, dict) and any(v.values()):
        bad.append("%s %s" % (k, {a: b for a, b in v.items() if b}))
if r["sessions_established"] < least:
    bad.append("sessions_established %d, fewer than %d" % (r["sessions_established"], least))
if bad:
    print("    report: " + "; ".join(bad))
sys.exit(1 if bad else 0)
