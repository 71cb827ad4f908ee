#!/bin/sh
# monitor: the QMP shell against a real QEMU, from a pipe and through
# tmux (prompt, a command, Ctrl-C, Ctrl-D, an event while idle).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"
. "$(dirname "$0")/tmux.sh"

guest_vm m1 no
run "$NVQCTL" monitor m1
is "$RC" 1 "monitor: a stopped VM exits 1"
like "$ERR" "*m1 is not running*" "monitor: a stopped VM says so"

"$NVQCTL" start m1 >/dev/null || echo "Bail out! m1 did not start"
pid=$(qemu_pid m1)

# From a pipe: one reply per line, in order, events among them.
t0=$(date +%s)
run "$NVQCTL" monitor m1 <<'IN'
query-name
{"execute":"query-status"}
stop
qom-get path=/machine property=type
cont
human-monitor-command command-line="info status"
bogus-command
{"execute": "query-name"
device_del id=net1
qom-get path=/machine property="nosuch"
{"execute":"query-name","id":{"mine":[1,2]}}
IN
t1=$(date +%s)
is "$RC" 0 "piped monitor exits 0 at EOF"
unlike "$OUT" "*(qmp)*" "piped monitor prints no prompt"
[ $((t1 - t0)) -le 5 ]
ok $? "piped monitor ends at EOF ($((t1 - t0))s)"
like "$OUT" '{
  "name": "m1"
}*' "short form: query-name, pretty"
like "$OUT" '*"status": "running",*' "raw JSON: query-status"
like "$OUT" '*"status": "running"*event: STOP*{}*"pc-*-machine"*event: RESUME*{}*' \
    "stop prints the STOP event and {}; key=value arguments reach QEMU"
like "$OUT" '*
VM status: running
*' "human-monitor-command: HMP's text as text"
like "$OUT" '*
error: CommandNotFound: The command bogus-command has not been found
error: invalid JSON: *
error: DeviceNotFound: *net1*
error: GenericError: *nosuch*
{
  "name": "m1"
}' "errors as 'error: CLASS: desc', in order; a raw JSON id of its own"
is "$(printf '%s\n' "$OUT" | grep -c '"name": "m1"')" 2 "one reply per command"

# A last line without a newline is still a command.
run sh -c "printf query-name | '$NVQCTL' monitor m1"
like "$OUT" '*"name": "m1"*' "a last line without newline is sent"

# A QMP socket serves one client: the monitor holds monitor.sock, and
# one-shot calls go to control.sock, so they still answer at once.
(sleep 2) | "$NVQCTL" monitor m1 >/dev/null 2>&1 &
holder=$!
sleep 0.5
t0=$(date +%s)
run "$NVQCTL" qmp --timeout 1 m1 query-name
t1=$(date +%s)
is "$RC" 0 "qmp while a monitor is attached exits 0"
[ $((t1 - t0)) -le 5 ]
ok $? "and within its timeout ($((t1 - t0))s)"
wait "$holder"

# monitor NAME S: a monitor on VM NAME in a new tmux session S; exit
# code to $TMP/rc.S.
monitor() {
	tm_open "$2"
	tm_run "$2" "$NVQCTL monitor $1; echo \$? > $TMP/rc.$2"
	tm_wait "$2" '^(qmp) *$'
}

monitor m1 i1
ok $? "interactive monitor shows the (qmp) prompt"
tm_run i1 "query-name"
tm_wait i1 '"name": "m1"'
ok $? "interactive: a command is answered"
tm_wait i1 '^(qmp) *$' 2
tm_keys i1 C-c
wait_file "$TMP/rc.i1" 5
is "$(cat "$TMP/rc.i1" 2>/dev/null)" 0 "Ctrl-C ends the monitor, exit 0"
tm_sane i1
ok $? "terminal is sane after Ctrl-C"

monitor m1 i2 >/dev/null
tm_keys i2 C-d
wait_file "$TMP/rc.i2" 5
is "$(cat "$TMP/rc.i2" 2>/dev/null)" 0 "Ctrl-D ends the monitor, exit 0"

# An event while the monitor waits for input: the guest powers off.
wait_ready m1 || diag "the guest never answered"
monitor m1 i3 >/dev/null
"$LUARUN" "$TOP/tests/integ/serial.lua" "$NVQCTL_RUNDIR/m1/serial.sock" \
    run 5 'busybox poweroff -f' >/dev/null 2>&1 &
tm_wait i3 '^event: SHUTDOWN' 15
ok $? "an event is printed while the monitor is idle"
wait_file "$TMP/rc.i3" 5
is "$(cat "$TMP/rc.i3" 2>/dev/null)" 0 "the VM's exit ends the monitor, exit 0"
tm_wait i3 "m1 has stopped" 2
ok $? "and says the VM has stopped"
tm_sane i3
ok $? "terminal is sane after the VM's exit"
gone "$pid"
ok $? "the guest is gone"
