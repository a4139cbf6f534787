#!/bin/bash
# Runs every tests/interop/test_*.sh (third-party cross-checks: tshark, real
# xl2tpd) with BIN and TTOOLS exported, prints PASS/FAIL per test (and the
# output of failed ones) and a summary line; exits non-zero on any failure.
# INTEROP_VERBOSE=1 shows the output of passing tests too.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BIN:?BIN must be the absolute path of bin/}"
: "${TTOOLS:?TTOOLS must be the absolute path of build/tests/tools}"
export BIN TTOOLS

pass=0 fail=0
for t in "$here"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp "${TMPDIR:-/tmp}/tandem-interop-log.XXXXXX")
	start=$SECONDS
	# Each test bounds itself; this outer limit only catches a hung one.
	timeout -k 5 120 "$t" >"$log" 2>&1
	rc=$?
	secs=$((SECONDS - start))
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS $name (${secs}s)"
		[ "${INTEROP_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$log"
	else
		fail=$((fail + 1))
		[ "$rc" -eq 124 ] && echo "    (killed after 120 s)" >>"$log"
		echo "FAIL $name (exit $rc, ${secs}s)"
		sed 's/^/    /' "$log"
	fi
	rm -f "$log"
done
echo "interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
