#!/bin/bash
# Takeover under load: tandem-lac holds 200 tunnels x 20 calls (and keeps
# clearing and placing calls on them) through 2 frontends and 2 workers
# sharing the shards (policy spread). Five times in a row the worker owning
# the most shards is killed with SIGKILL; the other, on the same host, sees
# the exit at once (workers/worker_peerwatch.c) and takes its shards over
# without waiting for the leases to expire (test_takeover_hog.sh has the
# workers on hosts apart, where the leases tell), and the dead one is
# restarted (it gets half the shards
# back by hand-off). The LAC must see no tunnel or call torn down, no peer
# give-up and no failed call setup, and no shard may flap. The rounds are
# tests/integration/lib_takeover.sh, shared with test_takeover_hog.sh (the
# same beside a CPU hog).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_takeover.sh"
echo "takeover: kill -9 the busiest worker, 5 times, under load"
takeover_scenario takeover
finish takeover
