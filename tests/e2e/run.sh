#!/bin/bash
# `make test-e2e`: runs each tests/e2e/test_*.sh inside User-Mode Linux
# (tests/e2e/uml.sh), where kernel PPP and L2TP exist, each bounded by
# UML_TIMEOUT (default 240 s). Logs stay in a printed directory on failure
# (or always with KEEP_WORK=1).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export BIN=${BIN:-$top/bin}
command -v linux.uml > /dev/null || command -v linux > /dev/null || {
	echo "e2e: linux.uml not found: apt-get install user-mode-linux kmod (make deps)" >&2
	exit 2
}
pass=0 fail=0 failed=()
cd "$top" || exit 2
for t in tests/e2e/test_*.sh; do
	name=$(basename "$t" .sh)
	work=$(mktemp -d /tmp/tandem-e2e.XXXXXX)
	echo "e2e: $name (logs in $work)"
	if E2E_WORK=$work UML_RW=$work UML_TIMEOUT=${UML_TIMEOUT:-240} \
		tests/e2e/uml.sh "$t"; then
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
