#!/bin/sh
# qmp and agent one-shot commands against a real QEMU and guest agent:
# replies parsed back as JSON, error replies, bad arguments, timeouts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

guest_vm o1 isa-serial
guest_vm o2 virtio-serial nvq.hangagent
"$NVQCTL" start o1 >/dev/null || echo "Bail out! o1 did not start"
"$NVQCTL" start o2 >/dev/null || echo "Bail out! o2 did not start"
pid=$(qemu_pid o1)

# jget JSON EXPR: EXPR (Lua, on the decoded value v) or "not JSON".
# cjson decodes every number to a float: whole ones are shown whole.
cat > "$TMP/jget.lua" <<'LUA'
local ok, v = pcall(require("cjson").decode, arg[1])
if not ok then io.write("not JSON") return 0 end
local r = load("local v = ...; return " .. arg[2])(v)
io.write(tostring(math.tointeger(r) or r))
LUA
jget() { "$LUARUN" "$TMP/jget.lua" "$1" "$2"; }

# qmp ---------------------------------------------------------------
run "$NVQCTL" qmp o1 query-name
is "$RC" 0 "qmp query-name exits 0"
is "$(jget "$OUT" v.name)" o1 "qmp query-name: the return value, as JSON"
run "$NVQCTL" qmp o1 query-status
is "$(jget "$OUT" 'v.status .. " " .. tostring(v.running)')" "running true" \
    "qmp query-status: status and running"
run "$NVQCTL" qmp o1 qom-get '{"path": "/machine", "property": "type"}'
is "$RC" 0 "qmp with json-args exits 0"
like "$(jget "$OUT" v)" "pc-*-machine" "qmp: the arguments reach QEMU"
run "$NVQCTL" qmp o1 stop '{}'
is "$OUT" "{}" "qmp stop: {} (empty arguments accepted)"
"$NVQCTL" qmp o1 cont >/dev/null

run "$NVQCTL" qmp o1 no-such-command
is "$RC" 1 "qmp: an unknown command exits 1"
like "$ERR" "nvqctl: o1: CommandNotFound: *no-such-command*" "qmp: CommandNotFound and its description"
is "$OUT" "" "qmp: nothing on stdout on error"
run "$NVQCTL" qmp o1 qom-get '{"path": "/machine", "property": "nosuch"}'
is "$RC" 1 "qmp: a GenericError exits 1"
like "$ERR" "nvqctl: o1: GenericError: *nosuch*" "qmp: GenericError and its description"

run "$NVQCTL" qmp o1 query-name '{"bad'
is "$RC" 2 "qmp: invalid json-args exit 2"
like "$ERR" "*json-args*usage: nvqctl qmp*" "qmp: invalid json-args: message and usage"
run "$NVQCTL" qmp o1 query-name '[1, 2]'
is "$RC" 2 "qmp: json-args that are not an object exit 2"
run "$NVQCTL" qmp o1
is "$RC" 2 "qmp without a command exits 2"
run "$NVQCTL" qmp --timeout 0 o1 query-name
is "$RC" 2 "qmp --timeout 0 exits 2"

run "$NVQCTL" qmp o3 query-name
is "$RC" 1 "qmp on an unknown VM exits 1"
guest_vm o3 no
run "$NVQCTL" qmp o3 query-name
is "$RC" 1 "qmp on a stopped VM exits 1"
like "$ERR" "*o3 is not running*" "qmp on a stopped VM says so"

# A SIGSTOPped QEMU accepts the connection and never greets.
kill -STOP "$pid"
t0=$(date +%s)
run "$NVQCTL" qmp --timeout 2 o1 query-name
t1=$(date +%s)
kill -CONT "$pid"
is "$RC" 1 "qmp to a stopped QEMU exits 1"
like "$ERR" "*o1: QMP did not answer within 2 s*" "qmp to a stopped QEMU says so"
[ $((t1 - t0)) -ge 1 ] && [ $((t1 - t0)) -le 5 ]
ok $? "qmp --timeout 2 returns in its time ($((t1 - t0))s)"

# agent -------------------------------------------------------------
run "$NVQCTL" agent o3 guest-ping
is "$RC" 1 "agent on a VM with GUEST_AGENT=no exits 1"
like "$ERR" "*o3 has no guest agent (GUEST_AGENT=no*" "and says so"

wait_ready o1 || diag "o1's guest never answered"
run "$NVQCTL" agent o1 guest-ping
is "$RC" 0 "agent guest-ping exits 0"
is "$OUT" "{}" "agent guest-ping: {}"
run "$NVQCTL" agent o1 guest-info
like "$(jget "$OUT" v.version)" "[0-9]*.[0-9]*" "agent guest-info: a version, as JSON"
run "$NVQCTL" agent o1 guest-get-time
like "$OUT" "[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*" \
    "agent guest-get-time: nanoseconds with every digit (not rounded by cjson)"
run "$NVQCTL" agent o1 guest-exec \
    '{"path": "/bin/busybox", "arg": ["uname", "-n"], "capture-output": true}'
gpid=$(jget "$OUT" v.pid)
like "$gpid" "[0-9]*" "agent guest-exec with json-args: a pid"
i=0
while [ $i -lt 20 ]; do
	run "$NVQCTL" agent o1 guest-exec-status "{\"pid\": $gpid}"
	[ "$(jget "$OUT" v.exited)" = true ] && break
	sleep 0.2
	i=$((i + 1))
done
is "$(jget "$OUT" 'v["out-data"]' | base64 -d)" nvq-guest \
    "agent guest-exec-status: the command's output"

run "$NVQCTL" agent o1 guest-no-such
is "$RC" 1 "agent: an unknown command exits 1"
like "$ERR" "nvqctl: o1: CommandNotFound: *guest-no-such*" "agent: CommandNotFound"
run "$NVQCTL" agent o1 guest-file-open '{"path": "/nonexistent/x"}'
is "$RC" 1 "agent: a GenericError exits 1"
like "$ERR" "nvqctl: o1: GenericError: *nonexistent*" "agent: GenericError and its description"
run "$NVQCTL" agent o1 guest-ping 'nope'
is "$RC" 2 "agent: invalid json-args exit 2"

# A hung agent (SIGSTOPped in the guest): its port is open, nothing
# answers guest-sync.
wait_ready o2 || diag "o2's guest never answered"
t0=$(date +%s)
run "$NVQCTL" agent --timeout 2 o2 guest-ping
t1=$(date +%s)
is "$RC" 1 "agent to a hung agent exits 1"
like "$ERR" "*o2: the guest agent did not answer within 2 s*" "agent to a hung agent says so"
[ $((t1 - t0)) -ge 1 ] && [ $((t1 - t0)) -le 5 ]
ok $? "agent --timeout 2 returns in its time ($((t1 - t0))s)"

# guest-shutdown: no reply on success; a bad mode is an error reply.
run "$NVQCTL" agent o1 guest-shutdown '{"mode": "sideways"}'
is "$RC" 1 "agent guest-shutdown with a bad mode exits 1"
like "$ERR" "nvqctl: o1: GenericError: *" "and gives the agent's error"
run "$NVQCTL" agent o1 guest-shutdown
is "$RC" 0 "agent guest-shutdown exits 0"
like "$ERR" "*guest-shutdown sent*" "agent guest-shutdown: reported as sent"
i=0
while ! gone "$pid" && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
gone "$pid"
ok $? "agent guest-shutdown: the guest powered off"
