#!/bin/sh
# remote.sh [RUNS]: what -H costs, against a private sshd on 127.0.0.1-3
# (tests/integ/sshd.sh): "status VM" here, over a cold connection (a new
# ssh handshake each time) and a warm one (the shared connection), and
# ssh alone on the warm one; list on one host and on three at once.
# Medians of RUNS (default 20).  Prints figures; asserts nothing.
# Needs root and openssh-server; says why and does nothing otherwise.
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-20}
if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/sshd ]; then
	echo "-H: skipped (needs root and /usr/sbin/sshd)"
	exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nvqbench.XXXXXX")
NVQCTL="$top/nvqctl"
NVQCTL_CONFDIR=$TMP/etc NVQCTL_RUNDIR=$TMP/run
export NVQCTL_CONFDIR NVQCTL_RUNDIR
mkdir -p "$NVQCTL_CONFDIR/vm"
T_CLEANUP_HOOK=
. "$top/tests/integ/sshd.sh"
trap 'sshd_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
sshd_start >/dev/null
ssh_hosts a b c
for h in a b c; do
	host_dirs $h "$TMP/$h/etc" "$TMP/$h/run"
	for n in 1 2 3 4 5; do
		printf 'MEMORY=64M\n' > "$TMP/$h/etc/vm/vm$n.conf"
	done
done
NVQCTL_CONFDIR=$TMP/a/etc NVQCTL_RUNDIR=$TMP/a/run

# med CMD...: the median wall time of RUNS runs, in ms.
med() {
	for _i in $(seq "$runs"); do
		_t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		_t1=$(date +%s%N)
		echo $(( (_t1 - _t0) / 1000 ))
	done | sort -n | awk '{ v[NR] = $1 } END {
	    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%.1f", m / 1000 }'
}
ctl() { ssh -F "$SD/ssh_config" -o ControlPath="$CTL_DIR/%C" -O exit a \
    >/dev/null 2>&1; }
cold() { ctl; "$NVQCTL" -H a status vm1; }
warm_ssh() { $NVQCTL_SSH -o ControlPath="$CTL_DIR/%C" a true; }
remote_nvqctl() { $NVQCTL_SSH -o ControlPath="$CTL_DIR/%C" a \
    "env NVQCTL_CONFDIR=$TMP/a/etc NVQCTL_RUNDIR=$TMP/a/run $NVQCTL status vm1"; }

echo "-H: medians of $runs runs, ms (load average $(cut -d' ' -f1 /proc/loadavg))"
printf '  status here:                          %s\n' "$(med "$NVQCTL" status vm1)"
printf '  -H a status, cold (handshake each):   %s\n' "$(med cold)"
"$NVQCTL" -H a status vm1 >/dev/null 2>&1
printf '  -H a status, warm (shared conn):      %s\n' "$(med "$NVQCTL" -H a status vm1)"
printf '  ssh a true, warm:                     %s\n' "$(med warm_ssh)"
printf '  ssh a nvqctl status, warm:            %s\n' "$(med remote_nvqctl)"
"$NVQCTL" -H a,b,c list >/dev/null 2>&1
printf '  -H a list (5 VMs), warm:              %s\n' "$(med "$NVQCTL" -H a list)"
printf '  -H a,b,c list (3 x 5 VMs), warm:      %s\n' "$(med "$NVQCTL" -H a,b,c list)"
