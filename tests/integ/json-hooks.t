#!/bin/sh
# startall --json and stopall --json: what hooks print (print, programs
# they run), in nvqctl itself and in the VM tasks, goes to standard
# error; standard output is the JSON alone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

HK="$NVQCTL_CONFDIR/hooks"
mkdir -p "$HK"
guest_vm web no
echo "AUTOSTART=yes" >>"$NVQCTL_CONFDIR/vm/web.conf"
cat >"$HK/all.lua" <<'LUA'
local core = require "nvq.core"
local function noise(vm, ev)
	print("print from " .. ev.phase)
	core.run({ "echo", "echo from " .. ev.phase })
end
return { boot_begin = noise, boot_end = noise, shutdown_begin = noise,
	shutdown_end = noise, pre_start = noise, post_start = noise,
	post_stop = noise }
LUA
json_only() {	# json_only TEXT: one line, a JSON object
	[ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ] &&
	    printf '%s\n' "$1" | grep -q '^{.*}$'
}

run "$NVQCTL" startall --json web
json_only "$OUT"
ok $? "startall --json: standard output is the JSON alone"
like "$ERR" "*print from boot_begin*echo from boot_begin*" \
    "startall --json: boot_begin's output on standard error"
like "$ERR" "*print from pre_start*echo from pre_start*" \
    "startall --json: the task's pre_start output on standard error"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"

run "$NVQCTL" stopall --json --timeout 60 web
json_only "$OUT"
ok $? "stopall --json: standard output is the JSON alone"
like "$ERR" "*print from shutdown_begin*echo from shutdown_begin*" \
    "stopall --json: shutdown_begin's output on standard error"
like "$ERR" "*print from post_stop*echo from post_stop*" \
    "stopall --json: the task's post_stop output on standard error"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"
