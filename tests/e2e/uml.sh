#!/bin/bash
# tests/e2e/uml.sh -- run one command inside User-Mode Linux (Debian package
# user-mode-linux) so that kernel PPP and L2TP are there for real pppd and
# xl2tpd, on hosts whose kernel has neither (CI containers).
#
#   usage:  tests/e2e/uml.sh CMD [ARG...]     exit status = CMD's
#
# Guest root = the host's / through hostfs, READ-ONLY. Writable in the guest:
# $PWD and every path in $UML_RW (colon-separated), at the same paths; fresh
# tmpfs on /tmp /run /var/tmp /var/log /var/lib/xl2tpd; private copies of
# /etc/ppp and /etc/xl2tpd (chap-secrets may be edited; the host's stay).
# CMD runs as root in $PWD with the caller's exported environment; its
# stdout/stderr reach the caller's. Loopback only unless UML_NET=slirp.
# Settings: UML_MEM (512M), UML_TIMEOUT (seconds; default 300: a hung guest
# never hangs the caller), UML_MODULES, UML_VERBOSE=1 (kernel console).
# Boot costs about 5-7 s. Needs user-mode-linux, kmod, iproute2.
#
# The file is also the guest's init: the kernel runs it as PID 1 with
# UML_JOB=<job dir> in its environment.

if [ "$$" = 1 ] && [ -n "$UML_JOB" ]; then
  ########################## GUEST SIDE (PID 1 inside UML) ##########################
  export PATH=/usr/sbin:/usr/bin:/sbin:/bin
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev 2>/dev/null          # usually already mounted by kernel
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts && ln -sf pts/ptmx /dev/ptmx
  mount -t tmpfs tmpfs /dev/shm
  # tty1 carries CMD's stdout to host fd 3, tty2 carries its stderr to host fd 4.
  # Raw mode stops the tty turning \n into \r\n.
  stty -F /dev/tty1 raw -echo 2>/dev/null; stty -F /dev/tty2 raw -echo 2>/dev/null
  exec 2>/dev/tty2                                      # this init's own errors -> host stderr
  for d in /run /tmp /var/tmp /var/log /var/lib/xl2tpd; do
    [ -d "$d" ] && mount -t tmpfs -o mode=1777 tmpfs "$d"
  done
  mkdir -p /run/lock /run/netns /run/xl2tpd /run/job /run/etc
  # The job dir is on the host's /tmp, which is now hidden. Mount it again by its host path.
  mount -t hostfs -o "$UML_JOB" hostfs /run/job
  # The caller's cwd and $UML_RW paths, writable (mkdir is needed where they fall under a tmpfs)
  IFS=: read -r -a rw < /run/job/rw
  for p in "${rw[@]}"; do
    [ -n "$p" ] || continue; mkdir -p "$p" 2>/dev/null
    mount -t hostfs -o "$p" hostfs "$p" || echo "uml-init: cannot mount $p rw" >&2
  done
  # Private writable copies of /etc/ppp and /etc/xl2tpd (chap-secrets, peers/, ... may be edited)
  for d in /etc/ppp /etc/xl2tpd; do
    [ -d "$d" ] && cp -a "$d" "/run/etc/${d##*/}" && mount --bind "/run/etc/${d##*/}" "$d"
  done
  # Modules: the UML modules are in /usr/lib/uml/modules/<ver>, but modprobe looks in
  # /lib/modules (missing on the host, and / is read-only). Make a fake module root on tmpfs
  # and a modprobe wrapper. The kernel also uses the wrapper to load modules on demand.
  mkdir -p /run/modroot/lib && ln -s /usr/lib/uml/modules /run/modroot/lib/modules
  printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /run/modroot "$@"\n' > /run/modprobe
  chmod 755 /run/modprobe && echo /run/modprobe > /proc/sys/kernel/modprobe
  for m in $(cat /run/job/modules); do /run/modprobe "$m" || echo "uml-init: modprobe $m failed" >&2; done
  [ -e /dev/ppp ] || mknod -m 600 /dev/ppp c 108 0      # devtmpfs normally creates it
  hostname uml
  ip link set lo up
  if [ -e /sys/class/net/eth0 ]; then                    # UML_NET=slirp
    ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2
  fi
  # Caller's environment and argv (NUL-separated), then run CMD.
  mapfile -d '' -t argv < /run/job/argv
  (
    set +e; . /run/job/env 2>/dev/null
    export UML_GUEST=1
    cd "$(cat /run/job/cwd)" || exit 126
    exec "${argv[@]}"
  ) </dev/null >/dev/tty1 2>/dev/tty2
  rc=$?
  echo "$rc" > /run/job/rc
  sync
  echo o > /proc/sysrq-trigger                          # power off now; UML exits
  sleep 10; exit "$rc"
fi

############################ HOST SIDE ############################
set -u
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
self=$(readlink -f "$0")
kernel=$(command -v linux.uml || command -v linux) || { echo "linux.uml not found (apt-get install user-mode-linux)" >&2; exit 2; }
job=$(mktemp -d /tmp/uml-job.XXXXXX) || exit 2
trap 'rm -rf "$job"' EXIT
printf '%s\0' "$@" > "$job/argv"                       # argv, NUL-separated (safe quoting)
pwd -P > "$job/cwd"
printf '%s' "$(pwd -P):${UML_RW:-}" > "$job/rw"
echo "${UML_MODULES:-ppp_generic ppp_async ppp_synctty pppox l2tp_ppp veth tun}" > "$job/modules"
# Exported environment of the caller, minus variables that belong to this shell.
export -p | grep -v -E '^declare -x (PWD|OLDPWD|SHLVL|_|UML_JOB)=' > "$job/env"

args=(mem="${UML_MEM:-512M}" rootfstype=hostfs rootflags=/ ro
      init="$self" "UML_JOB=$job" uml_dir="$job" umid=run
      con=null ssl=null con1=null,fd:3 con2=null,fd:4)
# UML_VERBOSE=1: kernel console to fd 5, a 2nd copy of stderr (two UML lines cannot share one fd)
if [ "${UML_VERBOSE:-0}" = 1 ]; then args+=(con0=null,fd:5); else args+=(con0=null quiet); fi
case "${UML_NET:-none}" in
  none) ;;
  slirp) args+=("eth0=slirp,,$(command -v slirp-fullbolt || echo /usr/bin/slirp-fullbolt)") ;;
  *) echo "UML_NET must be none or slirp" >&2; exit 2 ;;
esac
tmo=(timeout -k 5 "${UML_TIMEOUT:-300}")
# UML prints start-up checks on its own stdout/stderr; send those to a log file.
# The guest's tty1/tty2 write to fd 3/4 (the caller's stdout/stderr); fd 5 = kernel console.
# Order matters: fd3 := caller's stdout, fd4 := caller's stderr, then fd1 and fd2 := log.
"${tmo[@]}" "$kernel" "${args[@]}" 3>&1 4>&2 5>&2 >"$job/uml.log" 2>&1 </dev/null
urc=$?
if [ -s "$job/rc" ]; then exit "$(cat "$job/rc")"; fi
[ "$urc" = 124 ] && { echo "uml.sh: timed out after ${UML_TIMEOUT:-300}s" >&2; exit 124; }
echo "uml.sh: guest gave no exit status (linux.uml rc=$urc); log follows" >&2
tail -n 30 "$job/uml.log" >&2
exit 125
