#!/bin/sh
# startall --json and stopall --json: what hooks print (print, programs
# they run), in nvqctl itself and in the VM tasks, goes to standard
# error; standard output is the JSON alone.  Then the same for io.write
# and io.stdout:write in every phase, and for list, status and top -n 1
# --json when a post_stop fires there: every output parses as JSON.
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
	io.write("write from ", ev.phase, "\n")
	io.stdout:write("stdout from ", ev.phase, "\n")
	core.run({ "echo", "echo from " .. ev.phase })
end
return { boot_begin = noise, boot_end = noise, shutdown_begin = noise,
	shutdown_end = noise, pre_start = noise, post_start = noise,
	pre_stop = noise, post_stop = noise }
LUA
json_only() {	# json_only TEXT: one line, a JSON object that parses
	[ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ] &&
	    printf '%s\n' "$1" | grep -q '^{.*}$' && parses "$1"
}
cat >"$TMP/parses.lua" <<'LUA'
local ok = pcall(require("cjson").decode, io.read("a"))
os.exit(ok and 0 or 1)
LUA
parses() {	# parses TEXT: the whole of it is one JSON value
	printf '%s' "$1" | "$LUARUN" "$TMP/parses.lua"
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
like "$ERR" "*write from pre_stop*stdout from pre_stop*write from post_stop*stdout from post_stop*" \
    "stopall --json: io.write and io.stdout:write on standard error"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"

# A QEMU killed behind nvqctl's back: the first command to look runs
# post_stop; its standard output stays JSON.
for cmd in "list --json" "status --json web" "top -n 1 --json"; do
	"$NVQCTL" start web >/dev/null 2>&1
	kill -KILL "$(qemu_pid web)"
	n=0
	while [ -e "$NVQCTL_RUNDIR/web/qemu.pid" ] &&
	    "$LUARUN" - <<LUA && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
os.exit(require("nvq.core").alive("$NVQCTL_RUNDIR/web/qemu.pid") and 0 or 1)
LUA
	run "$NVQCTL" $cmd
	parses "$OUT"
	ok $? "$cmd with post_stop firing: standard output parses as JSON"
	like "$ERR" "*write from post_stop*stdout from post_stop*" \
	    "$cmd: post_stop ran, its writes on standard error"
done
