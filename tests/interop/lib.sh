# shellcheck shell=bash
# Helpers sourced by tests/interop/test_*.sh: a temp dir removed on exit,
# pass/fail bookkeeping, negative controls and a strict tshark wrapper.
set -euo pipefail
: "${BIN:?BIN must be the absolute path of bin/}"
: "${TTOOLS:?TTOOLS must be the absolute path of build/tests/tools}"

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The python3 on PATH is another interpreter; the system one has what we use.
PY=/usr/bin/python3
L2T=("$PY" "$INTEROP_DIR/l2tp_tshark.py")
DUMP=$BIN/tandem-l2tpdump
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-interop.XXXXXX")
# No user or system Wireshark preferences: the same dissection everywhere.
export WIRESHARK_CONFIG_DIR=$WORK/wireshark-config
mkdir -p "$WIRESHARK_CONFIG_DIR"
FAILS=0
CHECKS=0

interop_cleanup() {
	rm -rf "$WORK"
}
trap interop_cleanup EXIT
# A signal (run.sh's timeout, ^C) exits through the EXIT trap too.
trap 'exit 143' TERM
trap 'exit 130' INT

for tool in tshark "$DUMP"; do
	command -v "$tool" >/dev/null || {
		echo "FAIL missing $tool"
		exit 1
	}
done

# check DESCRIPTION COMMAND...: the command must succeed; its output is shown
# only when it fails.
check() {
	local desc=$1 out
	shift
	CHECKS=$((CHECKS + 1))
	if out=$("$@" 2>&1); then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		printf '%s\n' "$out" | head -n 40 | sed 's/^/     /'
		FAILS=$((FAILS + 1))
	fi
}

# expect_fail DESCRIPTION COMMAND...: negative control, proving a check can
# fail: the command must exit non-zero.
expect_fail() {
	local desc=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@" >/dev/null 2>&1; then
		echo "FAIL negative control: $desc (the check did not notice)"
		FAILS=$((FAILS + 1))
	else
		echo "ok   negative control: $desc"
	fi
}

# tshark_pdml IN.pcap OUT.pdml [tshark options]: dissect with checksum
# validation on; fails when tshark fails or prints anything but its warning
# about running as root.
tshark_pdml() {
	local in=$1 out=$2
	shift 2
	if ! timeout 30 tshark -n -r "$in" -o udp.check_checksum:TRUE \
		-o ip.check_checksum:TRUE "$@" -T pdml >"$out" 2>"$out.err"; then
		cat "$out.err"
		return 1
	fi
	if grep -v 'Running as user "root"' "$out.err" | grep -q .; then
		cat "$out.err"
		return 1
	fi
}

# compare A B [options]: key=value files agree (see l2tp_tshark.py).
compare() {
	"${L2T[@]}" compare "$@"
}

finish() {
	echo "$((CHECKS - FAILS)) of $CHECKS checks passed"
	[ "$FAILS" -eq 0 ]
}
