#!/bin/sh
# vnc.t: nvqctl vnc without QEMU: no display is an error, a stopped VM's
# display is described with a warning, a bad VNC line names file:line:key
# and stops dryrun; dryrun shows the seed and the display.
. "$(dirname "$0")/../lib.sh"

echo "VM_DIR=$TMP/vms" >"$NVQCTL_CONFDIR/nvqctl.conf"
vmconf none <<'CONF'
SERIAL=no
CONF
run "$NVQCTL" vnc none
is "$RC" 1 "VNC=no: exit 1"
like "$ERR" "*none has no VNC display (VNC=no in *none.conf)*" "VNC=no: says so"

vmconf sock <<'CONF'
VNC=yes
CLOUD_INIT=yes
CONF
run "$NVQCTL" vnc sock
is "$RC" 0 "stopped VM with VNC=yes: exit 0"
like "$ERR" "*sock is not running; once started:*" "stopped VM: a warning"
like "$OUT" "*ssh -N -L 5900:$NVQCTL_RUNDIR/sock/vnc.sock root@*" \
    "stopped VM: the ssh -L line"
run "$NVQCTL" dryrun sock
like "$OUT" "*-vnc unix:$NVQCTL_RUNDIR/sock/vnc.sock*" "dryrun: the VNC socket"
like "$OUT" "*file.driver=vvfat,file.dir=$TMP/vms/sock/cidata,file.label=cidata*" \
    "dryrun: the cidata seed"
[ ! -e "$TMP/vms/sock" ]
ok $? "dryrun builds no seed"

vmconf tcp <<'CONF'
# a listener on every address, and no password
VNC=0.0.0.0:5901
CONF
run "$NVQCTL" dryrun tcp
is "$RC" 1 "VNC on TCP without a password: dryrun exits 1"
like "$ERR" "*tcp.conf:2: VNC: a TCP listener needs a password*" \
    "VNC on TCP without a password: file:line:key"
is "$OUT" "" "VNC on TCP without a password: no command line"
