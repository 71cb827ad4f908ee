# guest.sh: helpers for tests that boot the real test guest under QEMU.
# Sourced after tests/lib.sh.
GUEST_DIR=${NVQ_GUEST_DIR:-$TOP/build/guest}
QEMU=$(command -v qemu-system-x86_64)

if [ -z "$QEMU" ] || ! sh "$TOP/tests/guest/build.sh" "$GUEST_DIR" >"$TMP/guest-build.log" 2>&1; then
	echo "Bail out! cannot build the test guest (or no qemu-system-x86_64):"
	sed 's/^/# /' "$TMP/guest-build.log"
	exit 1
fi

# Every QEMU a test started is killed on the way out, whatever happened.
guest_cleanup() {
	for _p in "$NVQCTL_RUNDIR"/*/qemu.pid; do
		[ -f "$_p" ] || continue
		kill -CONT "$(cat "$_p")" 2>/dev/null
		kill -KILL "$(cat "$_p")" 2>/dev/null
	done
}
T_CLEANUP_HOOK=guest_cleanup

# guest_vm NAME AGENT [KERNEL-SWITCHES...]
# AGENT: isa-serial, virtio-serial or no.
guest_vm() {
	_name=$1 _agent=$2
	shift 2
	_ga=yes
	[ "$_agent" = no ] && _ga=no && _agent=isa-serial
	vmconf "$_name" <<CONF
QEMU_BIN=$QEMU
ACCEL=auto
NCPU=1
MEMORY=256M
SERIAL=yes
GUEST_AGENT=$_ga
GUEST_AGENT_METHOD=$_agent
VIRTIO_RNG=no
SHUTDOWN_TIMEOUT=60
GUEST=$GUEST_DIR
EXTRA_ARGS="-kernel \${GUEST}/vmlinuz -initrd \${GUEST}/initrd.img
  -append 'console=ttyS0 quiet $*'"
CONF
}

# wait_ready NAME [SECONDS]: until the guest's shell answers on the
# serial console (so acpid and qemu-ga are up).
wait_ready() {
	"$LUARUN" "$TOP/tests/integ/serial.lua" \
	    "$NVQCTL_RUNDIR/$1/serial.sock" ping "${2:-60}"
}

# qemu_pid NAME
qemu_pid() { cat "$NVQCTL_RUNDIR/$1/qemu.pid" 2>/dev/null; }

# gone PID: true when PID no longer runs (zombies count as gone).
gone() {
	! kill -0 "$1" 2>/dev/null && return 0
	case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) in
	Z*|X*|"") return 0 ;;
	esac
	return 1
}

# rung OUTPUT: the rung named in "stopped by RUNG after Ns".
rung() { printf '%s\n' "$1" | sed -n -e 's/.*stopped by \([a-z]*\) after.*/\1/p' -e 's/.*killed by \([a-z]*\) after.*/\1/p'; }

# running_count: how many QEMUs of this test run.
running_count() {
	_c=0
	for _p in "$NVQCTL_RUNDIR"/*/qemu.pid; do
		[ -f "$_p" ] && kill -0 "$(cat "$_p")" 2>/dev/null && _c=$((_c + 1))
	done
	echo $_c
}

# now: the time in seconds; secs T0 T1: T1 - T0 with two decimals.
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
