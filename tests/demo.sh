#!/bin/sh
# demo.sh: nvqctl doing its main job on a real VM.  Builds the tiny test
# guest, configures a VM in a private directory, starts it, shows it,
# talks to its guest agent and shuts it down through the agent.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
nvqctl=$top/nvqctl
demo=$top/build/demo
NVQCTL_CONFDIR=$demo/etc
NVQCTL_RUNDIR=$demo/run
export NVQCTL_CONFDIR NVQCTL_RUNDIR

step() { printf '\n==> %s\n' "$*"; }
now() { date +%s.%N 2>/dev/null | sed 's/N$//'; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }

step "building the test guest (Debian kernel + busybox + qemu-ga)"
sh "$top/tests/guest/build.sh"

qemu=$(command -v qemu-system-x86_64) || {
	echo "demo: qemu-system-x86_64 is not installed" >&2; exit 1; }
rm -rf "$demo"
mkdir -p "$NVQCTL_CONFDIR/vm"
step "configuring VM 'demo' in $NVQCTL_CONFDIR"
cat >"$NVQCTL_CONFDIR/vm/demo.conf" <<CONF
# The test guest: a Linux kernel and a busybox initramfs with qemu-ga.
QEMU_BIN=$qemu
ACCEL=auto
MEMORY=256M
GUEST_AGENT=yes
GUEST_AGENT_METHOD=virtio-serial
GUEST=$top/build/guest
EXTRA_ARGS="-kernel \${GUEST}/vmlinuz -initrd \${GUEST}/initrd.img
  -append 'console=ttyS0 quiet'"
CONF
cat "$NVQCTL_CONFDIR/vm/demo.conf"

trap '"$nvqctl" kill demo >/dev/null 2>&1 || :' EXIT INT TERM

step "nvqctl dryrun demo"
"$nvqctl" dryrun demo

step "nvqctl start demo"
t=$(now)
"$nvqctl" start demo
echo "(start took $(took "$t"))"

step "nvqctl list"
"$nvqctl" list

step "nvqctl status demo"
"$nvqctl" status demo

step "nvqctl agent demo guest-ping (waiting for the guest to boot)"
t=$(now)
i=0
until "$nvqctl" agent --timeout 2 demo guest-ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "demo: the guest agent never answered" >&2; exit 1; }
done
echo "agent answered $(took "$t") after start returned"
echo "guest agent $("$nvqctl" agent demo guest-info | sed -n 's/.*"version": "\(.*\)".*/\1/p'), guest kernel:"
"$nvqctl" agent demo guest-get-osinfo | grep -E '"(kernel-release|machine)"' || :

step "nvqctl top -n 1"
"$nvqctl" top -n 1

step "nvqctl stop demo (guest agent first, then ACPI)"
t=$(now)
"$nvqctl" stop demo
echo "(stop took $(took "$t"))"

step "nvqctl list"
"$nvqctl" list
trap - EXIT INT TERM
echo
echo "demo: done.  The VM's files are in $demo."
