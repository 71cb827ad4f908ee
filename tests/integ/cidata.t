#!/bin/sh
# cidata.t: CLOUD_INIT=yes with the real guest (nvq.cidata): the guest
# finds the volume labelled cidata and reads the files nvqctl put there
# (md5sums compared with the host's); an unchanged user-data does not
# rebuild the seed at the next start, a changed one is rebuilt and seen.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

VMS=$TMP/vms
echo "VM_DIR=$VMS" >"$NVQCTL_CONFDIR/nvqctl.conf"
CI=$NVQCTL_CONFDIR/cloud-init/ci
mkdir -p "$CI"
printf '#cloud-config\nhostname: first\n' >"$CI/user-data"
guest_vm ci no nvq.cidata
echo CLOUD_INIT=yes >>"$NVQCTL_CONFDIR/vm/ci.conf"
SEED=$VMS/ci/cidata

sum() { md5sum <"$1" | cut -d' ' -f1; }
# guest_sums: "META USER" as the guest read them from the seed.
guest_sums() {
	"$LUARUN" "$TOP/tests/integ/serial.lua" \
	    "$NVQCTL_RUNDIR/ci/serial.sock" run 30 'cat /run/nvq-cidata' |
	    tr -d '\r' |
	    awk '$2 == "meta-data" { m = $1 } $2 == "user-data" { u = $1 }
	        END { print m, u }'
}
stamp() { stat -c '%i %Y %y' "$VMS/ci/cidata.stamp" 2>/dev/null; }

# --- first start: the seed is built, the guest reads it ---------------------
run "$NVQCTL" start ci
is "$RC" 0 "start with CLOUD_INIT=yes: exit 0"
like "$OUT" "*cloud-init seed built*" "first start: the seed is built"
is "$(stat -c %a "$VMS/ci")" 700 "VM_DIR/ci is made 0700"
like "$(cat "$SEED/meta-data")" "instance-id: ci-*
local-hostname: ci" "meta-data generated: instance-id, local-hostname"
wait_ready ci 90 >/dev/null 2>&1
is "$(guest_sums)" "$(sum "$SEED/meta-data") $(sum "$CI/user-data")" \
    "the guest reads meta-data and user-data from the cidata volume"
iid1=$(sed -n 's/^instance-id: //p' "$SEED/meta-data")
"$NVQCTL" kill ci >/dev/null 2>&1

# --- unchanged inputs: nothing rebuilt --------------------------------------
before=$(stamp)
sleep 1.1
run "$NVQCTL" start ci
is "$RC" 0 "second start: exit 0"
unlike "$OUT" "*seed built*" "unchanged user-data: the seed is not rebuilt"
is "$(stamp)" "$before" \
    "unchanged user-data: the stamp keeps its inode and mtime"
"$NVQCTL" kill ci >/dev/null 2>&1

# --- changed user-data: rebuilt, seen by the guest --------------------------
printf '#cloud-config\nhostname: second\n' >"$CI/user-data"
run "$NVQCTL" start ci
is "$RC" 0 "start after user-data changed: exit 0"
like "$OUT" "*cloud-init seed built*" "changed user-data: the seed is rebuilt"
iid2=$(sed -n 's/^instance-id: //p' "$SEED/meta-data")
[ -n "$iid2" ] && [ "$iid1" != "$iid2" ]
ok $? "changed user-data: a new instance-id ($iid1 -> $iid2)"
wait_ready ci 90 >/dev/null 2>&1
is "$(guest_sums)" "$(sum "$SEED/meta-data") $(sum "$CI/user-data")" \
    "the guest reads the changed user-data at the next start"
"$NVQCTL" kill ci >/dev/null 2>&1

# --- a seed that cannot be made: QEMU is not started ------------------------
mkdir "$CI/../bad" && mkdir "$CI/../bad/user-data"
guest_vm bad no
echo CLOUD_INIT=yes >>"$NVQCTL_CONFDIR/vm/bad.conf"
run "$NVQCTL" start bad
is "$RC" 1 "unreadable user-data: exit 1"
like "$ERR" "*cloud-init*user-data: not a regular file*" \
    "unreadable user-data: says which file"
[ ! -e "$NVQCTL_RUNDIR/bad/qemu.pid" ]
ok $? "unreadable user-data: QEMU not started"
