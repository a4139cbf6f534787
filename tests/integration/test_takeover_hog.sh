#!/bin/bash
# Takeover under load on a busy host: the scenario of test_takeover.sh
# (tests/integration/lib_takeover.sh: 200 tunnels x 20 calls with churn, 2
# frontends, 2 workers, kill -9 of the busiest worker in 5 rounds, restart,
# rebalancing by hand-off) with a CPU hog on both cores for the whole test,
# `stress-ng --cpu 2 --cpu-load 60` (tests/lib/hog.sh). A busy host must
# cost nothing: 0 tunnels and 0 sessions lost, every round's takeover done,
# and no shard flapped (no lease lapsed, regained or dropped in the
# workers' logs; the counts are printed). The hog is one of PIDS, so the
# EXIT trap stops it; its own --timeout ends it should the trap not run.
# The workers run on "hosts" of their own (HOSTS_APART, tests/integration/
# lib.sh), so every takeover waits for the dead worker's lease to expire:
# the path that a busy host strains (test_takeover.sh has the workers on
# one host, where the survivor sees the exit at once).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_takeover.sh"
echo "takeover-hog: kill -9 the busiest worker, 5 times, under load, beside a CPU hog"
# The bound of run-suites.sh is 180 s (+20 s before SIGKILL): outlast it.
HOG_TIMEOUT=240 hog_start || { bad "no CPU hog (stress-ng)"; finish takeover-hog; exit 1; }
PIDS+=("$HOG_PID")
sleep 1 # the stressors are running before the cluster starts
HOSTS_APART=1 takeover_scenario takeover-hog
check "the CPU hog ran for the whole test" kill -0 "$HOG_PID"
finish takeover-hog
