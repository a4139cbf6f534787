#!/bin/bash
# Runs every tests/pair/test_*.sh: the redundant LNS pair in network
# namespaces (tests/pair/topo.sh; needs root, keepalived, redis-server,
# xl2tpd). Each suite is bounded in time (its own watchdog fires first);
# namespaces are removed after each.
dir=$(cd "$(dirname "$0")" && pwd)
exec "$dir/../lib/run-suites.sh" pair "${PAIR_TIMEOUT:-360}" "$dir"
