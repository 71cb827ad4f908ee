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

step "boot orchestration: 'db' and 'web' (requires db), each ready when its agent answers"
for vm in db web; do
	sed -e "s/^# The test guest.*/# The test guest, for startall and stopall./" \
	    -e "s/^MEMORY=.*/MEMORY=128M/" \
	    "$NVQCTL_CONFDIR/vm/demo.conf" >"$NVQCTL_CONFDIR/vm/$vm.conf"
done
cat >>"$NVQCTL_CONFDIR/vm/db.conf" <<CONF
AUTOSTART=yes
BOOT_READY=agent
BOOT_DELAY=1
CONF
cat >>"$NVQCTL_CONFDIR/vm/web.conf" <<CONF
AUTOSTART=yes
BOOT_REQUIRES=db
BOOT_READY=agent
CONF
grep -H -E '^(AUTOSTART|BOOT_)' "$NVQCTL_CONFDIR/vm/db.conf" \
    "$NVQCTL_CONFDIR/vm/web.conf"
trap '"$nvqctl" stopall --timeout 10 >/dev/null 2>&1 || :' EXIT INT TERM

step "nvqctl startall --dry-run (the plan; nothing is started)"
"$nvqctl" startall --dry-run

step "nvqctl startall (the AUTOSTART VMs: db, then web once db's agent answers)"
"$nvqctl" startall 2>/dev/null

step "nvqctl list"
"$nvqctl" list

step "nvqctl stopall (every running VM, web before db, within one deadline)"
"$nvqctl" stopall --timeout 60
trap - EXIT INT TERM

sh "$top/tests/demo-net.sh" "$demo"
echo
echo "demo: done.  The VMs' files are in $demo."
