#!/bin/sh
# disks.t: create, clone and snapshot with real guests: the sizes the
# guest sees, markers written and read back on its virtio disks, MACs
# and checksums; and "create web" on a fresh host starts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

VMS="$TMP/vms"
printf 'VM_DIR=%s\n' "$VMS" >"$NVQCTL_CONFDIR/nvqctl.conf"
CONF="$NVQCTL_CONFDIR/vm"

# guest NAME SWITCHES...: boot the test guest in a VM create made.
guest() {
	_n=$1
	shift
	cat >>"$CONF/$_n.conf" <<CONF
MEMORY=256M
VIRTIO_RNG=no
SHUTDOWN_TIMEOUT=60
EXTRA_ARGS="-kernel $GUEST_DIR/vmlinuz -initrd $GUEST_DIR/initrd.img
  -append 'console=ttyS0 quiet nvq.noagent nvq.disks $*'"
CONF
}
# sh NAME COMMAND: runs COMMAND in the guest's shell, prints its output.
gsh() {
	"$LUARUN" "$TOP/tests/integ/serial.lua" "$NVQCTL_RUNDIR/$1/serial.sock" \
	    run 120 "$2" | tr -d '\r'
}
# mark NAME TEXT: TEXT at the start of the guest's vda, on the disk.
mark() { gsh "$1" "echo $2 | dd of=/dev/vda bs=512 count=1 conv=notrunc 2>/dev/null; sync" >/dev/null; }
# marker NAME: what the start of vda holds, read from the disk.
marker() { gsh "$1" "echo 3 >/proc/sys/vm/drop_caches; dd if=/dev/vda bs=6 count=1 2>/dev/null; echo"; }
up() { "$NVQCTL" start "$1" >/dev/null && wait_ready "$1" 180; }
down() { "$NVQCTL" stop "$1" 90 >/dev/null; }

# --- create web on a fresh host: host has no FAIL, start starts QEMU --------
fresh="$TMP/fresh"
mkdir -p "$fresh"
run env NVQCTL_CONFDIR="$fresh" "$NVQCTL" create web
is "$RC" 0 "fresh host: create web"
run env NVQCTL_CONFDIR="$fresh" "$NVQCTL" host
unlike "$OUT" "*FAIL*" "fresh host: host reports no FAIL"
is "$RC" 0 "fresh host: host exits 0"
run env NVQCTL_CONFDIR="$fresh" "$NVQCTL" start web
is "$RC" 0 "fresh host: start web starts QEMU"
kill -0 "$(qemu_pid web)" 2>/dev/null
ok $? "fresh host: QEMU runs"
env NVQCTL_CONFDIR="$fresh" "$NVQCTL" kill web >/dev/null 2>&1

# --- two disks of given sizes ---------------------------------------------------
run "$NVQCTL" create two --disk 48M:qcow2 --disk 40M --network user
is "$RC" 0 "create two --disk 48M:qcow2 --disk 40M"
guest two
"$NVQCTL" create snap --disk 32M:qcow2 >/dev/null
guest snap
"$NVQCTL" start two >/dev/null &
"$NVQCTL" start snap >/dev/null
wait
wait_ready two 180 && wait_ready snap 180
ok $? "both guests up"
sizes=$(gsh two 'for b in /sys/block/vd*; do echo ${b##*/} $(cat $b/size); done')
is "$(printf "%s" "$sizes" | tr "\n" " ")" "vda 98304 vdb 81920" \
    "the guest sees two virtio disks: 48M and 40M, in 512-byte sectors"

# --- snapshots, stopped ----------------------------------------------------------
mark snap AAAAA
down snap
run "$NVQCTL" snapshot snap create s1
is "$RC" 0 "stopped: snapshot create s1"
like "$OUT" "*(stopped)*" "stopped: with qemu-img"
up snap
mark snap BBBBB
is "$(marker snap)" BBBBB "stopped: the guest wrote B"
down snap
run "$NVQCTL" snapshot snap revert s1
is "$RC" 0 "stopped: snapshot revert s1"
up snap
is "$(marker snap)" AAAAA "stopped: after revert the guest reads A"

# --- snapshots, live (TCG allows it) ----------------------------------------------
mark snap CCCCC
run "$NVQCTL" snapshot snap create s2
is "$RC" 0 "live: snapshot create s2"
like "$OUT" "*(live)*" "live: with savevm"
mark snap DDDDD
is "$(marker snap)" DDDDD "live: the guest wrote D"
run "$NVQCTL" snapshot snap revert s2
is "$RC" 0 "live: snapshot revert s2"
is "$(marker snap)" CCCCC "live: after revert the guest reads C"
run "$NVQCTL" snapshot --json snap list
like "$OUT" '*"name":"s2"*' "live: list shows s2"
like "$OUT" '*"vm_state_bytes":[1-9]*' "live: s2 holds the VM state"
run "$NVQCTL" snapshot snap delete s2
is "$RC" 0 "live: snapshot delete s2"
run "$NVQCTL" snapshot snap create s2
is "$RC" 0 "live: the name is free again"
down snap

# --- disk resize, live (block_resize) and stopped ------------------------------------
run "$NVQCTL" disk two resize hd1 56M
is "$RC" 0 "live resize: exit 0"
like "$OUT" "*(live)*" "live resize: through QMP"
is "$(gsh two 'cat /sys/block/vdb/size')" 114688 "live resize: the guest sees 56M at once"

# --- clone, both kinds --------------------------------------------------------------
mac_two=$(gsh two 'cat /sys/class/net/eth0/address')
run "$NVQCTL" clone two full
is "$RC" 1 "clone of a running VM that writes its disks: exit 1"
like "$ERR" "*two is running*stop it first*" "clone of a running VM: says why"
down two
src_sum=$(cksum "$VMS"/two/*)
run "$NVQCTL" clone two full
is "$RC" 0 "clone (full copy): exit 0"
run "$NVQCTL" clone --linked two thin
is "$RC" 0 "clone --linked: exit 0"
"$NVQCTL" start full >/dev/null &
"$NVQCTL" start thin >/dev/null
wait
wait_ready full 180 && wait_ready thin 180
ok $? "both clones boot"
for c in full thin; do
	mac=$(gsh $c 'cat /sys/class/net/eth0/address')
	like "$mac" "52:54:*" "$c: has a MAC ($mac)"
	[ "$mac" != "$mac_two" ]
	ok $? "$c: a MAC other than its source's ($mac_two)"
	eval "mac_$c=\$mac"
	mark $c "$c"
	is "$(marker $c | cut -c1-4)" "$c" "$c: the clone wrote to its disk"
done
[ "$mac_full" != "$mac_thin" ]
ok $? "the two clones have different MACs"
down full
down thin
is "$(cksum "$VMS"/two/*)" "$src_sum" "the clones' writes left the source's disks unchanged"

# --- a migration blocker refuses a live snapshot, clearly -----------------------
# NVMM registers one; so does an ivshmem device in peer mode, which TCG
# can run: the same refusal, and the stopped form offered.
"$NVQCTL" create blk --disk 8M:qcow2 --memory 64M >/dev/null
echo 'EXTRA_ARGS="-object memory-backend-ram,id=shm0,size=1M,share=on -device ivshmem-plain,memdev=shm0"' \
    >>"$CONF/blk.conf"
"$NVQCTL" start blk >/dev/null
run "$NVQCTL" snapshot blk create s1
is "$RC" 1 "a migration blocker: live snapshot refused, exit 1"
like "$ERR" "*live snapshots are not possible in this VM (QEMU: Migration is disabled*); stop the VM and snapshot it stopped*" \
    "a migration blocker: QEMU's reason and the stopped form"
"$NVQCTL" kill blk >/dev/null 2>&1
run "$NVQCTL" snapshot blk create s1
is "$RC" 0 "a migration blocker: the stopped form works"
