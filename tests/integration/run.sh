#!/bin/bash
# Runs every tests/integration/test_*.sh (real processes: redis-server,
# tandem-worker, tandem-frontend, xl2tpd, tshark), each bounded in time.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0 failed=()
for t in "$dir"/test_*.sh; do
	name=$(basename "$t" .sh)
	if timeout -k 5 "${IT_TIMEOUT:-180}" "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$name")
	fi
done
[ "$fail" -eq 0 ] || echo "failed suites: ${failed[*]}"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
