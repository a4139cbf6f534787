#!/bin/sh
# Runs each libFuzzer target for a bounded time on a scratch copy of its seed
# corpus (tests/fuzz/corpus/NAME stays as committed unless FUZZ_MERGE=1). Any
# crash, leak, timeout or OOM input is copied to tests/fuzz/regress/NAME/ to
# be kept as a regression case, and the run fails naming it.
# usage: tests/fuzz/run.sh FUZZDIR SECONDS NAME...
# Per-target libFuzzer flags live in tests/fuzz/NAME.options, one per line.
# env:   FUZZ_MERGE=1    merge inputs with new coverage into the seed corpus
#        FUZZ_ARGS=...   extra libFuzzer flags (e.g. -max_len=8192)
#        FUZZ_KEEP=1     keep the scratch directory (printed) for inspection
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZDIR SECONDS NAME..." >&2
	exit 2
fi
fuzzdir=$(cd "$1" && pwd) || exit 2
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

# Sanitizer reports must stop the run and carry a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

work=$(mktemp -d "${TMPDIR:-/tmp}/tandem-fuzz.XXXXXX") || exit 1
if [ "${FUZZ_KEEP:-0}" = 1 ]; then
	echo "fuzz: scratch kept in $work"
else
	trap 'rm -rf "$work"' EXIT INT TERM
fi

failed=""
for name in "$@"; do
	bin=$fuzzdir/$name
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: $bin not built" >&2
		failed="$failed $name"
		continue
	fi
	seeds=$here/corpus/$name
	corpus=$work/$name/corpus
	artifacts=$work/$name/artifacts
	mkdir -p "$corpus" "$artifacts"
	if [ -d "$seeds" ]; then
		cp -p "$seeds"/* "$corpus"/ 2>/dev/null
	fi
	# Regression inputs seed the run too: fixed bugs stay fixed nearby.
	if [ -d "$here/regress/$name" ]; then
		cp -p "$here/regress/$name"/* "$corpus"/ 2>/dev/null
	fi

	# Per-target flags, one per line (e.g. -max_len=1100): NAME.options.
	opts=""
	if [ -f "$here/$name.options" ]; then
		opts=$(grep -v '^#' "$here/$name.options" | tr '\n' ' ')
	fi

	echo "fuzz: $name for ${seconds}s"
	# One process (no -jobs/-workers): the machine is shared. Per-input
	# timeout and memory limits turn hangs and blow-ups into artifacts.
	# shellcheck disable=SC2086 # opts and FUZZ_ARGS are lists of flags
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-malloc_limit_mb=512 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" $opts ${FUZZ_ARGS:-} "$corpus" \
		>"$work/$name/log" 2>&1
	rc=$?
	stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb):' \
		"$work/$name/log" | sed 's/^stat:://; s/: */=/' | tr '\n' ' ')
	cov=$(grep -E '^#[0-9]+' "$work/$name/log" | tail -n 1 |
		sed -n 's/.*\(cov: [0-9]*\).*\(corp: [^ ]*\).*/\1 \2/p')
	echo "fuzz: $name: exit $rc $stats$cov"

	found=""
	for a in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* \
		"$artifacts"/oom-*; do
		[ -f "$a" ] || continue
		mkdir -p "$here/regress/$name"
		# A saved regression input that still fails is not news:
		# name it rather than keep a second copy.
		same=""
		for old in "$here/regress/$name"/*; do
			if [ -f "$old" ] && cmp -s "$a" "$old"; then
				same=$old
				break
			fi
		done
		if [ -n "$same" ]; then
			found="$found tests/fuzz/${same#"$here"/} (still failing)"
			continue
		fi
		cp "$a" "$here/regress/$name/"
		found="$found tests/fuzz/regress/$name/$(basename "$a")"
	done
	if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
		echo "fuzz: $name FAILED (exit $rc); kept:${found:- nothing}" >&2
		grep -E -A 30 '^(==[0-9]+==ERROR|.*runtime error|.*check failed)' \
			"$work/$name/log" | head -n 60 >&2
		failed="$failed $name"
	fi

	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -x "$bin" ]; then
		mkdir -p "$seeds"
		before=$(find "$seeds" -type f | wc -l)
		"$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$seeds" \
			"$corpus" >"$work/$name/merge.log" 2>&1
		after=$(find "$seeds" -type f | wc -l)
		echo "fuzz: $name: merged $((after - before)) inputs into" \
			"tests/fuzz/corpus/$name ($after files)"
		if [ "$after" -gt 40 ]; then
			echo "fuzz: $name: warning: seed corpus over 40 files;" \
				"prune before committing" >&2
		fi
	fi
done

if [ -n "$failed" ]; then
	echo "fuzz: failing targets:$failed" >&2
	exit 1
fi
echo "fuzz: all targets ran ${seconds}s without findings"
