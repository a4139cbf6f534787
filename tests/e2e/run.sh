#!/bin/bash
# `make test-e2e`: runs each tests/e2e/test_*.sh (or each TEST named:
# tests/e2e/run.sh [TEST...]) inside User-Mode Linux
# (tests/e2e/uml.sh), where kernel PPP and L2TP exist, each bounded by
# UML_TIMEOUT (default 240 s; a test with a line "# e2e-timeout: SECONDS"
# gets that much when it is more). Logs stay in a printed directory on
# failure (or always with KEEP_WORK=1).
#
# A test with a line "# e2e-host-hog: ARGS" runs beside `stress-ng ARGS` on
# the host (tests/lib/hog.sh), started before its guest boots and stopped
# when the guest is gone: the guest's one CPU is a host thread, so a busy
# host slows it as it would slow the LNS's VM on a busy hypervisor. The
# guest sees ARGS in E2E_HOST_HOG. The test fails if the hog did not last.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export BIN=${BIN:-$top/bin}
command -v linux.uml > /dev/null || command -v linux > /dev/null || {
	echo "e2e: linux.uml not found: apt-get install user-mode-linux kmod (make deps)" >&2
	exit 2
}
. "$top/tests/lib/hog.sh"
trap hog_stop EXIT
pass=0 fail=0 failed=()
cd "$top" || exit 2
tests=("$@")
[ $# -gt 0 ] || tests=(tests/e2e/test_*.sh)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	work=$(mktemp -d /tmp/tandem-e2e.XXXXXX)
	echo "e2e: $name (logs in $work)"
	tmo=${UML_TIMEOUT:-240}
	own=$(sed -n 's/^# e2e-timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	[ -n "$own" ] && [ "$own" -gt "$tmo" ] && tmo=$own
	hog=$(sed -n 's/^# e2e-host-hog: //p' "$t" | head -n 1)
	rc=0
	[ -z "$hog" ] || HOG_TIMEOUT=$((tmo + 30)) hog_start $hog || rc=1
	if [ "$rc" = 0 ]; then
		E2E_WORK=$work UML_RW=$work UML_TIMEOUT=$tmo E2E_HOST_HOG=$hog \
			tests/e2e/uml.sh "$t" || rc=$?
	fi
	if [ -n "$hog" ] && ! kill -0 "${HOG_PID:-0}" 2>/dev/null; then
		echo "e2e: $name: the host's CPU hog did not last the whole test" >&2
		rc=1
	fi
	hog_stop
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$work"
	else
		fail=$((fail + 1))
		failed+=("$name")
		echo "e2e: $name failed; logs kept in $work" >&2
	fi
done
[ "$fail" -eq 0 ] || echo "failed: ${failed[*]}"
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
