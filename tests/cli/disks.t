#!/bin/sh
# disks.t: create, clone, snapshot and disk without a guest: argv and
# usage errors, what is made where, all-or-nothing on failure (real
# qemu-img; a fake only for a fault).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fakevm.sh"

command -v qemu-img >/dev/null || { echo "1..0 # SKIP no qemu-img"; exit 0; }
VMS="$TMP/vms"
printf 'VM_DIR=%s\n' "$VMS" >"$NVQCTL_CONFDIR/nvqctl.conf"
CONF="$NVQCTL_CONFDIR/vm"
# Every file under a directory with its checksum: "nothing changed".
sums() { find "$@" -type f -exec cksum {} + 2>/dev/null | sort; }
# jcheck LUA: runs LUA with t, the JSON document in $OUT.
jcheck() {
	printf 'local t = require("cjson").decode(io.read("a"))\n%s\n' "$1" \
	    >"$TMP/jcheck.lua"
	printf '%s' "$OUT" | "$LUARUN" "$TMP/jcheck.lua"
}
vsize() { qemu-img info --output=json "$1" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p'; }

# --- usage errors: exit 2, nothing made --------------------------------------
for bad in 1X 0 -1G 100 1.5G 65T "1G:vmdk"; do
	run "$NVQCTL" create u1 --disk "$bad"
	is "$RC" 2 "create --disk $bad: exit 2"
done
like "$ERR" "*raw or qcow2*usage: nvqctl create*" "a bad format: says so, with usage"
run "$NVQCTL" create u1 --cpus 0
is "$RC" 2 "create --cpus 0: exit 2"
run "$NVQCTL" create u1 --memory lots
is "$RC" 2 "create --memory lots: exit 2"
run "$NVQCTL" create u1 --network tap0:zz
is "$RC" 2 "create --network tap0:zz: exit 2"
run "$NVQCTL" create u1 --linked
is "$RC" 2 "create --linked without --from: exit 2"
is "$(ls "$CONF"; ls "$VMS" 2>/dev/null)" "" "usage errors: nothing made"

# --- create -------------------------------------------------------------------
run "$NVQCTL" create web
is "$RC" 0 "create web: exit 0"
grep -Eq '^(DISKS|NETWORK|ACCEL|QEMU_BIN|VMDIR)=' "$CONF/web.conf"
is $? 1 "create web: no disk, NIC, ACCEL or QEMU_BIN written"
! grep -q xendata "$CONF/web.conf"
ok $? "create web: no placeholder disk path"

run "$NVQCTL" create two --disk 64M --disk 1G:qcow2 --cpus 2 --memory 512M \
    --network user --network user:tcp:10022:22
is "$RC" 0 "create two disks: exit 0"
is "$(vsize "$VMS/two/disk0.img")" 67108864 "create: disk0.img is 64M"
is "$(vsize "$VMS/two/disk1.qcow2")" 1073741824 "create: disk1.qcow2 is 1G"
is "$(qemu-img info --output=json "$VMS/two/disk1.qcow2" | sed -n 's/.*"format": "\([a-z0-9]*\)".*/\1/p' | head -n 1)" \
    qcow2 "create: the qcow2 disk is qcow2"
is "$(stat -c %a "$VMS/two")" 700 "create: VM_DIR/VM is mode 0700"
run "$NVQCTL" dryrun two
like "$OUT" "*file=$VMS/two/disk0.img,format=raw*file=$VMS/two/disk1.qcow2,format=qcow2*" \
    "create: the disks are in DISKS, in order"
like "$OUT" "*-smp cpus=2*-m 512*hostfwd=tcp:127.0.0.1:10022-:22*" \
    "create: --cpus, --memory, --network written"

run "$NVQCTL" create js --json --disk 1M:qcow2
is "$RC" 0 "create --json: exit 0"
jcheck 'assert(t.name == "js" and t.disks[1].size_bytes == 1048576 and
	t.disks[1].format == "qcow2" and t.vm_dir:match("/js$") and
	t.config:match("/js%.conf$"))'
ok $? "create --json: name, config, vm_dir, disks"

# The install media and cloud-init keys: written once each, and the
# config they make starts with the CD-ROM and the seed.
run "$NVQCTL" create media --iso /etc/hostname --cloud-init
is "$RC" 0 "create --iso --cloud-init: exit 0"
is "$(grep -c '^ISO=' "$CONF/media.conf")" 1 "create --iso: one ISO line"
grep -qx 'ISO=/etc/hostname' "$CONF/media.conf"
ok $? "create --iso: ISO=FILE written"
grep -qx 'CLOUD_INIT=yes' "$CONF/media.conf"
ok $? "create --cloud-init: CLOUD_INIT=yes written"
run "$NVQCTL" dryrun media
is "$RC" 0 "create --iso --cloud-init: the config loads"
like "$OUT" "*media=cdrom*file=/etc/hostname*ide-cd*" "dryrun: the ISO as a CD-ROM"
like "$OUT" "*-boot*once=d*" "dryrun: booted from the ISO once"
like "$OUT" "*cidata*" "dryrun: the cloud-init seed attached"
rm -f "$CONF/media.conf"

# --from: a copy, or an overlay with the image as backing file.
run "$NVQCTL" create full --from "$VMS/two/disk1.qcow2"
is "$RC" 0 "create --from: exit 0"
qemu-img info "$VMS/full/disk0.qcow2" | grep -q 'backing file'
is $? 1 "create --from: a full copy (no backing file)"
run "$NVQCTL" create thin --from "$VMS/two/disk0.img" --linked --disk 1M
is "$RC" 0 "create --from --linked: exit 0"
qemu-img info "$VMS/thin/disk0.qcow2" | grep -q "backing file: $VMS/two/disk0.img"
ok $? "create --linked: an overlay backed by the image"
qemu-img info "$VMS/thin/disk0.qcow2" | grep -q 'backing file format: raw'
ok $? "create --linked: the backing format given (-F raw)"

# --- never overwrite; nothing changed ----------------------------------------
before=$(sums "$CONF" "$VMS")
run "$NVQCTL" create two --disk 1M
is "$RC" 1 "create into an existing name: exit 1"
like "$ERR" "*VM two already exists*" "create into an existing name: says so"
rm "$CONF/web.conf"
mkdir -p "$VMS/web" && : >"$VMS/web/disk0.img"
before=$(sums "$CONF" "$VMS")
run "$NVQCTL" create web --disk 1M
is "$RC" 1 "create onto an existing disk path: exit 1"
like "$ERR" "*$VMS/web/disk0.img: file exists*" "existing disk path: named"
is "$(sums "$CONF" "$VMS")" "$before" "existing name or disk path: nothing changed"
rm -rf "$VMS/web"

# --- failure halfway: nothing left behind ------------------------------------
before=$(sums "$CONF" "$VMS"; ls -R "$VMS")
run env PATH=/nonexistent "$NVQCTL" create nq --disk 1M
is "$RC" 1 "qemu-img missing from PATH: exit 1"
like "$ERR" "*qemu-img not found*" "qemu-img missing: says so"
mkdir -p "$TMP/ro" && chmod 555 "$TMP/ro"
printf 'VM_DIR=%s\n' "$TMP/ro/vms" >"$TMP/ro.conf"
cp "$NVQCTL_CONFDIR/nvqctl.conf" "$TMP/saved.conf"
cp "$TMP/ro.conf" "$NVQCTL_CONFDIR/nvqctl.conf"
if [ "$(id -u)" = 0 ]; then
	# root writes anywhere: a fake qemu-img fails the second disk instead.
	mkdir -p "$TMP/fake"
	cat >"$TMP/fake/qemu-img" <<FAKE
#!/bin/sh
case "\$*" in *disk1*) echo "qemu-img: disk full" >&2; exit 1 ;; esac
exec $(command -v qemu-img) "\$@"
FAKE
	chmod +x "$TMP/fake/qemu-img"
	run env PATH="$TMP/fake:$PATH" "$NVQCTL" create half --disk 1M --disk 1M
	like "$ERR" "*disk full*" "failure at the second disk: QEMU's message"
	ls -A "$TMP/ro" | grep -q .
	is $? 1 "failure at the second disk: VM_DIR and the first disk removed"
	# A directory even root cannot write to: Linux's sysfs.
	if [ -d /sys/kernel ]; then
		printf 'VM_DIR=/sys/nvqctl-test-%s\n' $$ >"$NVQCTL_CONFDIR/nvqctl.conf"
		run "$NVQCTL" create half --disk 1M
		is "$RC" 1 "unwritable directory (sysfs): exit 1"
		like "$ERR" "*/sys/nvqctl-test-*" "unwritable directory: named"
	fi
else
	run "$NVQCTL" create half --disk 1M
	is "$RC" 1 "unwritable VM_DIR parent: exit 1"
	is "$(ls -A "$TMP/ro")" "" "unwritable directory: nothing left"
fi
cp "$TMP/saved.conf" "$NVQCTL_CONFDIR/nvqctl.conf"
# A TERM while qemu-img works: what was made is removed, then exit 1.
mkdir -p "$TMP/slow"
cat >"$TMP/slow/qemu-img" <<SLOW
#!/bin/sh
case "\$1" in create) sleep 2 ;; esac
exec $(command -v qemu-img) "\$@"
SLOW
chmod +x "$TMP/slow/qemu-img"
env PATH="$TMP/slow:$PATH" "$NVQCTL" create term --disk 1M >/dev/null 2>"$TMP/term.err" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
is "$?" 1 "TERM during create: exit 1"
like "$(cat "$TMP/term.err")" "*interrupted by SIGTERM*" "TERM during create: says so"
[ ! -e "$VMS/term" ] && [ ! -e "$CONF/term.conf" ]
ok $? "TERM during create: nothing left behind"
[ ! -e "$CONF/nq.conf" ] && [ ! -e "$CONF/half.conf" ]
ok $? "failures: no config written"
is "$(sums "$CONF" "$VMS"; ls -R "$VMS")" "$before" "failures: nothing else changed"

# --- clone -------------------------------------------------------------------
run "$NVQCTL" create src --disk 8M:qcow2 --network tap7:52:54:00:aa:bb:cc
is "$RC" 0 "create src with a MAC written: exit 0"
run "$NVQCTL" clone src dst
is "$RC" 0 "clone: exit 0"
unlike "$OUT" "*100%*" "clone in a pipe: no progress shown"
like "$OUT" "*MACs written in NETWORK were dropped*" "clone: says the MAC was dropped"
grep -q '52:54:00:aa:bb:cc' "$CONF/dst.conf"
is $? 1 "clone: the MAC written is not in DST's config"
grep -qx '	tap7' "$CONF/dst.conf"
ok $? "clone: the NIC itself kept"
is "$(vsize "$VMS/dst/disk0.qcow2")" 8388608 "clone: the disk copied into VM_DIR/DST"
run "$NVQCTL" clone --linked --json src dst2
is "$RC" 0 "clone --linked --json: exit 0"
like "$OUT" '*"backing":"'"$VMS"'/src/disk0.qcow2"*' "clone --linked: JSON names the backing file"
before=$(sums "$CONF" "$VMS")
run "$NVQCTL" clone src dst
is "$RC" 1 "clone onto an existing VM: exit 1"
is "$(sums "$CONF" "$VMS")" "$before" "clone onto an existing VM: nothing changed"
# On a terminal a full copy shows qemu-img's progress; in a pipe not.
if script -qec true /dev/null >/dev/null 2>&1; then
	out=$(script -qec "\"$NVQCTL\" clone src tty1" /dev/null | tr '\r' '\n')
	like "$out" "*(100.00/100%)*created tty1 from src*" \
	    "clone on a terminal: the copy's progress shown"
fi
run "$NVQCTL" clone src ../x
is "$RC" 2 "clone to a bad name: exit 2"

# --- snapshot (stopped) ------------------------------------------------------
run "$NVQCTL" snapshot two create s1
is "$RC" 1 "snapshot with a raw disk: exit 1"
like "$ERR" "*disk $VMS/two/disk0.img is raw*" "snapshot: the raw disk named"
run "$NVQCTL" snapshot src create 42
is "$RC" 2 "snapshot named by a number: exit 2"
run "$NVQCTL" snapshot src frob s1
is "$RC" 2 "snapshot frob: exit 2"
run "$NVQCTL" snapshot src create s1
is "$RC" 0 "snapshot create: exit 0"
run "$NVQCTL" snapshot src create s1
is "$RC" 1 "snapshot create of an existing name: exit 1"
run "$NVQCTL" snapshot --json src list
jcheck 'assert(t.vm == "src" and #t.snapshots == 1 and t.snapshots[1].name == "s1"
	and #t.snapshots[1].disks == 1 and type(t.snapshots[1].time) == "number")'
ok $? "snapshot list --json: one snapshot s1 on one disk"
run "$NVQCTL" snapshot src revert nosuch
is "$RC" 1 "snapshot revert of an unknown name: exit 1"
run "$NVQCTL" snapshot src delete s1
is "$RC" 0 "snapshot delete: exit 0"
run "$NVQCTL" snapshot --json src list
like "$OUT" '*"snapshots":[[]]*' "snapshot list --json: an empty list is []"

# --- disk add / resize -------------------------------------------------------
printf '# a comment kept\nNCPU=1 # kept too\n' >"$CONF/ed.conf"
printf 'DISKS="\n\t%s:raw\n"\nMEMORY=256\n' "$VMS/two/disk0.img" >>"$CONF/ed.conf"
cp "$CONF/ed.conf" "$TMP/ed.before"
run "$NVQCTL" disk ed add 2M:qcow2
is "$RC" 0 "disk add: exit 0"
is "$(sed -n 1,2p "$CONF/ed.conf"; sed -n '$p' "$CONF/ed.conf")" \
    "$(sed -n 1,2p "$TMP/ed.before"; sed -n '$p' "$TMP/ed.before")" \
    "disk add: the rest of the file kept"
grep -q "	$VMS/ed/disk1.qcow2:qcow2" "$CONF/ed.conf"
ok $? "disk add: the new disk appended to DISKS"
is "$(vsize "$VMS/ed/disk1.qcow2")" 2097152 "disk add: made in VM_DIR/VM"
run "$NVQCTL" disk ed resize disk1.qcow2 4M
is "$RC" 0 "disk resize: exit 0"
is "$(vsize "$VMS/ed/disk1.qcow2")" 4194304 "disk resize: grown"
run "$NVQCTL" disk ed resize hd1 1M
is "$RC" 1 "disk resize smaller: exit 1"
like "$ERR" "*only grown*" "disk resize smaller: says why"
run "$NVQCTL" disk ed resize nosuch 1M
is "$RC" 1 "disk resize of an unknown disk: exit 1"
run "$NVQCTL" disk ed add 1Q
is "$RC" 2 "disk add 1Q: exit 2"

# --- a running VM under NVMM: no live snapshot, the stopped form offered ----
# (a fake VM: the refusal comes before any QMP call.)
: >"$TMP/desc"
"$NVQCTL" create nv --disk 1M:qcow2 >/dev/null
fake_vm nv "$TMP/desc"
echo nvmm >"$NVQCTL_RUNDIR/nv/accel"
run "$NVQCTL" snapshot nv create s1
is "$RC" 1 "NVMM: live snapshot refused, exit 1"
is "$ERR" "nvqctl: live snapshots are not possible with accelerator nvmm; stop the VM and snapshot it stopped" \
    "NVMM: says so, and offers the stopped form"
run "$NVQCTL" clone nv nv2
is "$RC" 1 "clone of a running VM with a writable disk: exit 1"
like "$ERR" "*nv is running and may write to $VMS/nv/disk0.qcow2*:ro in DISKS*" \
    "clone of a running VM: names the disk and the way out"
sed 's/disk0.qcow2:qcow2$/disk0.qcow2:qcow2:ro/' "$CONF/nv.conf" >"$TMP/nv.conf"
cat "$TMP/nv.conf" >"$CONF/nv.conf"
run "$NVQCTL" clone --linked nv nv2
is "$RC" 0 "clone of a running VM whose disks are all read-only: exit 0"
grep -q "disk0.qcow2:qcow2:ro" "$CONF/nv2.conf"
is $? 1 "clone: DST's disk is writable"
like "$OUT" "*note: $VMS/nv2/disk0.qcow2 is writable in nv2*" "clone: says so"
fake_stop

# --- a 0.1-style config: DISKS through a variable ------------------------------
mkdir -p "$TMP/old"
qemu-img create -q -f qcow2 "$TMP/old/root.img" 8M
printf '# old style\nVMDIR=%s\nDISKS="\n\t${VMDIR}/root.img:qcow2\n"\nMEMORY=256\n' \
    "$TMP/old" >"$CONF/old.conf"
cp "$CONF/old.conf" "$TMP/old.before"
run "$NVQCTL" disk old add 1M
is "$RC" 0 "disk add, DISKS through \${VMDIR}: exit 0"
is "$(diff "$TMP/old.before" "$CONF/old.conf" | sed -n 's/^> //p')" \
    "	$VMS/old/disk1.img:raw" \
    "disk add: one line added before the closing quote, \${VMDIR} kept"
run "$NVQCTL" clone old old2
is "$RC" 0 "clone, DISKS through \${VMDIR}: exit 0"
grep -qx "# unused now: VMDIR=$TMP/old" "$CONF/old2.conf"
ok $? "clone: the variable DISKS no longer uses is commented out"
run "$NVQCTL" dryrun old2
like "$OUT" "*file=$VMS/old2/root.img,format=qcow2*file=$VMS/old2/disk1.img,format=raw*" \
    "clone: both disks copied into VM_DIR/DST, wherever they were"
