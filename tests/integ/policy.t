#!/bin/sh
# A policy in the config directory replaces the built-in one; its errors
# are reported as file:line and a runaway policy is stopped.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

mkdir -p "$NVQCTL_CONFDIR/policies"
pol="$NVQCTL_CONFDIR/policies/shutdown.lua"
guest_vm p1 no
"$NVQCTL" start p1 >/dev/null
pid=$(qemu_pid p1)

cat >"$pol" <<'LUA'
return { stop = function(vm, opt)
	error("boom")
end }
LUA
run "$NVQCTL" stop p1 5
is "$RC" 1 "a failing policy: exit 1"
like "$ERR" "*shutdown policy failed:*policies/shutdown.lua:2: boom*" \
    "a failing policy: file:line and message"
kill -0 "$pid"
ok $? "a failing policy: VM left running"

cat >"$pol" <<'LUA'
return { stop = function(vm, opt)
	while true do end
end }
LUA
t0=$(date +%s)
run "$NVQCTL" stop p1 1
t1=$(date +%s)
is "$RC" 1 "a runaway policy: exit 1"
like "$ERR" "*past its time limit*" "a runaway policy: stopped by the count hook"
[ $((t1 - t0)) -le 30 ]
ok $? "a runaway policy: stopped within its bound ($((t1 - t0))s)"

echo 'local P = {}' >"$pol"
run "$NVQCTL" stop p1 5
is "$RC" 1 "a policy that returns no module: exit 1"
like "$ERR" "*shutdown policy (*policies/shutdown.lua) does not export stop()*" \
    "a policy that returns no module: says so"

cat >"$pol" <<'LUA'
return { stop = function(vm, opt) return "wishful" end }
LUA
run "$NVQCTL" stop p1 5
is "$RC" 1 "a policy claiming a stop that did not happen: exit 1"
like "$ERR" "*says wishful stopped it, but QEMU (pid $pid) is still running*" \
    "a policy claiming a stop: the claim is checked"
[ -f "$NVQCTL_RUNDIR/p1/qemu.pid" ] && [ -S "$NVQCTL_RUNDIR/p1/control.sock" ]
ok $? "a policy claiming a stop: the live VM's files are kept"
run "$NVQCTL" status p1
like "$OUT" "p1 is running*" "a policy claiming a stop: the VM is still managed"

cat >"$pol" <<'LUA'
-- A user's ladder: straight to QMP quit.
return { stop = function(vm, opt)
	vm:log("custom policy, %ds", opt.timeout)
	assert(vm:quit(vm:now() + 2))
	if vm:wait_exit(opt.deadline) then return "custom-quit" end
	return nil, "no exit"
end }
LUA
run "$NVQCTL" stop p1 7
is "$RC" 0 "user policy: exit 0"
like "$OUT" "*custom policy, 7s*stopped by custom-quit after*" \
    "user policy replaced the built-in one"
gone "$pid"
ok $? "user policy: QEMU gone"
