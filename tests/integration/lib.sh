# Shared helpers for integration tests (sourced). Everything runs on
# 127.0.0.0/8, in a private temp dir, and is killed by the EXIT trap.
# Each test sources this, then calls tandem_setup.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$TOP/bin}
PASS=0
FAIL=0
PIDS=()
WORK=$(mktemp -d /tmp/tandem-it.XXXXXX)

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	[ "${#PIDS[@]}" -gt 0 ] && wait "${PIDS[@]}" 2>/dev/null # only ours: not a tee a script may run
	if [ "${KEEP_WORK:-0}" = 1 ] || [ "$FAIL" -gt 0 ]; then
		echo "logs kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "  ok: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "  FAIL: $*"; }
check() { # check "description" command...
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; return 1; fi
}

# rand_lo: a random 127.x.y.z (x >= 16), so that two test runs at once never
# share a socket: frontends bind :1701 with SO_REUSEPORT and would otherwise
# split each other's datagrams.
rand_lo() { echo "127.$((RANDOM % 239 + 16)).$((RANDOM % 256)).$((RANDOM % 254 + 1))"; }

free_port() { # a free TCP or UDP port on 127.0.0.1
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# wait_for SECONDS command... : poll every 0.1 s, bounded
wait_for() {
	local n=$(($1 * 10)); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

start_redis() {
	REDIS_PORT=$(free_port tcp)
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--dir "$WORK" --logfile "$WORK/redis.log" &
	PIDS+=($!)
	REDIS_PID=$!
	wait_for 5 redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# start_redis_aof FSYNC [DIR]: redis-server with the append-only file on
# (appendfsync FSYNC) in DIR (default $WORK), as the benchmarks run it;
# sets REDIS_PORT and REDIS_PID
start_redis_aof() {
	local dir=${2:-$WORK}
	REDIS_PORT=$(free_port tcp)
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
		--appendonly yes --appendfsync "$1" --dir "$dir" \
		--logfile "$dir/redis.log" &
	REDIS_PID=$!
	PIDS+=($REDIS_PID)
	wait_for 5 redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1
}

# write_conf FILE LISTEN_ADDR:PORT [extra "key value" lines...]
write_conf() {
	local f=$1 listen=$2; shift 2
	sed -e "s/^redis .*/redis 127.0.0.1:$REDIS_PORT/" \
	    -e "s/^listen .*/listen $listen/" \
	    -e "s/^log_level .*/log_level ${LOG_LEVEL:-info}/" \
	    "${CONF_EXAMPLE:-$TOP/deploy/tandem.conf.example}" > "$f"
	for kv in "$@"; do
		local k=${kv%% *}
		sed -i "/^$k /d" "$f"
		echo "$kv" >> "$f"
	done
}

# own_host NAME CMD...: exec CMD on a "host" of its own, a UTS namespace
# whose hostname is NAME. Run it in the background (own_host ... &): the
# subshell, then unshare and sh exec, so $! is CMD's own PID.
own_host() { exec unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' "$@"; }

# start_worker ID CONF. With HOSTS_APART=1 the worker runs on a "host" of
# its own (a UTS namespace with hostname it-ID): its peers then do not watch
# its process (workers/worker_peerwatch.c) and learn of its death from its
# lease, as they would across machines.
start_worker() {
	if [ "${HOSTS_APART:-0}" = 1 ]; then
		own_host "it-$1" "$BIN/tandem-worker" -c "$2" --id "$1" >> "$WORK/worker-$1.log" 2>&1 &
	else
		"$BIN/tandem-worker" -c "$2" --id "$1" >> "$WORK/worker-$1.log" 2>&1 &
	fi
	PIDS+=($!)
	LAST_PID=$!
}

start_frontend() { # start_frontend ID CONF
	"$BIN/tandem-frontend" -c "$2" --id "$1" >> "$WORK/frontend-$1.log" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

# All shards owned and a frontend registered: the cluster routes.
cluster_ready() {
	local owned
	owned=$(rcli hvals tandem:shardmap 2>/dev/null | grep -c 'owner=[^-]')
	[ "$owned" -eq "${SHARDS:-256}" ] && [ "$(rcli hlen tandem:frontends)" -ge 1 ]
}

# owned_by ID: how many shard leases name worker ID right now
owned_by() {
	rcli eval "local n = 0
for i = 0, tonumber(ARGV[2]) - 1 do
  local v = redis.call('GET', 'tandem:lease:' .. i)
  if v and string.find(v, 'owner=' .. ARGV[1] .. ' ', 1, true) then n = n + 1 end
end
return n" 0 "$1" "${SHARDS:-256}"
}
all_owned_by() { [ "$(owned_by "$1")" -eq "${SHARDS:-256}" ]; }
# owner_report ID...: when a takeover check failed, what each worker owns and
# what its log says about leases and Redis (the per-shard lines left out),
# so that a CI log alone shows why
owner_report() {
	local id
	for id in "$@"; do
		echo "    $id owns $(owned_by "$id") shard leases; its log:"
		grep -v 'msg="shard \(loaded\|dropped\|claimed\)"\|output held' \
			"$WORK/worker-$id.log" 2>/dev/null | tail -n 12 | sed 's/^/    | /'
	done
	echo "    redis: $(rcli info clients | grep -c connected_clients) $(rcli dbsize) keys; alive: $(rcli zrange tandem:alive 0 -1 withscores | tr '\n' ' ')"
}
exited() { ! kill -0 "$1" 2>/dev/null; }
# metric_value PORT NAME: the value of the unlabelled sample NAME in the
# /metrics of the process listening on 127.0.0.1:PORT; -1 when it is not
# there (or the scrape failed, within 5 s)
metric_value() {
	curl -sf -m 5 "http://127.0.0.1:$1/metrics" |
		awk -v n="$2" '$1 == n {v = $2 + 0; f = 1} END {print f ? v : -1}'
}
# stop_cluster WORKER PID...: SIGTERM to all of them; the worker, which
# drains first, gets 15 s before SIGKILL; then all are reaped
stop_cluster() {
	kill "$@" 2>/dev/null
	wait_for 15 exited "$1" || kill -9 "$1" 2>/dev/null
	wait "$@" 2>/dev/null
}

# ticks PID...: utime + stime + cutime + cstime (/proc/PID/stat fields 14-17,
# clock ticks) summed over the PIDs and their live children. Counted after
# the ")" that ends the command name, which may itself hold spaces.
ticks() {
	local p c n=0
	for p in "$@"; do
		for c in "$p" $(pgrep -P "$p"); do
			n=$((n + $(awk '{sub(/.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
		done
	done
	echo "$n"
}

# lac_clean JSON TUNNELS [MIN_SESSIONS]: tandem-lac's report shows every
# tunnel up, none torn down by the LNS or given up, no call failed, cleared
# by the LNS or lost with its tunnel (tests/lib/lac_clean.py).
lac_clean() { /usr/bin/python3 "$TOP/tests/lib/lac_clean.py" "$@"; }

finish() { # final summary line and exit status
	echo "$1: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
