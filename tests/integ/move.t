#!/bin/sh
# move: a running guest with a sparse disk from "host" a to "host" b
# over a real sshd (tests/integ/sshd.sh), saved here and restored there
# (its memory goes with it); one QEMU cannot save shut down and booted
# there; a stopped one; refused before anything stops when the other
# side is full (a small tmpfs) or has the name already.
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
# Its cloud-init files go with it (not used: CLOUD_INIT is off).
mkdir -p "$NVQCTL_CONFDIR/cloud-init/g1"
echo "#cloud-config" > "$NVQCTL_CONFDIR/cloud-init/g1/user-data"
# g3: QEMU cannot save it (ivshmem-plain registers a migration blocker,
# as NVMM does), so it is shut down here and booted there.
SHM="$TMP/shm"
: > "$SHM"
guest_vm g3 isa-serial
sed -i "s|^EXTRA_ARGS=\"|EXTRA_ARGS=\"-object memory-backend-file,id=shm0,share=on,mem-path=$SHM,size=1M -device ivshmem-plain,memdev=shm0 |" \
    "$NVQCTL_CONFDIR/vm/g3.conf"
# g4: stopped, a 1 MiB disk.
guest_vm g4 isa-serial
mkdir -p "$TMP/a-vms/g4"
head -c 1048576 /dev/urandom > "$TMP/a-vms/g4/disk.img"
echo "DISKS=$TMP/a-vms/g4/disk.img:raw" >> "$NVQCTL_CONFDIR/vm/g4.conf"
"$NVQCTL" start g3 >/dev/null || echo "Bail out! g3 did not start"
"$NVQCTL" start g1 >/dev/null || echo "Bail out! g1 did not start"
pid=$(qemu_pid g1)
wait_ready g1 || echo "Bail out! g1 never answered"

run "$NVQCTL" move g1 c
is "$RC" 1 "move to a host without room: exit 1"
like "$ERR" "*g1: not moved to c: $C/vms has * MiB free there, 385 MiB needed*" \
    "move to a host without room: its disk, its RAM and a margin needed"
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

# b's receive fails half way: the VM is whole here and runs again,
# restored from the state saved for the move.
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
[ ! -e "$TMP/a-vms/g1/state" ]
ok $? "move failing there: the state restored here is gone"
run "$NVQCTL" status --json g1
like "$OUT" '*"state":"running"*' "move failing there: g1 runs here again"
is "$(cksum < "$disk")" "$sum0" "move failing there: its disk is unchanged"
[ ! -e "$B/etc/vm/g1.conf" ] && [ ! -e "$B/vms/g1" ]
ok $? "move failing there: nothing of g1 there"
pid=$(qemu_pid g1)
wait_ready g1 || echo "Bail out! g1 never answered after its restart"

# Interrupted halfway (b reads nothing for 3 s; TERM, as a background
# job ignores INT, once b's receive has begun): the VM is whole here,
# restored, and nothing of it is left there.
cat > "$TMP/slow" <<SH
#!/bin/sh
[ "\$1" = receive ] && [ "\$2" != --check ] && : > $TMP/recv && sleep 3
exec env NVQCTL_CONFDIR=$B/etc NVQCTL_RUNDIR=$B/run $NVQCTL "\$@"
SH
NVQCTL_REMOTE_b="sh $TMP/slow" "$NVQCTL" move g1 b >"$TMP/int.out" \
    2>"$TMP/int.err" &
mv_pid=$!
i=0
while [ ! -e "$TMP/recv" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -TERM "$mv_pid"
wait "$mv_pid"
is "$?" 1 "move interrupted: exit 1"
like "$(cat "$TMP/int.err")" \
    "*g1: not moved to b: interrupted by SIGTERM*the VM is whole here; started again here*" \
    "move interrupted: says where the VM is"
run "$NVQCTL" status --json g1
like "$OUT" '*"state":"running"*' "move interrupted: g1 runs here again"
is "$(cksum < "$disk")" "$sum0" "move interrupted: its disk is unchanged"
sleep 2
[ ! -e "$B/etc/vm/g1.conf" ] && [ ! -e "$B/vms/g1" ] &&
    [ -z "$(ls -A "$B/vms" 2>/dev/null)" ]
ok $? "move interrupted: nothing of g1 there"
pid=$(qemu_pid g1)
wait_ready g1 || echo "Bail out! g1 never answered after the interruption"

# What only the guest's memory holds: a file in its initramfs.
serial() {
	"$LUARUN" "$TOP/tests/integ/serial.lua" "$1/$2/serial.sock" run 30 \
	    "$3" | tr -d '\r'
}
serial "$NVQCTL_RUNDIR" g1 "echo moved-$$ > /nvq-mark" >/dev/null
u1=$(serial "$NVQCTL_RUNDIR" g1 'cut -d. -f1 /proc/uptime' | tr -dc 0-9)
t0=$(now)
run "$NVQCTL" move --json g1 b
t1=$(now)
is "$RC" 0 "move g1 b: exit 0"
like "$OUT" '{*"how":"saved"*}' "move --json: saved here"
like "$OUT" '*"running":true*' "move --json: runs there"
like "$OUT" '*"files":5[,}]*' "move --json: config, user-data, disk, state"
like "$OUT" '*"downtime_s":*' "move --json: the downtime"
diag "move: $OUT ($(secs "$t0" "$t1")s)"
gone "$pid"
ok $? "move: the QEMU here is gone"
run "$NVQCTL" -H b status --json g1
like "$OUT" '*"state":"running"*' "move: g1 runs on b"
like "$OUT" "*\"config\":\"$B/etc/vm/g1.conf\"*" "move: with b's config"
is "$(serial "$B/run" g1 'cat /nvq-mark')" "moved-$$" \
    "move: the guest kept its memory"
u2=$(serial "$B/run" g1 'cut -d. -f1 /proc/uptime' | tr -dc 0-9)
[ -n "$u1" ] && [ -n "$u2" ] && [ "$u2" -ge "$u1" ]
ok $? "move: its uptime goes on ($u1 -> $u2), not from zero"
[ ! -e "$B/vms/g1/state" ] && [ ! -e "$B/vms/g1/state.json" ]
ok $? "move: the state is gone there once restored"
is "$(cat "$B/etc/cloud-init/g1/user-data" 2>/dev/null)" "#cloud-config" \
    "move: its cloud-init files went with it"
is "$(cksum < "$B/vms/g1/disk.img")" "$sum0" \
    "move: the disk's checksum matches"
kib=$(du -k "$B/vms/g1/disk.img" | cut -f1)
[ "$kib" -lt 16384 ]
ok $? "move: the disk stays sparse ($kib KiB of 65536)"
grep -q "^DISKS=$B/vms/g1/disk.img:raw" "$B/etc/vm/g1.conf"
ok $? "move: the config names the disk where it is there"
[ ! -e "$NVQCTL_CONFDIR/vm/g1.conf" ] && [ ! -e "$TMP/a-vms/g1" ] &&
    [ ! -e "$NVQCTL_CONFDIR/cloud-init/g1" ]
ok $? "move: g1 is gone from a (config, VM_DIR/g1, cloud-init)"
"$NVQCTL" -H b kill g1 >/dev/null 2>&1

wait_ready g3 || echo "Bail out! g3 never answered"
pid=$(qemu_pid g3)
run "$NVQCTL" move g3 b
is "$RC" 0 "move of a VM QEMU cannot save: exit 0"
like "$ERR" "*g3: QEMU cannot save it (*ivshmem*): it is shut down here and \
booted there*" "move of a VM QEMU cannot save: says so"
like "$OUT" "*g3: moved to b and running there: 1 file,*; down *s*" \
    "move of a VM QEMU cannot save: says what it did"
gone "$pid"
ok $? "move of a VM QEMU cannot save: the QEMU here is gone"
run "$NVQCTL" -H b status --json g3
like "$OUT" '*"state":"running"*' "move of a VM QEMU cannot save: runs on b"
"$NVQCTL" -H b kill g3 >/dev/null 2>&1

run "$NVQCTL" move g4 b
is "$RC" 0 "move of a stopped VM: exit 0"
like "$OUT" "g4: moved to b: 2 files, 1.0 MiB (1.0 MiB of data, holes left \
out) in *s" "move of a stopped VM: says what it did"
run "$NVQCTL" -H b status --json g4
like "$OUT" '*"state":"stopped"*' "move of a stopped VM: stopped on b"
cmp -s "$B/vms/g4/disk.img" "$TMP/a-vms/g4/disk.img" 2>/dev/null
[ -f "$B/vms/g4/disk.img" ] && [ ! -e "$TMP/a-vms/g4" ]
ok $? "move of a stopped VM: its disk there, not here"
run "$NVQCTL" list --json
is "$OUT" "[]" "after the moves: a lists no VM"
