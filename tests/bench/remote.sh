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
trap 'for p in "$TMP"/*/run/*/qemu.pid; do [ -f "$p" ] &&
    kill -KILL "$(cat "$p")" 2>/dev/null; done; sshd_cleanup; rm -rf "$TMP"' EXIT
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
ctl() { ssh_masters_exit; }
cold() { ctl; "$NVQCTL" -H a status vm1; }
warm_ssh() { $NVQCTL_SSH -o ControlPath="$(ls -d "$CTL_DIR"/* | head -1)" a true; }
remote_nvqctl() { $NVQCTL_SSH -o ControlPath="$(ls -d "$CTL_DIR"/* | head -1)" a \
    "NVQCTL_CONFDIR=$TMP/a/etc NVQCTL_RUNDIR=$TMP/a/run $NVQCTL status vm1"; }

# fig LABEL CMD...: one line of figures.
fig() { _l=$1; shift; printf '  %-36s %s\n' "$_l" "$(med "$@")"; }
echo "-H: medians of $runs runs, ms" \
    "(load average $(cut -d' ' -f1 /proc/loadavg))"
fig "status here:" "$NVQCTL" status vm1
fig "-H a status, cold (handshake each):" cold
"$NVQCTL" -H a status vm1 >/dev/null 2>&1
fig "-H a status, warm (shared conn):" "$NVQCTL" -H a status vm1
fig "ssh a true, warm:" warm_ssh
fig "ssh a nvqctl status, warm:" remote_nvqctl
"$NVQCTL" -H a,b,c list >/dev/null 2>&1
fig "-H a list (5 VMs), warm:" "$NVQCTL" -H a list
fig "-H a,b,c list (3 x 5 VMs), warm:" "$NVQCTL" -H a,b,c list

# move: the test guest with a 1 GiB disk, half of it written, from a to
# b while it runs (the time, what it says it sent and its downtime).
sh "$top/tests/guest/build.sh" "$top/build/guest" >/dev/null 2>&1 || exit 0
guest=$top/build/guest
echo "VM_DIR=$TMP/a/vms" > "$TMP/a/etc/nvqctl.conf"
echo "VM_DIR=$TMP/b/vms" > "$TMP/b/etc/nvqctl.conf"
mkdir -p "$TMP/a/vms/mv"
truncate -s 1G "$TMP/a/vms/mv/disk.img"
head -c 536870912 /dev/urandom | dd of="$TMP/a/vms/mv/disk.img" bs=1M \
    conv=notrunc 2>/dev/null
cat > "$TMP/a/etc/vm/mv.conf" <<CONF
QEMU_BIN=$(command -v qemu-system-x86_64)
ACCEL=auto
MEMORY=256M
SERIAL=yes
GUEST_AGENT=yes
GUEST_AGENT_METHOD=isa-serial
DISKS=$TMP/a/vms/mv/disk.img:raw
EXTRA_ARGS="-kernel $guest/vmlinuz -initrd $guest/initrd.img
  -append 'console=ttyS0 quiet'"
CONF
NVQCTL_CONFDIR=$TMP/a/etc NVQCTL_RUNDIR=$TMP/a/run
"$NVQCTL" start mv >/dev/null 2>&1 || { echo "move: mv did not start"; exit 0; }
"$top/tests/luarun" "$top/tests/integ/serial.lua" "$TMP/a/run/mv/serial.sock" \
    ping 60 >/dev/null 2>&1
t0=$(date +%s%N)
out=$("$NVQCTL" move mv b 2>/dev/null)
t1=$(date +%s%N)
echo "move of a running guest, 1 GiB disk with 512 MiB written:"
echo "  $out"
echo "  wall time: $(( (t1 - t0) / 1000000 )) ms"
for p in "$TMP"/*/run/*/qemu.pid; do
	[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
done
