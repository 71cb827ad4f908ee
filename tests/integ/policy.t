#!/bin/sh
# Shutdown policies: a file in the config directory replaces the built-in
# one, SHUTDOWN_POLICY picks one per VM, and a broken user policy never
# leaves a VM half-stopped: it is reported as file:line and the stop is
# finished by the built-in ladder; one that runs away is killed at its
# deadline and, with --force, the VM forced at once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

mkdir -p "$NVQCTL_CONFDIR/policies"
pol="$NVQCTL_CONFDIR/policies/shutdown.lua"
guest_vm p1 no

up() {	# a fresh run of p1, ready for ACPI
	"$NVQCTL" start p1 >/dev/null 2>&1
	pid=$(qemu_pid p1)
	wait_ready p1 >/dev/null
}

up
cat >"$pol" <<'LUA'
return { stop = function(vm, opt)
	error("boom")
end }
LUA
run "$NVQCTL" stop p1 30
is "$RC" 0 "a policy that raises: the stop still succeeds"
like "$ERR" "*shutdown policy failed:*policies/shutdown.lua:2: boom; finishing the stop with the built-in ladder*" \
    "a policy that raises: file:line, and the fallback named"
like "$OUT" "*stopped by acpi after*" "a policy that raises: the built-in ladder stopped it"
gone "$pid"
ok $? "a policy that raises: QEMU gone"

up
cat >"$pol" <<'LUA'
-- Catches every error, the time limit's too, and goes on.
return { stop = function(vm, opt)
	while true do
		pcall(function() while true do end end)
	end
end }
LUA
echo "SHUTDOWN_TIMEOUT=8" >>"$NVQCTL_CONFDIR/vm/p1.conf"
t0=$(date +%s.%N)
run "$NVQCTL" stop --force p1
t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
sed -i '/^SHUTDOWN_TIMEOUT=8/d' "$NVQCTL_CONFDIR/vm/p1.conf"
is "$RC" 0 "a policy looping inside its own pcall: the stop succeeds"
like "$ERR" "*policies/shutdown.lua:2: still running past its time limit; stopped*" \
    "a policy looping inside its own pcall: stopped by the limit, file:line"
like "$OUT" "*forcing: QMP quit*stopped by quit after*" "then the forced rungs, at once"
[ "$(echo "$secs <= 16" | bc)" = 1 ]
ok $? "a runaway policy, SHUTDOWN_TIMEOUT=8, stop --force: VM gone in ${secs}s (<= 16)"
gone "$pid"
ok $? "a runaway policy: QEMU gone"

up
echo 'local P = {}' >"$pol"
run "$NVQCTL" stop p1 30
is "$RC" 0 "a policy that returns no module: the stop succeeds"
like "$ERR" "*shutdown policy (*policies/shutdown.lua) does not export stop()*" \
    "a policy that returns no module: says so"

up
cat >"$pol" <<'LUA'
return { stop = function(vm, opt) return "wishful" end }
LUA
run "$NVQCTL" stop p1 30
is "$RC" 0 "a policy claiming a stop that did not happen: the stop succeeds"
like "$ERR" "*says wishful stopped it, but QEMU (pid $pid) is still running*" \
    "a policy claiming a stop: the claim is checked"
like "$OUT" "*stopped by acpi*" "a policy claiming a stop: the built-in ladder finished"

up
cat >"$pol" <<'LUA'
return { stop = function(vm, opt) return 42 end }
LUA
run "$NVQCTL" stop p1 30
is "$RC" 0 "a policy returning nonsense: the stop succeeds"
like "$ERR" "*returned a number, not the name of a rung*" "and says what was wrong"

# A user's ladder: straight to QMP quit, chosen by SHUTDOWN_POLICY.
rm -f "$pol"
cat >"$NVQCTL_CONFDIR/policies/quick.lua" <<'LUA'
return { stop = function(vm, opt)
	vm:log("custom policy, %ds", opt.timeout)
	assert(vm:quit(vm:now() + 2))
	if vm:wait_exit(opt.deadline) then return "custom-quit" end
	return nil, "no exit"
end }
LUA
echo "SHUTDOWN_POLICY=quick" >>"$NVQCTL_CONFDIR/vm/p1.conf"
up
run "$NVQCTL" policy list
like "$OUT" "*quick*$NVQCTL_CONFDIR/policies/quick.lua*p1*" "policy list: quick, its file, p1 uses it"
like "$OUT" "*shutdown*built-in*" "policy list: shutdown is the built-in one"
run "$NVQCTL" stop p1 7
is "$RC" 0 "SHUTDOWN_POLICY=quick: exit 0"
like "$OUT" "*custom policy, 7s*stopped by custom-quit after*" \
    "SHUTDOWN_POLICY=quick: that policy ran"
gone "$pid"
ok $? "user policy: QEMU gone"

sed -i 's/^SHUTDOWN_POLICY=quick/SHUTDOWN_POLICY=nosuch/' "$NVQCTL_CONFDIR/vm/p1.conf"
run "$NVQCTL" start p1
is "$RC" 1 "an unknown SHUTDOWN_POLICY: start refused"
like "$ERR" "*p1.conf:*: SHUTDOWN_POLICY: no policy named nosuch*" \
    "an unknown SHUTDOWN_POLICY: file:line: key"
[ ! -e "$NVQCTL_RUNDIR/p1/qemu.pid" ]
ok $? "an unknown SHUTDOWN_POLICY: no QEMU"
sed -i '/^SHUTDOWN_POLICY=/d' "$NVQCTL_CONFDIR/vm/p1.conf"

# policy show prints a source that works as an override.
"$NVQCTL" policy show shutdown >"$TMP/shutdown.lua"
mv "$TMP/shutdown.lua" "$pol"
run "$NVQCTL" policy show --builtin shutdown
is "$OUT" "$(cat "$pol")" "policy show = policy show --builtin with no override"
run "$NVQCTL" policy list
like "$OUT" "*shutdown*$pol (overrides the built-in one)*p1*" \
    "policy list: the override and where it is from"
up
run "$NVQCTL" stop p1 30
is "$RC" 0 "policy show's output as an override: exit 0"
like "$OUT" "*stopped by acpi after*" "policy show's output as an override: it ran"
unlike "$ERR" "*warning*" "policy show's output as an override: no fallback"

# A SHUTDOWN_POLICY whose file is removed while the VM runs: reported,
# and the built-in ladder stops the VM cleanly (ACPI: no agent here),
# pre_stop run, for stop, stop --force and stopall alike.
mkdir -p "$NVQCTL_CONFDIR/hooks"
cat >"$NVQCTL_CONFDIR/hooks/p1.lua" <<LUA
return { pre_stop = function(vm, ev)
	local f = assert(io.open("$TMP/prestop", "a"))
	f:write(ev.context, "\n")
	f:close()
end }
LUA
rm -f "$pol"
printf 'return { stop = function() return nil, "x" end }\n' \
    >"$NVQCTL_CONFDIR/policies/mine.lua"
echo "SHUTDOWN_POLICY=mine" >>"$NVQCTL_CONFDIR/vm/p1.conf"
for how in stop force stopall; do
	up
	rm -f "$NVQCTL_CONFDIR/policies/mine.lua" "$TMP/prestop"
	case $how in
	stop) run "$NVQCTL" stop p1 30 ;;
	force) run "$NVQCTL" stop --force p1 30 ;;
	stopall) run "$NVQCTL" stopall --timeout 30 p1 ;;
	esac
	is "$RC" 0 "policy removed while running, $how: exit 0"
	like "$ERR" "*no policy named mine*$NVQCTL_CONFDIR/policies/mine.lua*" \
	    "policy removed while running, $how: the missing file is reported"
	like "$OUT$ERR" "*stopped by acpi*" \
	    "policy removed while running, $how: stopped by ACPI, not quit"
	unlike "$OUT$ERR" "*forcing*" "policy removed while running, $how: no forcing"
	[ -s "$TMP/prestop" ]
	ok $? "policy removed while running, $how: pre_stop ran"
	gone "$pid"
	ok $? "policy removed while running, $how: QEMU gone"
	printf 'return { stop = function() return nil, "x" end }\n' \
	    >"$NVQCTL_CONFDIR/policies/mine.lua"
done
sed -i '/^SHUTDOWN_POLICY=/d' "$NVQCTL_CONFDIR/vm/p1.conf"
rm -f "$NVQCTL_CONFDIR/hooks/p1.lua" "$NVQCTL_CONFDIR/policies/mine.lua"

# policy show of a user file prints it, exit 0; a directory is an error.
printf 'return {}\n' >"$NVQCTL_CONFDIR/policies/mine.lua"
run "$NVQCTL" policy show mine
is "$RC" 0 "policy show of a user policy: exit 0"
is "$OUT" "return {}" "policy show of a user policy: its text"
is "$ERR" "" "policy show of a user policy: nothing on standard error"
rm "$NVQCTL_CONFDIR/policies/mine.lua"
mkdir "$NVQCTL_CONFDIR/policies/mine.lua"
run "$NVQCTL" policy show mine
is "$RC" 1 "policy show of a directory: exit 1"
like "$ERR" "nvqctl: $NVQCTL_CONFDIR/policies/mine.lua: Is a directory*" \
    "policy show of a directory: says what is wrong"
rmdir "$NVQCTL_CONFDIR/policies/mine.lua"

# examples/policies/acpi-then-quit.lua: a guest that ignores ACPI is
# quit at the timeout, without --force.
rm -f "$pol"
cp "$TOP/examples/policies/acpi-then-quit.lua" "$NVQCTL_CONFDIR/policies/"
guest_vm p2 no nvq.noacpi
echo "SHUTDOWN_POLICY=acpi-then-quit" >>"$NVQCTL_CONFDIR/vm/p2.conf"
"$NVQCTL" start p2 >/dev/null 2>&1
pid=$(qemu_pid p2)
wait_ready p2 >/dev/null
run "$NVQCTL" stop p2 3
is "$RC" 0 "example acpi-then-quit: exit 0 without --force"
like "$OUT" "*sent ACPI power-button press*still running after 3s; quitting*stopped by quit after*" \
    "example acpi-then-quit: ACPI, then quit at the timeout"
gone "$pid"
ok $? "example acpi-then-quit: QEMU gone"
