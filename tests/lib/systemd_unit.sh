# tests/lib/systemd_unit.sh: read a tandem systemd unit (deploy/systemd) and
# run its command lines the way systemd would, for tests on machines where
# systemd is not PID 1 (sourced by tests/integration/test_systemd_units.sh
# and tests/pair/bin/systemctl). Only what our units use is understood;
# anything else is refused, so a test cannot drift silently from a unit.
#
#   UNIT_ETC_ROOT  prefix for the /etc/tandem/ paths a unit names (default
#                  none: the real /etc/tandem)
#   UNIT_ROOT      prefix for the program of a command line (default none)
#   UNIT_ENV       (associative array) the environment load_env builds

# key FILE KEY: every value of KEY=, one a line
key() {
	sed -n "s/^$2=//p" "$1"
}

# expand UNIT-FILE INSTANCE LINE: LINE as systemd would run it, one word a
# line: %i %H %% specifiers; $VAR (whole word, split at spaces) and ${VAR}
# from UNIT_ENV. Anything else (quotes, other specifiers, unknown
# variables, prefixes) is refused.
declare -A UNIT_ENV
expand() {
	local inst=$2 line=$3 w out v name
	case $line in *\"* | *\'* | [-@:+!]*)
		echo "unsupported: $line" >&2
		return 1 ;;
	esac
	line=${line//%%/$'\x01'}
	line=${line//%i/$inst}
	line=${line//%H/$(uname -n)}
	case $line in *%*)
		echo "unsupported specifier: $line" >&2
		return 1 ;;
	esac
	line=${line//$'\x01'/%}
	for w in $line; do
		if [[ $w =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
			name=${BASH_REMATCH[1]}
			[ -n "${UNIT_ENV[$name]+x}" ] || { echo "unset \$$name" >&2; return 1; }
			for v in ${UNIT_ENV[$name]}; do echo "$v"; done
			continue
		fi
		out=$w
		while [[ $out =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
			name=${BASH_REMATCH[1]}
			[ -n "${UNIT_ENV[$name]+x}" ] || { echo "unset \${$name}" >&2; return 1; }
			out=${out//"\${$name}"/${UNIT_ENV[$name]}}
		done
		case $out in *\$*)
			echo "unsupported variable: $w" >&2
			return 1 ;;
		esac
		echo "$out"
	done
}

# load_env UNIT-FILE INSTANCE: UNIT_ENV from Environment= then
# EnvironmentFile= (which overrides it), the files read below UNIT_ETC_ROOT.
load_env() {
	local f l k v
	UNIT_ENV=()
	while IFS= read -r l; do
		l=$(expand "$1" "$2" "$l" | tr '\n' ' ')
		l=${l% }
		UNIT_ENV[${l%%=*}]=${l#*=}
	done < <(key "$1" Environment)
	while IFS= read -r f; do
		f=${f#-}
		f=$(expand "$1" "$2" "$f") || return 1
		f=${UNIT_ETC_ROOT:-}$f
		[ -f "$f" ] || continue
		while IFS= read -r l; do
			case $l in '' | \#*) continue ;; esac
			k=${l%%=*} v=${l#*=}
			v=${v#\"} v=${v%\"}
			UNIT_ENV[$k]=$v
		done <"$f"
	done < <(key "$1" EnvironmentFile)
}

# command_of UNIT-FILE INSTANCE KEY: the words of KEY's (last) command line,
# /etc/tandem/ below UNIT_ETC_ROOT and the program below UNIT_ROOT.
command_of() {
	local words
	words=$(expand "$1" "$2" "$(key "$1" "$3" | tail -n 1)") || return 1
	[ -n "$words" ] || return 1
	printf '%s\n' "$words" |
		sed "s|^/etc/tandem/|${UNIT_ETC_ROOT:-}/etc/tandem/|; 1s|^/|${UNIT_ROOT:-}/|"
}

# privs UNIT-FILE: setpriv options for its User=, capabilities and
# NoNewPrivileges=. A User= this machine does not have (tandem, before
# systemd-sysusers ran) is played by nobody:nogroup.
privs() {
	local user bnd amb
	user=$(key "$1" User | tail -n 1)
	bnd=$(key "$1" CapabilityBoundingSet | tail -n 1 | tr '[:upper:]' '[:lower:]' | sed 's/cap_//g; s/ /,+/g')
	amb=$(key "$1" AmbientCapabilities | tail -n 1 | tr '[:upper:]' '[:lower:]' | sed 's/cap_//g; s/ /,+/g')
	[ -n "$bnd" ] && echo "--bounding-set=-all,+$bnd"
	if [ -n "$amb" ]; then
		echo "--inh-caps=-all,+$amb"
		echo "--ambient-caps=-all,+$amb"
	else
		echo "--inh-caps=-all"
	fi
	if [ -n "$user" ]; then
		if getent passwd "$user" >/dev/null; then
			printf '%s\n' "--reuid=$user" "--regid=$(key "$1" Group | tail -n 1)" --init-groups
		else
			printf '%s\n' --reuid=nobody --regid=nogroup --clear-groups
		fi
	fi
	[ "$(key "$1" NoNewPrivileges | tail -n 1)" = yes ] && echo --no-new-privs
	return 0
}

secs() { # secs 30s|2min|15: whole seconds
	case $1 in
	*min) echo $((${1%min} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
