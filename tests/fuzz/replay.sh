#!/bin/sh
# Replays every saved fuzz input (tests/fuzz/corpus/NAME and
# tests/fuzz/regress/NAME) through DIR/replay_NAME, the target built without
# libFuzzer. Fails when an input crashes or a target has no seed corpus.
# usage: tests/fuzz/replay.sh DIR NAME...
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 DIR NAME..." >&2
	exit 2
fi
dir=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
# Per-input limit, so a hang fails the run instead of stalling CI.
limit=${FUZZ_REPLAY_TIMEOUT:-20}
if command -v timeout >/dev/null 2>&1; then
	run_limited() { timeout "$limit" "$@"; }
else
	run_limited() { "$@"; }
fi

passed=0
failed=0
log=$(mktemp "${TMPDIR:-/tmp}/fuzz-replay.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM

for name in "$@"; do
	bin=$dir/replay_$name
	corpus=$here/corpus/$name
	regress=$here/regress/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: $bin not built" >&2
		failed=$((failed + 1))
		continue
	fi
	# A target without seeds would pass while testing nothing.
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
		echo "FAIL $name: seed corpus $corpus missing or empty" >&2
		failed=$((failed + 1))
		continue
	fi
	n_ok=0
	n_bad=0
	for f in "$corpus"/* "$regress"/*; do
		[ -f "$f" ] || continue
		if run_limited "$bin" "$f" >"$log" 2>&1; then
			n_ok=$((n_ok + 1))
		else
			rc=$?
			n_bad=$((n_bad + 1))
			echo "FAIL $name: ${f#"$here"/} (exit $rc)" >&2
			sed 's/^/    /' "$log" | tail -n 40 >&2
		fi
	done
	echo "fuzz-replay: $name: $n_ok passed, $n_bad failed"
	passed=$((passed + n_ok))
	failed=$((failed + n_bad))
done

echo "fuzz-replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
