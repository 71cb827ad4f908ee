#!/bin/sh
# console: the built-in relay against a real guest, driven through tmux
# (attach, type, detach, signals, VM exit, a second console) and piped.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"
. "$(dirname "$0")/tmux.sh"

guest_vm c1 no
"$NVQCTL" start c1 >/dev/null || echo "Bail out! c1 did not start"
pid=$(qemu_pid c1)

# Refusals, while the guest boots.
vmconf noserial <<CONF
QEMU_BIN=$QEMU
SERIAL=no
CONF
run "$NVQCTL" console noserial
is "$RC" 1 "console: SERIAL=no exits 1"
like "$ERR" "*noserial has no serial console (SERIAL=no*" "console: SERIAL=no says so"
guest_vm c2 no
run "$NVQCTL" console c2
is "$RC" 1 "console: a stopped VM exits 1"
like "$ERR" "*c2 is not running*" "console: a stopped VM says so"

wait_ready c1 || echo "Bail out! the guest never answered"

# Piped: no raw mode, and the answer is read after stdin ends.
t0=$(date +%s)
printf 'uname -a\n' | "$NVQCTL" console c1 >"$TMP/piped" 2>"$TMP/piped.err"
RC=$?
t1=$(date +%s)
is "$RC" 0 "piped console exits 0"
grep -q "Linux nvq-guest" "$TMP/piped"
ok $? "piped console prints the guest's answer"
[ ! -s "$TMP/piped.err" ]
ok $? "piped console writes nothing on stderr"
[ $((t1 - t0)) -le 5 ]
ok $? "piped console ends soon after its input ($((t1 - t0))s)"

# console NAME S: attaches a console to VM NAME in a new session S; the
# console's pid goes to $TMP/pid.S and its exit code to $TMP/rc.S.
console() {
	tm_open "$2"
	tm_run "$2" "sh -c 'echo \$\$ > $TMP/pid.$2; exec \"\$0\" console $1' $NVQCTL; echo \$? > $TMP/rc.$2"
	tm_wait "$2" "Connected to $1's console; escape is"
}

# Attach, type a command, read the answer, detach with Ctrl-].
console c1 s1
ok $? "console prints how to detach"
tm_run s1 'echo step-$((6*7))'
tm_wait s1 "^step-42"
ok $? "a command typed in the console is answered by the guest"

# A second console while one is attached: refused, not hung.
t0=$(date +%s)
run "$NVQCTL" console c1
t1=$(date +%s)
is "$RC" 1 "a second console exits 1"
like "$ERR" "*another console is already attached*" "a second console says so"
[ $((t1 - t0)) -le 4 ]
ok $? "a second console does not hang ($((t1 - t0))s)"
printf 'echo intruder\n' | "$NVQCTL" console c1 >/dev/null 2>&1
is "$?" 1 "a second piped console exits 1"

# Ctrl-C in raw mode goes to the guest; the console stays.
tm_keys s1 C-c
sleep 0.3
kill -0 "$(cat "$TMP/pid.s1")" 2>/dev/null
ok $? "Ctrl-C does not end the console"
tm_run s1 'echo after-$((6*7))'
tm_wait s1 "^after-42"
ok $? "the guest shell still answers after Ctrl-C"

tm_keys s1 C-]
wait_file "$TMP/rc.s1" 5
is "$(cat "$TMP/rc.s1" 2>/dev/null)" 0 "Ctrl-] detaches, exit 0"
tm_wait s1 "Detached from c1" 2
ok $? "detach says so"
tm_sane s1
ok $? "terminal is cooked again after detach"
if tm_screen s1 | grep -q intruder; then false; else true; fi
ok $? "the refused second console's input never reached the guest"

# A client other than nvqctl on the serial socket is seen through QMP.
"$LUARUN" - "$NVQCTL_RUNDIR/c1/serial.sock" <<'LUA' &
local core = require "nvq.core"
local ch = assert(core.connect(arg[1], core.now() + 2))
core.sleep(3)
LUA
holder=$!
sleep 0.5
run "$NVQCTL" console c1
is "$RC" 1 "console with a foreign client attached exits 1"
like "$ERR" "*another client is attached to the serial console*" "and says so"
wait "$holder"

# Signals: the terminal is restored and the exit code says which.
for sig in TERM HUP INT; do
	s=sig$sig
	console c1 "$s" >/dev/null
	cpid=$(tm_pid "$TMP/pid.$s")
	kill -"$sig" "$cpid"
	wait_file "$TMP/rc.$s" 5
	case $sig in TERM) want=143 ;; HUP) want=129 ;; INT) want=130 ;; esac
	is "$(cat "$TMP/rc.$s" 2>/dev/null)" "$want" "SIG$sig ends the console ($want)"
	tm_sane "$s"
	ok $? "terminal is cooked again after SIG$sig"
done

# The escape key comes from CONSOLE_ESCAPE.
echo "CONSOLE_ESCAPE='^B'" >> "$NVQCTL_CONFDIR/vm/c1.conf"
console c1 esc
tm_wait esc "escape is \^B" 1
ok $? "CONSOLE_ESCAPE=^B is announced"
tm_keys esc C-]
sleep 0.3
kill -0 "$(cat "$TMP/pid.esc")" 2>/dev/null
ok $? "Ctrl-] is an ordinary key then"
tm_keys esc C-b
wait_file "$TMP/rc.esc" 5
is "$(cat "$TMP/rc.esc" 2>/dev/null)" 0 "Ctrl-B detaches"

# The VM going away ends the console.
console c1 gone >/dev/null
"$NVQCTL" kill c1 >/dev/null 2>&1
wait_file "$TMP/rc.gone" 10
is "$(cat "$TMP/rc.gone" 2>/dev/null)" 0 "the VM's exit ends the console, exit 0"
tm_wait gone "c1 has stopped" 2
ok $? "and says the VM has stopped"
tm_sane gone
ok $? "terminal is cooked again after the VM's exit"
gone "$pid"
ok $? "the guest is gone"
