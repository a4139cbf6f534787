# tests/integration/lib_takeover.sh (sourced after lib.sh): the takeover
# scenario that test_takeover.sh runs on its own and test_takeover_hog.sh
# beside a CPU hog.
#
# takeover_scenario LABEL: tandem-lac holds 200 tunnels x 20 calls (and
# keeps clearing and placing calls on them) through 2 frontends and 2
# workers sharing the shards (policy spread). ROUNDS times (default 5) the
# worker owning the most shards is killed with SIGKILL; the other takes its
# shards over (at once, seeing the exit, when both run on one host; once the
# leases expire with HOSTS_APART=1), and the dead one is restarted (it gets
# half the shards back by hand-off). The LAC runs until 12 s after the last
# round, then is stopped (SIGTERM: it clears its calls and tunnels and
# reports). Checks: every round's takeover and rebalancing, the LAC saw no
# tunnel or call torn down, no peer give-up and no failed call setup, and no
# shard flapped (flap_counts, tests/lib/hog.sh) in the workers' logs.
# Each round's kill window, from just before the kill until the survivor
# owned every shard, is a line "START END victim survivor" of
# $WORK/kill-windows.
. "$TOP/tests/lib/hog.sh"

takeover_scenario() {
	local label=$1 round a b victim='' survivor t0 ms rc
	LNS=$(rand_lo)
	ROUNDS=${ROUNDS:-5}
	start_redis || { bad "redis-server did not start"; finish "$label"; exit 1; }
	write_conf "$WORK/t.conf" "$LNS:1701" "shard_policy spread"

	declare -gA WPID
	start_w() { start_worker "$1" "$WORK/t.conf"; WPID[$1]=$LAST_PID; }
	start_w w1
	start_w w2
	start_frontend f1 "$WORK/t.conf"
	start_frontend f2 "$WORK/t.conf"

	balanced() { [ "$(owned_by w1)" -eq 128 ] && [ "$(owned_by w2)" -eq 128 ]; }
	ready() { balanced && [ "$(rcli hlen tandem:frontends)" -eq 2 ]; }

	check "cluster ready: 2 frontends, shards spread 128/128" wait_for 15 ready

	# 200 x 20 calls, each cleared after 4 s and placed again (new calls on
	# the old tunnels all along), HELLO every second on idle tunnels.
	# --duration only bounds the run: a round takes about 5 s on an idle
	# machine and at most 17 s (the waits below); the LAC is stopped 12 s
	# after the last round.
	"$BIN/tandem-lac" --lns "$LNS:1701" --tunnels 200 --sessions 20 \
		--hold 4 --churn --hello 1 --duration $((30 + ROUNDS * 20)) --json \
		> "$WORK/lac.json" 2> "$WORK/lac.err" &
	LAC=$!
	PIDS+=($LAC)
	sleep 5 # every call up (setup takes well under a second)

	: > "$WORK/kill-windows"
	for round in $(seq "$ROUNDS"); do
		# the busiest worker; on a tie (balanced), not the one killed last
		a=$(owned_by w1); b=$(owned_by w2)
		if [ "$a" -gt "$b" ] || { [ "$a" -eq "$b" ] && [ "${victim:-w2}" = w2 ]; }; then
			victim=w1 survivor=w2
		else
			victim=w2 survivor=w1
		fi
		t0=${EPOCHREALTIME/,/.} # no fork between this and the kill
		kill -9 "${WPID[$victim]}"
		wait "${WPID[$victim]}" 2>/dev/null
		if wait_for 5 all_owned_by "$survivor"; then
			ms=$(awk -v a="${EPOCHREALTIME/,/.}" -v b="$t0" 'BEGIN {printf "%d", (a - b) * 1000}')
			ok "round $round: $survivor owns all 256 shards ${ms} ms after kill -9 of $victim"
		else
			bad "round $round: $survivor did not take $victim's shards over"
			# who holds what now, the liveness of both, Redis's clock
			owner_report "$survivor" "$victim"
			echo "    alive keys: $victim $(rcli pttl "tandem:worker:$victim:alive") ms," \
				"$survivor $(rcli pttl "tandem:worker:$survivor:alive") ms;" \
				"gen $(rcli get tandem:gen); redis time $(rcli time | head -1)"
		fi
		echo "$(log_ts "$t0") $(log_ts) $victim $survivor" >> "$WORK/kill-windows"
		sleep 1
		start_w "$victim" # back as a standby, then gets its share by hand-off
		check "round $round: $victim restarted and rebalanced by hand-off" \
			wait_for 10 balanced
		sleep 1
	done

	# Calls go on for 12 s more: a tunnel the last takeover broke would
	# have retransmitted its way to the LAC's verdict by then.
	sleep 12
	check "the LAC was still running after the last round (every round under load)" \
		kill -0 "$LAC"
	kill -TERM "$LAC" 2>/dev/null
	wait_for 30 exited "$LAC" || { bad "the LAC did not exit within 30 s of SIGTERM"; kill -9 "$LAC"; }
	wait "$LAC"
	rc=$?
	check "the LAC exits 0 (no tunnel or call torn down, none failed)" [ "$rc" -eq 0 ]
	if [ "$rc" -ne 0 ]; then
		echo "    LAC exit status $rc; the end of its stderr:"
		tail -n 15 "$WORK/lac.err" | sed 's/^/      /'
	fi
	check "report: 200 tunnels up, none torn down or lost, no call failed" lac_clean "$WORK/lac.json" 200 8000
	check "the survivors loaded the victims' shards" \
		grep -q 'msg="shard loaded"' "$WORK/worker-w1.log" "$WORK/worker-w2.log"
	flaps_check "$WORK/kill-windows" "$WORK/worker-w1.log" "$WORK/worker-w2.log"
	# how each death was noticed: on one host the survivor sees the exit
	# at once; on hosts apart the lease has to run out
	local seen
	seen=$(cat "$WORK/worker-w1.log" "$WORK/worker-w2.log" | grep -c 'msg="peer worker on this host exited')
	if [ "${HOSTS_APART:-0}" = 1 ]; then
		check "hosts apart: every death noticed by its lease expiry (pidfd exits seen: $seen)" [ "$seen" -eq 0 ]
	else
		check "one host: every kill -9 seen at once by the survivor ($seen of $ROUNDS)" [ "$seen" -eq "$ROUNDS" ]
	fi
}
