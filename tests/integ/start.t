#!/bin/sh
# start's failure modes, concurrency and stale state, with a real QEMU.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

# QEMU's own error reaches the user, not lost behind -daemonize.
guest_vm bad no
echo 'EXTRA_ARGS="-drive file=/nonexistent/x.img,if=virtio"' >>"$NVQCTL_CONFDIR/vm/bad.conf"
run "$NVQCTL" start bad
is "$RC" 1 "failing QEMU: exit 1"
like "$ERR" "*QEMU failed to start*qemu-system-x86_64: -drive file=/nonexistent/x.img*" \
    "failing QEMU: its message is shown"
[ ! -e "$NVQCTL_RUNDIR/bad/qemu.pid" ] && [ ! -e "$NVQCTL_RUNDIR/bad/monitor.sock" ]
ok $? "failing QEMU: no runtime files left"

# PRE_START: a non-zero exit stops the start; it gets the VM name.
guest_vm hook no
cat >"$TMP/hook" <<'SH'
#!/bin/sh
echo "hook for $1" >"${0%/*}/hook.ran"
exit 3
SH
chmod +x "$TMP/hook"
echo "PRE_START=$TMP/hook" >>"$NVQCTL_CONFDIR/vm/hook.conf"
run "$NVQCTL" start hook
is "$RC" 1 "failing PRE_START: exit 1"
like "$ERR" "*pre-start hook*failed (exit 3)*" "failing PRE_START: says so"
is "$(cat "$TMP/hook.ran")" "hook for hook" "PRE_START got the VM name"
[ ! -e "$NVQCTL_RUNDIR/hook/qemu.pid" ]
ok $? "failing PRE_START: QEMU not started"

# A stale pidfile naming a live, unrelated process is not a VM.
guest_vm stale no
sleep 300 &
other=$!
mkdir -p "$NVQCTL_RUNDIR/stale"
echo "$other" >"$NVQCTL_RUNDIR/stale/qemu.pid"
: >"$NVQCTL_RUNDIR/stale/monitor.sock"
run "$NVQCTL" status stale
like "$OUT" "stale is stopped*stale:*qemu.pid*" "stale pidfile: stopped, stale files noted"
run "$NVQCTL" list
like "$OUT" "*stale*stopped*" "stale pidfile: list says stopped"
run "$NVQCTL" start stale
is "$RC" 0 "stale pidfile: start works"
[ "$(qemu_pid stale)" != "$other" ]
ok $? "stale pidfile: replaced by QEMU's"
kill -0 "$other"
ok $? "stale pidfile: the unrelated process was left alone"
kill "$other"
"$NVQCTL" kill stale >/dev/null 2>&1

# Twenty starts at once: one QEMU, nineteen clear refusals.
guest_vm many no
i=0
while [ $i -lt 20 ]; do
	"$NVQCTL" start many >"$TMP/s.$i.out" 2>"$TMP/s.$i.err" &
	i=$((i + 1))
done
wait
started=$(cat "$TMP"/s.*.out | grep -c 'started, pid')
refused=$(cat "$TMP"/s.*.err | grep -c 'many is already running')
is "$started" 1 "20 concurrent starts: exactly one started"
is "$refused" 19 "20 concurrent starts: nineteen say it is already running"
n=$(pgrep -f "qemu-system-x86_64 -name many" | wc -l)
is "$n" 1 "20 concurrent starts: one QEMU process"
"$NVQCTL" kill many >/dev/null 2>&1
