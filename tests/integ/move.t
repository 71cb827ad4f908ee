#!/bin/sh
# move: a running guest with a sparse disk from "host" a to "host" b
# over a real sshd (tests/integ/sshd.sh); refused before anything stops
# when the other side is full (a small tmpfs) or has the name already.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"
. "$(dirname "$0")/sshd.sh"

B="$TMP/b" C="$TMP/c"
mkdir -p "$C/vms"
# c's VM_DIR: a 16 MiB tmpfs, made before sshd so that it sees it.
mount -t tmpfs -o size=16m nvqmove "$C/vms" ||
    echo "Bail out! cannot mount a tmpfs (needs root)"
_move_prev_hook=$T_CLEANUP_HOOK
move_cleanup() {
	for _p in "$B"/run/*/qemu.pid; do
		[ -f "$_p" ] && kill -KILL "$(cat "$_p")" 2>/dev/null
	done
	$_move_prev_hook
	umount "$C/vms" 2>/dev/null
}
T_CLEANUP_HOOK=move_cleanup

sshd_start
ssh_hosts a b c
host_dirs b "$B/etc" "$B/run"
host_dirs c "$C/etc" "$C/run"
echo "VM_DIR=$TMP/a-vms" > "$NVQCTL_CONFDIR/nvqctl.conf"
echo "VM_DIR=$B/vms" > "$B/etc/nvqctl.conf"
echo "VM_DIR=$C/vms" > "$C/etc/nvqctl.conf"

# g1: the test guest with a 64 MiB sparse disk, 2 MiB of it written.
mkdir -p "$TMP/a-vms/g1"
disk="$TMP/a-vms/g1/disk.img"
truncate -s 64M "$disk"
head -c 2097152 /dev/urandom | dd of="$disk" bs=1M seek=10 conv=notrunc \
    2>/dev/null
sum0=$(cksum < "$disk")
guest_vm g1 isa-serial
echo "DISKS=$disk:raw" >> "$NVQCTL_CONFDIR/vm/g1.conf"
"$NVQCTL" start g1 >/dev/null || echo "Bail out! g1 did not start"
pid=$(qemu_pid g1)
wait_ready g1 || echo "Bail out! g1 never answered"

run "$NVQCTL" move g1 c
is "$RC" 1 "move to a host without room: exit 1"
like "$ERR" "*g1: not moved to c: $C/vms has * MiB free there, 65 MiB needed*" \
    "move to a host without room: says how much is needed"
is "$(qemu_pid g1)" "$pid" "without room: g1 was not stopped here"
[ ! -e "$C/etc/vm/g1.conf" ] && [ -z "$(ls -A "$C/vms")" ]
ok $? "without room: nothing was written there"

printf 'MEMORY=64M\n' > "$B/etc/vm/g2.conf"
cp "$NVQCTL_CONFDIR/vm/g1.conf" "$NVQCTL_CONFDIR/vm/g2.conf"
sed -i '/^DISKS=/d' "$NVQCTL_CONFDIR/vm/g2.conf"
run "$NVQCTL" move g2 b
is "$RC" 1 "move of a name configured there: exit 1"
like "$ERR" "*g2: not moved to b: a VM named g2 is configured there*" \
    "move of a name configured there: says so"
rm "$NVQCTL_CONFDIR/vm/g2.conf"

# b's receive fails half way: the VM is whole here and runs again.
cat > "$TMP/failing" <<SH
#!/bin/sh
[ "\$1" = receive ] && [ "\$2" != --check ] && {
	head -c 100000 >/dev/null; echo "nvqctl: boom" >&2; exit 1; }
exec env NVQCTL_CONFDIR=$B/etc NVQCTL_RUNDIR=$B/run $NVQCTL "\$@"
SH
NVQCTL_REMOTE_b="sh $TMP/failing" run "$NVQCTL" move g1 b
is "$RC" 1 "move failing there: exit 1"
like "$ERR" \
    "*g1: not moved to b: *boom*the VM is whole here; started again here*" \
    "move failing there: says where the VM is"
run "$NVQCTL" status --json g1
like "$OUT" '*"state":"running"*' "move failing there: g1 runs here again"
is "$(cksum < "$disk")" "$sum0" "move failing there: its disk is unchanged"
[ ! -e "$B/etc/vm/g1.conf" ] && [ ! -e "$B/vms/g1" ]
ok $? "move failing there: nothing of g1 there"
pid=$(qemu_pid g1)
wait_ready g1 || echo "Bail out! g1 never answered after its restart"

t0=$(now)
run "$NVQCTL" move g1 b
t1=$(now)
is "$RC" 0 "move g1 b: exit 0"
like "$OUT" "*g1: moved to b and running there: 2 files, 64.0 MiB (2.0 MiB of \
data, holes left out) in *s; down *s*" \
    "move: says what it did"
diag "move: $OUT ($(secs "$t0" "$t1")s)"
gone "$pid"
ok $? "move: the QEMU here is gone"
run "$NVQCTL" -H b status --json g1
like "$OUT" '*"state":"running"*' "move: g1 runs on b"
like "$OUT" "*\"config\":\"$B/etc/vm/g1.conf\"*" "move: with b's config"
is "$(cksum < "$B/vms/g1/disk.img")" "$sum0" \
    "move: the disk's checksum matches"
kib=$(du -k "$B/vms/g1/disk.img" | cut -f1)
[ "$kib" -lt 16384 ]
ok $? "move: the disk stays sparse ($kib KiB of 65536)"
grep -q "^DISKS=$B/vms/g1/disk.img:raw" "$B/etc/vm/g1.conf"
ok $? "move: the config names the disk where it is there"
[ ! -e "$NVQCTL_CONFDIR/vm/g1.conf" ] && [ ! -e "$TMP/a-vms/g1" ]
ok $? "move: g1 is gone from a (config and VM_DIR/g1)"
run "$NVQCTL" list --json
is "$OUT" "[]" "move: a lists no VM"
"$NVQCTL" -H b kill g1 >/dev/null 2>&1
