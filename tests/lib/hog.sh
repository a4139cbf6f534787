# tests/lib/hog.sh (sourced): a CPU hog beside a test, and the check of what
# a hog must not cause: shards flapping between workers. Used by
# tests/integration/lib_takeover.sh and test_takeover_hog.sh, tests/e2e/run.sh
# (a hog on the host, around a UML guest) and tests/e2e/lib.sh (flaps, log
# times, and a hog inside the guest when test_pppd_hog.sh is asked for one).
#
#   hog_start [ARG...]   stress-ng ARGs (default HOG_ARGS: --cpu 2 --cpu-load 60)
#                        in the background, HOG_PID; it ends by itself after
#                        HOG_TIMEOUT s (default 300) should nobody stop it
#   hog_stop             SIGTERM (stress-ng stops its stressors), bounded wait
#   log_ts [EPOCH]       EPOCH (unix seconds; default now) in the workers'
#                        log format (ts=... UTC, ms). Take a kill's time as
#                        ${EPOCHREALTIME/,/.} right before it: no fork (a
#                        fork in a slow UML guest can take half a second)
#   flap_counts WINDOWS LOG...  counts the flap lines of each worker log
#                        inside and outside the kill windows (WINDOWS: a file
#                        of "START END ..." lines in log_ts format); prints a
#                        table, FLAPS_IN and FLAPS_OUT are the totals
#   flaps_check WINDOWS LOG...  flap_counts and the checks (the caller's
#                        `check`) that no shard flapped
HOG_ARGS=${HOG_ARGS:---cpu 2 --cpu-load 60}

hog_start() {
	command -v stress-ng > /dev/null || {
		echo "stress-ng not found: apt-get install stress-ng (make deps)" >&2
		return 1
	}
	[ $# -gt 0 ] || set -- $HOG_ARGS
	# --timeout is the backstop for a caller killed without its EXIT trap:
	# the stressors end by themselves.
	stress-ng "$@" --timeout "${HOG_TIMEOUT:-300}" --quiet &
	HOG_PID=$!
	echo "  CPU hog: stress-ng $* (pid $HOG_PID)"
}

hog_stop() {
	[ -n "${HOG_PID:-}" ] || return 0
	kill "$HOG_PID" 2> /dev/null
	for _ in $(seq 50); do kill -0 "$HOG_PID" 2> /dev/null || break; sleep 0.1; done
	kill -9 "$HOG_PID" 2> /dev/null
	wait "$HOG_PID" 2> /dev/null
	HOG_PID=
}

log_ts() { date -u -d "@${1:-${EPOCHREALTIME/,/.}}" +%Y-%m-%dT%H:%M:%S.%3NZ; }

# The lines a shard flap leaves in a worker's log (workers/worker_cluster.c,
# workers/worker.c): a lease that lapsed under a shard with tunnels, one
# taken back (also logged for a shard without tunnels, whose lapse is not),
# a shard's memory dropped because another worker owned it meanwhile.
FLAP_RE='msg="(shard lease lapsed|shard lease regained|shard dropped)'

flap_counts() {
	local windows=$1 log lap_i lap_o reg_i reg_o drp_i drp_o
	shift
	FLAPS_IN=0 FLAPS_OUT=0
	printf '    %-10s %-22s %-22s %-22s\n' log "lease lapsed in/out" "lease regained in/out" "shard dropped in/out"
	for log in "$@"; do
		read -r lap_i lap_o reg_i reg_o drp_i drp_o <<< "$(awk -v re="$FLAP_RE" -v wins="$(cat "$windows" 2> /dev/null)" '
			BEGIN { n = split(wins, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); s[i] = f[1]; e[i] = f[2] } }
			$0 ~ re {
				ts = $1; sub(/^ts=/, "", ts)
				k = ($0 ~ /lapsed/) ? 1 : ($0 ~ /regained/) ? 2 : 3
				w = 0
				for (i = 1; i <= n; i++) if ((ts "") >= (s[i] "") && (ts "") <= (e[i] "")) w = 1
				c[k, w]++
			}
			END { printf "%d %d %d %d %d %d\n", c[1,1], c[1,0], c[2,1], c[2,0], c[3,1], c[3,0] }
		' "$log")"
		printf '    %-10s %-22s %-22s %-22s\n' "$(basename "$log" .log)" "$lap_i/$lap_o" "$reg_i/$reg_o" "$drp_i/$drp_o"
		FLAPS_IN=$((FLAPS_IN + lap_i + reg_i + drp_i)) FLAPS_OUT=$((FLAPS_OUT + lap_o + reg_o + drp_o))
	done
}

# flap_lines LOG...: the first flap lines, for a failure's report
flap_lines() { grep -hE "$FLAP_RE" "$@" 2> /dev/null | head -n "${FLAP_LINES:-12}" | sed 's/^/      /'; }

# flaps_check WINDOWS LOG...: no shard flapped. The rule: in a takeover test
# a shard may change owner only by a live worker claiming a killed worker's
# expired lease ("shard acquired", "shard loaded") or by a hand-off ("shard
# handed off"); neither logs a lapse, a regain or a drop. Outside the kill
# windows nothing was killed, so no worker may log one. Inside a window the
# victim is dead and only the survivor logs, and the kill does not touch
# the survivor's own leases: a lapse there means it could not renew in time
# (a busy host), so none is allowed there either. The counts are split in
# and out of the windows to show where they happened.
flaps_check() {
	local windows=$1; shift
	echo "  flap lines in the workers' logs (in/out of the $(wc -l < "$windows") kill windows):"
	flap_counts "$windows" "$@"
	check "no shard flapped outside the kill windows ($FLAPS_OUT flap lines)" [ "$FLAPS_OUT" -eq 0 ]
	check "no survivor's lease lapsed inside a kill window ($FLAPS_IN flap lines)" [ "$FLAPS_IN" -eq 0 ]
	[ $((FLAPS_IN + FLAPS_OUT)) -eq 0 ] || flap_lines "$@"
}
