#!/bin/sh
# Hooks under startall and stopall: all.lua's boot_* and shutdown_*
# phases around them, the VM phases inside with context boot and
# host-shutdown, and a pre_stop veto that stopall does not obey.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

HK="$NVQCTL_CONFDIR/hooks"
LOG="$TMP/phases.log"
mkdir -p "$HK"
export LOG
guest_vm b1 no
echo "AUTOSTART=yes" >>"$NVQCTL_CONFDIR/vm/b1.conf"

cat >"$HK/all.lua" <<'LUA'
local function rec(vm, ev)
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write(string.format("all %s %s %s %s %s\n", ev.phase, ev.reason or "-",
		ev.context, vm and vm.name or "-", ev.deadline and "dl" or "nodl"))
	f:close()
end
return { pre_start = rec, post_start = rec, pre_stop = rec, post_stop = rec,
	boot_begin = rec, boot_end = rec, shutdown_begin = rec,
	shutdown_end = rec }
LUA
cat >"$HK/b1.lua" <<'LUA'
return { pre_stop = function(vm, ev) return false, "never stop " .. vm.name end }
LUA
phases() { tr '\n' ';' <"$LOG"; }

run "$NVQCTL" startall
is "$RC" 0 "startall with hooks: exit 0"
is "$(phases)" "all boot_begin - boot - dl;all pre_start - boot b1 dl;all post_start - boot b1 dl;all boot_end - boot - dl;" \
    "startall: boot_begin, the VM's phases with context boot, boot_end"
pid=$(qemu_pid b1)
wait_ready b1 >/dev/null

run "$NVQCTL" stop b1
is "$RC" 1 "the pre_stop veto holds for a manual stop"
: >"$LOG"
run "$NVQCTL" stopall --timeout 60
is "$RC" 0 "stopall: exit 0 despite the veto"
like "$ERR" "*b1: pre_stop:*never stop b1; stopping all the same*" \
    "stopall: the veto is a warning"
is "$(phases)" "all shutdown_begin - host-shutdown - dl;all pre_stop - host-shutdown b1 dl;all post_stop acpi host-shutdown b1 dl;all shutdown_end - host-shutdown - dl;" \
    "stopall: shutdown_begin, pre_stop, post_stop (acpi, host-shutdown), shutdown_end"
gone "$pid"
ok $? "stopall: QEMU gone"

# A guest that ignores ACPI is forced by stopall: post_stop names the
# forced rung.
guest_vm b2 no nvq.noacpi
"$NVQCTL" start b2 >/dev/null 2>&1
pid=$(qemu_pid b2)
wait_ready b2 >/dev/null
: >"$LOG"
run "$NVQCTL" stopall --timeout 12 b2
is "$RC" 0 "stopall forcing a VM: exit 0"
like "$(phases)" "*all post_stop quit host-shutdown b2 dl;*" \
    "stopall forcing a VM: post_stop with the forced rung, host-shutdown"
is "$(grep -c post_stop "$LOG")" 1 "and only once"
gone "$pid"
ok $? "stopall forcing a VM: QEMU gone"

# A failing global hook is a warning; startall --dry-run runs no hook.
: >"$LOG"
run "$NVQCTL" startall --dry-run
[ ! -s "$LOG" ]
ok $? "startall --dry-run runs no hook"
printf 'return { boot_begin = function() error("no network") end }\n' >"$HK/all.lua"
rm "$HK/b1.lua"
run "$NVQCTL" startall
is "$RC" 0 "a failing boot_begin: startall goes on"
like "$ERR" "*warning: boot_begin hook: $HK/all.lua:1: no network*" \
    "a failing boot_begin: a warning with file:line"
run "$NVQCTL" stopall --timeout 60
is "$RC" 0 "and stopall stops it"
