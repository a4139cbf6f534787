#!/bin/bash
# `make run`: a local tandem cluster on loopback. Starts a private redis-server
# on a free 127.0.0.1 port (the state store), two workers sharing the shards
# (kill one: the other takes its tunnels over) and one frontend
# listening on 127.0.0.1:1701 (TANDEM_LISTEN_PORT to change), then waits;
# Ctrl-C (or SIGTERM) stops everything.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
run=$(mktemp -d /tmp/tandem-run.XXXXXX)
pids=()
stop() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$run"
	echo "tandem: stopped"
}
trap stop INT TERM EXIT

port=${TANDEM_REDIS_PORT:-}
if [ -z "$port" ]; then
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
	--dir "$run" --logfile "$run/redis.log" --daemonize no &
pids+=($!)
for _ in $(seq 50); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "tandem: redis-server did not start" >&2; cat "$run/redis.log" >&2; exit 1; }
echo "tandem: state store  redis-server 127.0.0.1:$port (logs in $run)"

conf="$run/tandem.conf"
sed -e "s/^redis .*/redis 127.0.0.1:$port/" \
    -e "s/^listen .*/listen 127.0.0.1:${TANDEM_LISTEN_PORT:-1701}/" \
    "$top/deploy/tandem.conf.example" > "$conf"
for b in tandem-worker tandem-frontend; do
	if [ ! -x "$top/bin/$b" ]; then
		echo "tandem: bin/$b is missing (run make)" >&2
		exit 1
	fi
done
for w in local-w1 local-w2; do
	"$top/bin/tandem-worker" -c "$conf" --id "$w" > "$run/$w.log" 2>&1 &
	pids+=($!)
	echo "tandem: worker      $w (pid $!, log $run/$w.log)"
done
"$top/bin/tandem-frontend" -c "$conf" --id local-f1 > "$run/frontend.log" 2>&1 &
pids+=($!)
echo "tandem: frontend    local-f1 (pid $!, log $run/frontend.log)"
echo "tandem: LNS listening on 127.0.0.1:${TANDEM_LISTEN_PORT:-1701} (config $conf)"
echo "tandem: try it:  bin/tandem-lac --lns 127.0.0.1:${TANDEM_LISTEN_PORT:-1701} --tunnels 10 --sessions 10"
[ -x "$top/bin/clusterctl" ] && echo "tandem: look at it: bin/clusterctl -c $conf status"
echo "tandem: running; Ctrl-C stops"
wait "${pids[0]}" # the state store; workers may be killed to watch a takeover
