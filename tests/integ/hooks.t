#!/bin/sh
# Lua hooks against a real guest: phases in order with their reason and
# context, vetoes, post_stop exactly once for a QEMU that died behind
# nvqctl's back, permissions, time limits, and a hook that runs nvqctl
# on its own VM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

HK="$NVQCTL_CONFDIR/hooks"
LOG="$TMP/phases.log"
mkdir -p "$HK"
export LOG NVQCTL
guest_vm h1 no
echo "HOOK_TIMEOUT=3" >>"$NVQCTL_CONFDIR/vm/h1.conf"

# A recording hook for every phase, in all.lua and in h1.lua.
recorder() {	# recorder SCOPE
	cat <<LUA
local function rec(vm, ev)
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write(string.format("$1 %s %s %s %s\n", ev.phase, ev.reason or "-",
		ev.context, vm and vm.name or "-"))
	f:close()
end
return { pre_start = rec, post_start = rec, pre_stop = rec, post_stop = rec }
LUA
}
recorder all >"$HK/all.lua"
recorder h1 >"$HK/h1.lua"

phases() { tr '\n' ';' <"$LOG"; }

run "$NVQCTL" hooks h1
is "$RC" 0 "hooks h1: no problem"
like "$OUT" "*$HK/all.lua*post_start post_stop pre_start pre_stop*$HK/h1.lua*post_start post_stop pre_start pre_stop*" \
    "hooks h1: both files and their phases"
[ ! -s "$LOG" ]
ok $? "hooks h1: nothing was run"

: >"$LOG"
run "$NVQCTL" start h1
is "$RC" 0 "start with hooks: exit 0"
is "$(phases)" "all pre_start - manual h1;h1 pre_start - manual h1;h1 post_start - manual h1;all post_start - manual h1;" \
    "start: pre_start (all.lua first), post_start (all.lua last), context manual"
wait_ready h1 >/dev/null
: >"$LOG"
run "$NVQCTL" stop h1 60
is "$RC" 0 "stop with hooks: exit 0"
is "$(phases)" "all pre_stop - manual h1;h1 pre_stop - manual h1;h1 post_stop acpi manual h1;all post_stop acpi manual h1;" \
    "stop: pre_stop, then post_stop with reason acpi"

"$NVQCTL" start h1 >/dev/null 2>&1
: >"$LOG"
run "$NVQCTL" kill h1
is "$(phases)" "h1 post_stop killed manual h1;all post_stop killed manual h1;" \
    "kill: no pre_stop; post_stop with reason killed"

# QEMU killed behind nvqctl's back: the first commands to notice (two
# lists at once) run post_stop once, reason exited.
"$NVQCTL" start h1 >/dev/null 2>&1
pid=$(qemu_pid h1)
: >"$LOG"
kill -KILL "$pid"
n=0
while ! gone "$pid" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
"$NVQCTL" list >"$TMP/l1" 2>&1 &
"$NVQCTL" list >"$TMP/l2" 2>&1 &
wait
is "$(phases)" "h1 post_stop exited manual h1;all post_stop exited manual h1;" \
    "SIGKILL behind nvqctl's back: post_stop once, reason exited, from two lists at once"
"$NVQCTL" list >/dev/null 2>&1
"$NVQCTL" status h1 >/dev/null 2>&1
run "$NVQCTL" stop h1
like "$ERR" "*h1 is not running*" "stop after that: not running"
is "$(phases)" "h1 post_stop exited manual h1;all post_stop exited manual h1;" \
    "and post_stop did not run again"
is "$(ls "$NVQCTL_RUNDIR/h1" | tr '\n' ' ')" "lock " "the run directory is cleared"

# list --json stays JSON while a hook prints.
"$NVQCTL" start h1 >/dev/null 2>&1
pid=$(qemu_pid h1)
printf 'return { post_stop = function(vm) vm:log("bye"); print("x") end }\n' >"$HK/h1.lua"
kill -KILL "$pid"
n=0
while ! gone "$pid" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
run "$NVQCTL" list --json
like "$OUT" '\[*\]' "list --json: standard output is only JSON"
like "$ERR" "*h1: bye*x*" "list --json: the hook's lines on standard error"
rm "$HK/all.lua"

# Vetoes.
cat >"$HK/h1.lua" <<'LUA'
return { pre_start = function(vm, ev) return false, "no bridge for " .. vm.name end }
LUA
run "$NVQCTL" start h1
is "$RC" 1 "pre_start veto: exit 1"
like "$ERR" "*h1: not starting: $HK/h1.lua:1: pre_start says no: no bridge for h1*" \
    "pre_start veto: the hook's message, file:line"
is "$(ls "$NVQCTL_RUNDIR/h1" | tr '\n' ' ')" "lock " "pre_start veto: no QEMU, no run files"
cat >"$HK/h1.lua" <<'LUA'
return {
	pre_start = function(vm, ev)
		error("disk not mounted")
	end,
}
LUA
run "$NVQCTL" start h1
like "$ERR" "*not starting: $HK/h1.lua:3: disk not mounted*" "a pre_start that raises vetoes, file:line"
[ ! -e "$NVQCTL_RUNDIR/h1/qemu.pid" ]
ok $? "a pre_start that raises: no QEMU"

cat >"$HK/h1.lua" <<'LUA'
return { pre_stop = function(vm, ev)
	if ev.context == "manual" then return false, "backup running" end
end }
LUA
"$NVQCTL" start h1 >/dev/null 2>&1
pid=$(qemu_pid h1)
run "$NVQCTL" stop h1
is "$RC" 1 "pre_stop veto: a manual stop refused"
like "$ERR" "*h1: not stopping:*pre_stop says no: backup running*--force*" \
    "pre_stop veto: the message, and how to override"
kill -0 "$pid"
ok $? "pre_stop veto: the VM still runs"
run "$NVQCTL" stop --force h1 2
is "$RC" 0 "stop --force: the veto is overridden"
like "$ERR" "*warning: h1: pre_stop:*backup running; stopping all the same*" \
    "stop --force: says it went past the veto"
gone "$pid"
ok $? "stop --force: QEMU gone"

# Permissions (the tests run as root).
if [ "$(id -u)" = 0 ]; then
	printf 'return { post_stop = function() end }\n' >"$HK/h1.lua"
	chmod 664 "$HK/h1.lua"
	run "$NVQCTL" start h1
	is "$RC" 1 "a group-writable hook refuses the start"
	like "$ERR" "*$HK/h1.lua is writable by group (mode 0664; fix: chmod go-w $HK/h1.lua)*" \
	    "naming the file and the chmod that fixes it"
	run "$NVQCTL" hooks h1
	is "$RC" 1 "hooks h1: exit 1 for a refused file"
	like "$OUT" "*problem:*chmod go-w $HK/h1.lua*" "hooks h1: names the fix"
	chmod 644 "$HK/h1.lua"
	"$NVQCTL" start h1 >/dev/null 2>&1
	pid=$(qemu_pid h1)
	chmod 664 "$HK/h1.lua"
	run "$NVQCTL" stop --force h1 2
	is "$RC" 0 "a refused hook at stop: the VM still stops"
	like "$ERR" "*warning: h1:*chmod go-w $HK/h1.lua*" "a refused hook at stop: a warning"
	chmod 644 "$HK/h1.lua"
	chown 65534 "$HK"
	run "$NVQCTL" start h1
	like "$ERR" "*directory $HK is owned by uid 65534, not root (fix: chown root $HK)*" \
	    "a hooks directory not owned by root: the chown"
	chown 0 "$HK"
else
	for i in 1 2 3 4 5 6 7; do ok 0 "# SKIP not root"; done
fi

# Time limits (HOOK_TIMEOUT=3).
printf 'return { pre_start = function() while true do end end }\n' >"$HK/h1.lua"
t0=$(date +%s)
run "$NVQCTL" start h1
t1=$(date +%s)
is "$RC" 1 "a hook in an endless loop: start refused"
like "$ERR" "*$HK/h1.lua:1: still running past its time limit*" "a hook in an endless loop: stopped, file:line"
[ $((t1 - t0)) -le 10 ]
ok $? "a hook in an endless loop: stopped at its limit ($((t1 - t0))s)"
cat >"$HK/h1.lua" <<LUA
return { pre_start = function()
	local core = require "nvq.core"
	local r = core.run({ "/bin/sh", "-c", "sleep 1000 & echo \$! >$TMP/bg; sleep 1000" })
	if r.timedout then return false, "sleep took too long" end
end }
LUA
t0=$(date +%s)
run "$NVQCTL" start h1
t1=$(date +%s)
like "$ERR" "*pre_start says no: sleep took too long*" "a hook running sleep 1000: its program killed at the limit"
[ $((t1 - t0)) -le 10 ]
ok $? "a hook running sleep 1000: stopped at its limit ($((t1 - t0))s)"
n=0
while ! gone "$(cat "$TMP/bg")" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
gone "$(cat "$TMP/bg")"
ok $? "a hook running sleep 1000: the program's children are killed too"

# Stuck inside one C call: the child is killed at HOOK_TIMEOUT (3 s)
# all the same, and the start refused as for a hook error.
mkfifo "$TMP/fifo"
for code in "io.open('$TMP/fifo', 'r')" \
    '("x"):rep(40):match(("x*"):rep(40) .. "y")'; do
	printf 'return { pre_start = function() %s end }\n' "$code" >"$HK/h1.lua"
	t0=$(date +%s.%N)
	run "$NVQCTL" start h1
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc)
	is "$RC" 1 "$code: start refused"
	like "$ERR" "*not starting: $HK/h1.lua:1: still running past its time limit; stopped*" \
	    "$code: reported, file:line"
	[ "$(echo "$secs >= 3 && $secs <= 3.3 + 0.4" | bc)" = 1 ]
	ok $? "$code: ended at HOOK_TIMEOUT (${secs}s for the whole start; 3 s + 0.3)"
done
# The same in post_start: the VM starts, with a warning.
printf 'return { post_start = function() io.open("%s", "r") end }\n' \
    "$TMP/fifo" >"$HK/h1.lua"
run "$NVQCTL" start h1
is "$RC" 0 "a post_start stuck in io.open: the start goes on"
like "$ERR" "*warning: h1: post_start hook: $HK/h1.lua:1: still running past its time limit*" \
    "a post_start stuck in io.open: a warning"
"$NVQCTL" kill h1 >/dev/null 2>&1

# Memory: a hook growing a table without end is stopped at LUA_MEMORY;
# the nvqctl that called it does not grow (its peak RSS, VmHWM).
echo "LUA_MEMORY=64" >>"$NVQCTL_CONFDIR/vm/h1.conf"
echo "HOOK_TIMEOUT=60" >>"$NVQCTL_CONFDIR/vm/h1.conf"
cat >"$HK/h1.lua" <<'LUA'
return { pre_start = function()
	local t, i = {}, 0
	while true do i = i + 1; t[i] = { i, tostring(i) } end
end }
LUA
"$NVQCTL" start h1 >"$TMP/out" 2>"$TMP/err" &
npid=$!
hwm=0
while kill -0 "$npid" 2>/dev/null; do
	h=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$npid/status" 2>/dev/null)
	[ -n "$h" ] && hwm=$h
	sleep 0.05
done
wait "$npid"
RC=$?
ERR=$(cat "$TMP/err")
is "$RC" 1 "a hook growing a table: start refused"
like "$ERR" "*$HK/h1.lua:1: out of memory: past its cap of 64 MiB (LUA_MEMORY); stopped*" \
    "a hook growing a table: stopped at the memory cap, saying so"
[ "$hwm" -gt 0 ] && [ "$hwm" -lt 8192 ]
ok $? "a hook growing a table: nvqctl's own peak RSS stays small (${hwm} kB < 8 MiB)"
sed -i '/^LUA_MEMORY=/d; /^HOOK_TIMEOUT=60/d' "$NVQCTL_CONFDIR/vm/h1.conf"

# A hook reached through a symlink: the directories of its target and the
# symlink itself must be root's (nvqctl hooks says so, start refuses).
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$TMP/nobody"
	printf 'return { pre_start = function() end }\n' >"$TMP/nobody/h.lua"
	chown 65534 "$TMP/nobody"
	ln -sf "$TMP/nobody/h.lua" "$HK/h1.lua"
	run "$NVQCTL" hooks h1
	is "$RC" 1 "hooks h1: a target in a directory owned by nobody is refused"
	like "$OUT" "*directory $TMP/nobody is owned by uid 65534, not root (fix: chown root $TMP/nobody)*" \
	    "hooks h1: naming the directory of the target"
	chown 0 "$TMP/nobody"
	rm "$HK/h1.lua"
	ln -s "$TMP/nobody/h.lua" "$HK/h1.lua"
	chown -h 65534 "$HK/h1.lua"
	run "$NVQCTL" hooks h1
	is "$RC" 1 "hooks h1: a symlink owned by nobody is refused"
	like "$OUT" "*symlink $HK/h1.lua is owned by uid 65534, not root (fix: chown -h root $HK/h1.lua)*" \
	    "hooks h1: naming the symlink"
	chown -h 0 "$HK/h1.lua"
	run "$NVQCTL" hooks h1
	is "$RC" 0 "hooks h1: a root-owned symlink into a root-owned directory is fine"
	rm -f "$HK/h1.lua"
else
	for i in 1 2 3 4 5; do ok 0 "# SKIP not root"; done
fi

# nvqctl from a hook: on another VM it works, on its own it fails at once.
guest_vm other no
cat >"$HK/h1.lua" <<'LUA'
local core = require "nvq.core"
local function nvqctl(...)
	local t0 = core.now()
	local r = core.run({ os.getenv("NVQCTL"), ... }, { stdout = "capture",
		stderr = "capture" })
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write(string.format("%s rc=%s %.1fs %s", table.concat({...}, " "),
		tostring(r.status), core.now() - t0, r.stdout .. r.stderr))
	f:close()
end
return { post_start = function(vm)
	nvqctl("status", "other")
	nvqctl("stop", vm.name)
end }
LUA
: >"$LOG"
run "$NVQCTL" start h1
is "$RC" 0 "start with a hook running nvqctl: exit 0"
like "$(cat "$LOG")" "*status other rc=0*other is stopped*" "a hook runs nvqctl on another VM"
like "$(cat "$LOG")" "*stop h1 rc=1 0.*s nvqctl: h1: the nvqctl command (pid *) whose hook this runs under holds this VM's lock; a hook cannot run nvqctl on its own VM*" \
    "nvqctl on its own VM from a hook: fails at once, saying why"
rm -f "$HK/h1.lua"
run "$NVQCTL" stop --force h1 2
is "$RC" 0 "later, from outside, the VM stops"
