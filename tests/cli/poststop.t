#!/bin/sh
# poststop.t: a command that only looks (list, status) sets off the
# post_stop of a QEMU that ended unseen, and waits for it at most one
# second: a slow hook finishes in the background, once.  No QEMU needed:
# a run directory with start's marker and no QEMU is such a VM.
. "$(dirname "$0")/../lib.sh"

HK="$NVQCTL_CONFDIR/hooks"
LOG="$TMP/phases.log"
export LOG
mkdir -p "$HK"
chmod 755 "$NVQCTL_CONFDIR" "$HK"
printf 'QEMU_BIN=/bin/false\nACCEL=tcg\n' | vmconf h
cat >"$HK/h.lua" <<'LUA'
local core = require "nvq.core"
local function rec(s)
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write(s, "\n")
	f:close()
end
return { post_stop = function(vm, ev)
	rec("begin " .. ev.reason)
	if os.getenv("SLOW") then core.run({ "sleep", os.getenv("SLOW") }) end
	rec("end")
end }
LUA
ended_unseen() { mkdir -p "$NVQCTL_RUNDIR/h"; echo 1 >"$NVQCTL_RUNDIR/h/run.pending"; : >"$LOG"; }
ms() { perl -MTime::HiRes=time -e 'printf "%d\n", time * 1000'; }

# A quick hook: done when list returns, as before.
ended_unseen
run "$NVQCTL" list
is "$(tr '\n' ';' <"$LOG")" "begin exited;end;" "quick post_stop: done when list returns"

# A slow one (5 s): list returns within the wait, the hook goes on.
for cmd in list "status h"; do
	ended_unseen
	t0=$(ms)
	SLOW=5 run "$NVQCTL" $cmd
	t=$(($(ms) - t0))
	is "$RC" 0 "$cmd with a slow post_stop: exit 0"
	ok $((t > 2500)) "$cmd with a 5 s post_stop returned in ${t} ms (bound 2500)"
	is "$(cat "$LOG")" "begin exited" "$cmd: the hook had begun, not ended"
	n=0
	until grep -q end "$LOG" || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
	is "$(tr '\n' ';' <"$LOG")" "begin exited;end;" "$cmd: the hook ran to its end after"
	[ -e "$NVQCTL_RUNDIR/h/run.pending" ] || [ -e "$NVQCTL_RUNDIR/h/run.firing" ]
	ok $((!$?)) "$cmd: no marker left"
	run "$NVQCTL" list
	is "$(grep -c begin "$LOG")" 1 "$cmd: post_stop ran once"
done

# A reader of list's standard output does not wait for the hook either.
ended_unseen
t0=$(ms)
SLOW=5 "$NVQCTL" list --json 2>/dev/null | cat >"$TMP/piped"
t=$(($(ms) - t0))
ok $((t > 2500)) "list --json | cat with a 5 s post_stop: ${t} ms (bound 2500)"
like "$(cat "$TMP/piped")" '\[*"name":"h"*\]' "... the JSON came whole"
n=0
until grep -q end "$LOG" || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
