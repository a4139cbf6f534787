#!/bin/bash
# Runs every tests/integration/test_*.sh (real processes: redis-server,
# tandem-worker, tandem-frontend, xl2tpd, tshark), each bounded in time.
dir=$(cd "$(dirname "$0")" && pwd)
exec "$dir/../lib/run-suites.sh" integration "${IT_TIMEOUT:-180}" "$dir"
