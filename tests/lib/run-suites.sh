#!/bin/bash
# run-suites.sh LABEL SECONDS DIR: runs every DIR/test_*.sh in turn, each
# bounded by SECONDS (then SIGTERM, SIGKILL 20 s later), and sums up as
# "LABEL: N passed, M failed". Exit 0 only when every suite passed.
set -u
label=$1 limit=$2 dir=$3
pass=0 fail=0 failed=()
for t in "$dir"/test_*.sh; do
	name=$(basename "$t" .sh)
	if timeout -k 20 "$limit" "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$name")
	fi
done
[ "$fail" -eq 0 ] || echo "failed suites: ${failed[*]}"
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
