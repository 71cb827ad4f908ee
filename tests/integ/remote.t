#!/bin/sh
# nvqctl -H over a real OpenSSH server: two "hosts" a and b (aliases
# for 127.0.0.1 and .2 on one private sshd, each its own nvqctl config
# and run directories through NVQCTL_REMOTE_<host>), merged list and
# status, an unreachable host, a guest started and its console attached
# through ssh -t, shared connections, and the Ansible module.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"
. "$(dirname "$0")/tmux.sh"
. "$(dirname "$0")/sshd.sh"

B="$TMP/b"
# b's guests die with the test too (guest.sh kills a's, the local ones).
_remote_prev_hook=$T_CLEANUP_HOOK
remote_cleanup() {
	for _p in "$B"/run/*/qemu.pid; do
		[ -f "$_p" ] && kill -KILL "$(cat "$_p")" 2>/dev/null
	done
	$_remote_prev_hook
}
T_CLEANUP_HOOK=remote_cleanup

sshd_start
ssh_hosts a b
host_dirs a "$NVQCTL_CONFDIR" "$NVQCTL_RUNDIR"
host_dirs b "$B/etc" "$B/run"
guest_vm g1 isa-serial
(NVQCTL_CONFDIR="$B/etc"; guest_vm g2 isa-serial)
printf 'MEMORY=64M\n' > "$B/etc/vm/v2.conf"

# rows FILE: "host name state" of a -H --json array, one per line.
rows() {
	"$LUARUN" - "$1" <<'LUA'
local cjson = require "cjson"
local f = assert(io.open(arg[1]))
local doc = cjson.decode(f:read("a"))
for _, r in ipairs(doc) do
	print(r.host, tostring(r.name), r.state,
		r.error ~= cjson.null and r.error or "")
end
LUA
}

run "$NVQCTL" -H a,b list --json
is "$RC" 0 "-H a,b list --json: exit 0"
printf '%s\n' "$OUT" > "$TMP/list.json"
is "$(rows "$TMP/list.json" | tr '\t' ' ' | sed 's/ *$//')" "a g1 stopped
b g2 stopped
b v2 stopped" "-H a,b list --json: one array, both hosts' VMs with their host"
is "$(printf '%s\n' "$OUT" | wc -l)" 1 "-H a,b list --json: one document"
[ -d "$CTL_DIR" ] && [ "$(stat -c %a "$CTL_DIR")" = 700 ]
ok $? "the shared connections' directory is private (0700)"
alive=0
for s in "$CTL_DIR"/*; do
	ssh -F "$SD/ssh_config" -o ControlPath="$s" -O check a 2>/dev/null &&
	    alive=$((alive + 1))
done
is "$alive" 2 "the shared connections to a and b stay open after the command (ssh -O check)"

# The handshake is paid once: sshd accepts no new login for a series.
logins=$(grep -c "Accepted publickey for root from 127.0.0.1 " "$SD/sshd.log")
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$NVQCTL" -H a status g1 >/dev/null 2>&1 || echo "status $i failed" >&2
done
is "$(grep -c "Accepted publickey for root from 127.0.0.1 " "$SD/sshd.log")" \
    "$logins" "10 x -H a status: no new ssh login (the shared connection)"
# Over the shared connection nvqctl asks ssh's control socket itself
# (remote/mux): no ssh is started, so none needs to be found.
PATH=/nonexistent "$NVQCTL" -H a status --json g1 >"$TMP/nossh" 2>&1
is "$?" 0 "-H a status with no ssh on PATH: exit 0 (the control socket)"
like "$(cat "$TMP/nossh")" '*"name":"g1"*' \
    "-H a status with no ssh on PATH: a's answer"

run "$NVQCTL" -H a,b list
is "$RC" 0 "-H a,b list: exit 0"
like "$OUT" "HOST *NAME *STATE*" "-H list: one header, HOST first"
like "$OUT" "*
a  *g1 *stopped*
b  *g2 *stopped*" "-H list: each host's rows after its name"

run "$NVQCTL" -H a,b -V
is "$RC" 0 "-H a,b -V: exit 0"
like "$OUT" "a *nvqctl *
a *Lua 5.4*b *nvqctl *" "-H a,b -V: each host's versions after its name"

# b unreachable: nothing listens on port 1 of 127.0.0.2.
ssh_hosts a b=1
run "$NVQCTL" -H a,b list --json
is "$RC" 1 "b unreachable: exit 1"
printf '%s\n' "$OUT" > "$TMP/down.json"
rows "$TMP/down.json" > "$TMP/down.rows"
grep -q "^a	g1	stopped" "$TMP/down.rows"
ok $? "b unreachable: a's rows are there"
like "$(grep '^b' "$TMP/down.rows")" \
    "b	nil	unreachable	ssh: connect to host 127.0.0.2 port 1: *refused" \
    "b unreachable: its row says why"
run "$NVQCTL" -H a,b list
is "$RC" 1 "b unreachable, text: exit 1"
like "$OUT" "*g1*
b *unreachable: ssh: connect to host*Connection refused*" \
    "b unreachable, text: its row says why"
ssh_hosts a b

# A remote nvqctl that does not know --json.
printf '#!/bin/sh\necho "nvqctl: list: unknown option --json" >&2\nexit 2\n' \
    > "$TMP/oldnvqctl"
NVQCTL_REMOTE_b="sh $TMP/oldnvqctl" run "$NVQCTL" -H a,b list --json
is "$RC" 1 "an nvqctl too old for --json there: exit 1"
like "$OUT" '*"host":"b"*' "an nvqctl too old: b has a row"
like "$OUT" "*its nvqctl is too old: it does not know the option --json*" \
    "an nvqctl too old: said so"
NVQCTL_REMOTE_b="nvqctl-not-there" run "$NVQCTL" -H b list
like "$OUT" "b *error: no nvqctl there*NVQCTL_REMOTE*" "no nvqctl on b: said so"

# Interactive commands take one host.
run "$NVQCTL" -H a,b console g1
is "$RC" 2 "console on two hosts: usage error"
like "$ERR" "*console is interactive: name one host*" \
    "console on two hosts: says so"

run "$NVQCTL" -H a start g1
is "$RC" 0 "-H a start g1: exit 0"
like "$OUT" "a *g1: started, pid *" "-H a start g1: a's line"
pid=$(qemu_pid g1)
[ -n "$pid" ] && kill -0 "$pid"
ok $? "-H a start g1: QEMU runs on a"
wait_ready g1 || echo "Bail out! g1 never answered"
run "$NVQCTL" -H a start g1
is "$RC" 3 "-H a start of a running VM: exit 3 (nothing to do)"
like "$ERR" "nvqctl: a: g1 is already running*" "and a's message names a"
run "$NVQCTL" -H a,b start g1
is "$RC" 1 "-H a,b start g1 (running on a, unknown on b): the worst, 1"
run "$NVQCTL" -H a,b status --json g1
printf '%s\n' "$OUT" > "$TMP/st.json"
is "$(rows "$TMP/st.json" | cut -f1-3 | tr '\t' ' ')" "a g1 running
b g1 error" "-H a,b status --json: a's document and b's error row"

# The console through ssh -t, in tmux.
tm_open c
tm_run c "$NVQCTL -H a console g1; echo rc=\$? > $TMP/rc.c"
tm_wait c "Connected to g1's console; escape is" 20
ok $? "-H a console: attached through ssh -t"
tm_run c 'echo step-$((6*7))'
tm_wait c "^step-42" 10
ok $? "-H a console: the guest answers what is typed"
tm_keys c C-]
wait_file "$TMP/rc.c" 10
is "$(cat "$TMP/rc.c" 2>/dev/null)" "rc=0" \
    "-H a console: Ctrl-] detaches, exit 0"
tm_sane c
ok $? "-H a console: the terminal is cooked again"

# The Ansible module (Debian's ansible-core) against b.
if command -v ansible >/dev/null 2>&1; then
	ANSIBLE_HOME="$TMP/ansible" ANSIBLE_LOCAL_TEMP="$TMP/ansible/tmp"
	ANSIBLE_REMOTE_TMP="$TMP/ansible/rtmp" ANSIBLE_NOCOLOR=1
	ANSIBLE_SSH_ARGS="-F $SD/ssh_config -o ControlMaster=no"
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
	export ANSIBLE_HOME ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TMP \
	    ANSIBLE_NOCOLOR ANSIBLE_SSH_ARGS ANSIBLE_PYTHON_INTERPRETER
	printf 'b\n' > "$TMP/inventory"
	bcmd="env NVQCTL_CONFDIR=$B/etc NVQCTL_RUNDIR=$B/run $NVQCTL"
	# vm NAME STATE: the module's arguments for VM NAME on b.
	vm() { printf '{"name": "%s", "state": "%s", "nvqctl": "%s"}' \
	    "$1" "$2" "$bcmd"; }
	mod() {	# mod [-C] JSON-ARGS
		ansible b -i "$TMP/inventory" -M "$TOP/examples/ansible/library" \
		    -m nvqctl_vm "$@" >"$TMP/ans.out" 2>&1
		RC=$?
		OUT=$(cat "$TMP/ans.out")
	}
	mod -a "$(vm g2 started)"
	like "$OUT" "*b | CHANGED*\"state\": \"running\"*" \
	    "ansible: started: changed, running"
	mod -a "$(vm g2 started)"
	like "$OUT" "*b | SUCCESS*\"changed\": false*" \
	    "ansible: started again: not changed"
	mod -C -a "$(vm g2 stopped)"
	like "$OUT" "*b | CHANGED*" "ansible: stopped in check mode: would change"
	run "$NVQCTL" -H b status --json g2
	like "$OUT" '*"state":"running"*' \
	    "ansible: stopped in check mode changed nothing"
	mod -a "$(vm no-such started)"
	is "$RC" 2 "ansible: a bad name fails"
	like "$OUT" "*b | FAILED*no such VM: no-such*" \
	    "ansible: with nvqctl's message"
	mod -a "$(vm g2 killed)"
	like "$OUT" "*b | CHANGED*\"state\": \"stopped\"*" \
	    "ansible: killed: changed, stopped"
	ansible-playbook --syntax-check -i "$TMP/inventory" \
	    "$TOP/examples/ansible/playbook.yml" >"$TMP/ans.out" 2>&1
	ok $? "the example playbook passes ansible-playbook --syntax-check"
else
	echo "Bail out! ansible (Debian's ansible-core) is needed"
fi

"$NVQCTL" kill g1 >/dev/null 2>&1
