#!/bin/bash
# Installs every Debian package tandem's build, tests and `make run` need.
# Idempotent: asks apt only when something is missing. Uses sudo when not root.
set -eu
PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev clang-format
	libuv1-dev libzmq3-dev libhiredis-dev libmicrohttpd-dev libcmocka-dev
	redis-server tshark xl2tpd iproute2 procps python3-redis python3-zmq curl jq
	ppp user-mode-linux kmod iputils-ping keepalived
	systemd # systemd-analyze: tests/integration/test_systemd_units.sh
	stress-ng # the CPU hog of test_takeover_hog.sh and tests/e2e/test_pppd_hog.sh
	l2tpns # the speed peer of bench/l2tpns.sh (make bench)
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -q
# The packages' own services must not start: xl2tpd and l2tpns would take
# UDP 1701 on every address, and the tests and benchmarks run their own
# daemons on addresses of their choosing (policy-rc.d: Debian's switch).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod +x "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
# tshark asks whether non-root users may capture; noninteractive keeps the default.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
# nor start at the next boot (l2tpns is a benchmark peer only)
if command -v systemctl >/dev/null && [[ " ${missing[*]} " == *" l2tpns "* ]]; then
	$SUDO systemctl disable l2tpns >/dev/null 2>&1 || true
fi
