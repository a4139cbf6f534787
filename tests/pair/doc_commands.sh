#!/bin/bash
# doc_commands.sh DOC TESTDIR: every command an operator is told to type in
# DOC (each line of its ```sh blocks that is not blank or a # comment) must
# be run, character for character, by a test in TESTDIR: it must appear
# there single-quoted, as the command line of `on HOST '...'`
# (tests/pair/topo.sh), which runs it on that host as the operator's shell
# would. Prints each command with the test that runs it, or the ones no
# test runs; exit 1 if any. A DOC without commands fails too.
set -u
doc=${1:?usage: doc_commands.sh DOC TESTDIR} dir=${2:?usage: doc_commands.sh DOC TESTDIR}
[ -f "$doc" ] || { echo "doc-commands: no $doc" >&2; exit 1; }
n=0 missing=0 inblock=0 lineno=0
while IFS= read -r line; do
	lineno=$((lineno + 1))
	case $line in
	'```sh') inblock=1; continue ;;
	'```'*) inblock=0; continue ;;
	esac
	[ $inblock = 1 ] || continue
	cmd=${line#"${line%%[![:space:]]*}"} # without leading blanks
	case $cmd in '' | \#*) continue ;; esac
	case $cmd in *\\) echo "doc-commands: $doc:$lineno: one command a line, no continuation: $cmd"; missing=$((missing + 1)); continue ;; esac
	case $cmd in *"'"*) echo "doc-commands: $doc:$lineno: no single quotes in a command (tests quote it with them): $cmd"; missing=$((missing + 1)); continue ;; esac
	n=$((n + 1))
	where=$(grep -lF -- "'$cmd'" "$dir"/*.sh 2>/dev/null | head -1)
	if [ -n "$where" ]; then
		echo "  ok: $cmd  ($(basename "$where"))"
	else
		echo "doc-commands: $doc:$lineno: no test in $dir runs: $cmd"
		missing=$((missing + 1))
	fi
done <"$doc"
[ $inblock = 0 ] || { echo "doc-commands: $doc: a \`\`\` block is not closed"; missing=$((missing + 1)); }
[ $n -gt 0 ] || { echo "doc-commands: $doc: no commands found (\`\`\`sh blocks)"; exit 1; }
echo "doc-commands: $n commands in $doc, $missing not run by a test"
[ $missing -eq 0 ]
