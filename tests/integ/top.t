#!/bin/sh
# top against real guests: one frame to a pipe, JSON parsed back, a
# SIGSTOPped QEMU, and the live view on a terminal (tmux).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

if ! command -v tmux >/dev/null 2>&1; then
	echo "Bail out! tmux is needed for the live view (tests/deps.sh check installs it)"
	exit 1
fi

# A private tmux server, gone before the VMs are killed.
TM_SOCK="$TMP/tmux.sock"
tm() { tmux -S "$TM_SOCK" "$@"; }
top_cleanup() {
	tm kill-server >/dev/null 2>&1
	guest_cleanup
}
T_CLEANUP_HOOK=top_cleanup

# ms: milliseconds on a monotonic-enough clock, for the time bounds.
ms() { echo $(($(date +%s%N) / 1000000)); }

# tm_wait PATTERN [SECONDS]: until the pane shows a line matching PATTERN.
tm_wait() {
	_i=0
	while [ "$_i" -lt $((${2:-5} * 10)) ]; do
		tm capture-pane -p -t top | grep -q -- "$1" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	diag "the pane never showed '$1'; it shows:"
	tm capture-pane -p -t top | sed -e '/^$/d' -e 's/^/#   /'
	return 1
}

# tm_shell: until the pane's foreground process is the shell again.
tm_shell() {
	_i=0
	while [ "$(tm display-message -p -t top '#{pane_current_command}')" != sh ] &&
	    [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# tm_cooked: true when the pane's terminal is back in cooked mode.
tm_cooked() {
	rm -f "$TMP/stty"
	tm send-keys -t top "stty -a > $TMP/stty.tmp; mv $TMP/stty.tmp $TMP/stty" Enter
	_i=0
	while [ ! -e "$TMP/stty" ] && [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_w=$(tr ' ;' '\n\n' < "$TMP/stty" 2>/dev/null)
	printf '%s\n' "$_w" | grep -qx icanon && printf '%s\n' "$_w" | grep -qx echo
}

# jfields FILE VM PATH...: the values at dotted PATHs in VM's entry of
# the JSON document in FILE, space separated; null is "null".
jfields() {
	"$LUARUN" - "$@" <<'LUA'
local cjson = require "cjson"
local f = assert(io.open(arg[1]))
local doc = cjson.decode(f:read("l"))
for _, v in ipairs(doc.vms) do
	if v.name == arg[2] then
		local out = {}
		for i = 3, #arg do
			local x = v
			for k in arg[i]:gmatch("[^.]+") do x = x[k] end
			out[#out + 1] = x == cjson.null and "null" or
				math.tointeger(x) or tostring(x)
		end
		print(table.concat(out, " "))
	end
end
LUA
}

# Two guests, one with a tap interface where this host lets QEMU make
# one; and a third configured but not started.
tap=nvqt$$
guest_vm t1 no
echo "NETWORK=$tap" >> "$NVQCTL_CONFDIR/vm/t1.conf"
if ! "$NVQCTL" start t1 >/dev/null 2>&1; then
	diag "no tap interface here: t1 runs without one"
	tap=
	guest_vm t1 no
	"$NVQCTL" start t1 >/dev/null
fi
guest_vm t2 no
"$NVQCTL" start t2 >/dev/null
guest_vm t3 no
p1=$(qemu_pid t1) p2=$(qemu_pid t2)
[ -n "$p1" ] && [ -n "$p2" ]
ok $? "two guests started"

# --- one frame to a pipe ---------------------------------------------------
run "$NVQCTL" top -n 1
is "$RC" 0 "top -n 1 exits 0"
like "$OUT" "*VMs: 2 running / 3 configured*" "header: running and configured"
is "$(printf '%s\n' "$OUT" | sed -n 2p | tr -s ' ')" \
    "NAME STATE PID %CPU RSS VCPU MEM ACCEL RD/s WR/s RX/s TX/s UPTIME" \
    "the column header"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 4 "one line per running VM"
row='running *[0-9]* *[0-9]*.[0-9] *[0-9.]*[KMG] *1 *256M *[a-z]* *[0-9.]*[BKMG] *[0-9.]*[BKMG]'
like "$(printf '%s\n' "$OUT" | grep '^t1 ')" "t1 *$row*" "t1: running, with numbers"
like "$(printf '%s\n' "$OUT" | grep '^t2 ')" "t2 *$row *- *- *[0-9]*:[0-9][0-9]" \
    "t2: running; no tap, so - for the net"
like "$(printf '%s\n' "$OUT" | grep '^t1 ')" "* $p1 *" "t1: its QEMU's pid"
unlike "$OUT" "*$(printf '\033')*" "no escape sequences to a pipe"
unlike "$OUT" "*t3*" "a VM not running is not listed"

run "$NVQCTL" top
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 4 "without -n, a pipe gets one frame"
run "$NVQCTL" top -n 2 0.3
is "$(printf '%s\n' "$OUT" | grep -c '^NAME')" 2 "-n 2: two frames"
like "$OUT" "*averages since*rates over 0.3s*" "the second frame has interval rates"
run "$NVQCTL" top -n 0
is "$RC" 2 "-n 0 is a usage error"
run "$NVQCTL" top 0
is "$RC" 2 "interval 0 is a usage error"

# --- JSON, parsed back --------------------------------------------------------
"$NVQCTL" top -n 2 --json 0.3 > "$TMP/top.json"
is "$?" 0 "top -n 2 --json exits 0"
"$LUARUN" - "$TMP/top.json" "$p1" "$p2" "$tap" > "$TMP/json.tap" <<'LUA'
local cjson = require "cjson"
local file, p1, p2, tap = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4]
local docs = {}
for line in io.lines(file) do docs[#docs + 1] = cjson.decode(line) end
local n = 0
local function ok(c, d)
	n = n + 1
	print((c and "ok " or "not ok ") .. n .. " - json: " .. d)
end
local function num(x) return type(x) == "number" end
local function int(x) return math.type(x) == "integer" or num(x) and x == math.floor(x) end
ok(#docs == 2, "one document per frame")
local d = docs[1]
ok(d.version == 1, "version 1")
ok(num(d.time) and d.time > 1e9, "time is epoch seconds")
ok(d.interval_s == cjson.null, "first frame: interval_s null")
ok(d.running == 2 and d.configured == 3, "running 2, configured 3")
ok(type(d.host) == "string", "host")
ok(#d.vms == 2, "two VMs")
for _, v in ipairs(d.vms) do
	local who = v.name .. ": "
	ok(v.name == "t1" or v.name == "t2", who .. "name")
	ok(v.state == "running", who .. "state running")
	ok(v.pid == (v.name == "t1" and p1 or p2), who .. "pid of its QEMU")
	ok(num(v.cpu_seconds) and num(v.cpu_percent), who .. "cpu numbers")
	ok(int(v.rss_bytes) and v.rss_bytes > 1e6, who .. "rss_bytes")
	ok(v.vcpus == 1 and v.memory_mib == 256, who .. "vcpus, memory_mib")
	ok(type(v.accel) == "string", who .. "accel")
	ok(int(v.uptime_s) and v.uptime_s >= 0, who .. "uptime_s")
	ok(v.rate_basis == "since_start", who .. "rates since start")
	ok(v.config_error == cjson.null, who .. "config_error null")
	local k = v.disk
	ok(int(k.rd_bytes) and int(k.wr_bytes) and int(k.rd_bytes_per_s)
		and int(k.wr_bytes_per_s), who .. "disk counters and rates")
	local t = v.net
	ok(type(t.interfaces) == "table", who .. "net.interfaces is an array")
	if v.name == "t1" and tap ~= "" then
		ok(t.interfaces[1] == tap and int(t.rx_bytes) and int(t.tx_bytes)
			and int(t.rx_bytes_per_s), who .. "tap counters")
	else
		ok(#t.interfaces == 0, who .. "no interfaces")
	end
end
local e = docs[2]
ok(math.abs(e.interval_s - 0.3) < 0.2, "second frame: interval_s")
ok(e.vms[1].rate_basis == "interval", "second frame: rates over the interval")
print("1.." .. n)
LUA
if grep -q '^not ok' "$TMP/json.tap" || ! grep -q '^1\.\.' "$TMP/json.tap"; then
	ok 1 "top --json parsed back, field by field"
	sed 's/^/# /' "$TMP/json.tap"
else
	ok 0 "top --json parsed back, field by field ($(grep -c '^ok' "$TMP/json.tap") checks)"
fi
head -n 1 "$TMP/top.json" | grep -qF '"interfaces":[]'
ok $? "an empty interface list is [] (not {})"

# The guest's rx is what the host sends into the tap (the tap's tx).
if [ -n "$tap" ] && command -v ip >/dev/null && ip link set "$tap" up 2>/dev/null; then
	s=/sys/class/net/$tap/statistics
	_i=0
	while [ "$(cat $s/tx_bytes)" -eq 0 ] && [ $_i -lt 40 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	"$NVQCTL" top -n 1 --json > "$TMP/net.json"
	hrx=$(cat $s/rx_bytes) htx=$(cat $s/tx_bytes)
	diag "tap $tap: host rx $hrx, tx $htx"
	is "$(jfields "$TMP/net.json" t1 net.rx_bytes net.tx_bytes)" "$htx $hrx" "net rx/tx are the tap's tx/rx (the guest's view)"
fi

# --- list and status JSON: the same conventions ---------------------------------
"$NVQCTL" list --json > "$TMP/list.json"
"$NVQCTL" status --json t1 > "$TMP/st1.json"
"$NVQCTL" status --json t3 > "$TMP/st3.json"
"$LUARUN" - "$TMP" "$p1" > "$TMP/ls.tap" <<'LUA'
local cjson = require "cjson"
local dir, p1 = arg[1], tonumber(arg[2])
local function load(f)
	local h = assert(io.open(dir .. "/" .. f))
	local d = cjson.decode(h:read("a"))
	h:close()
	return d
end
local n = 0
local function ok(c, d)
	n = n + 1
	print((c and "ok " or "not ok ") .. n .. " - " .. d)
end
local l = load("list.json")
ok(#l == 3 and l[1].name == "t1" and l[3].name == "t3", "list: three VMs by name")
ok(l[1].pid == p1 and l[1].state == "running", "list: t1 running with its pid")
ok(l[3].pid == cjson.null and l[3].state == "stopped", "list: t3 stopped, pid null")
ok(l[3].vcpus == 1 and l[3].memory_mib == 256 and type(l[3].accel) == "string",
	"list: vcpus, memory_mib, accel")
local a = load("st1.json")
ok(a.pid == p1 and a.state == "running", "status: t1 running with its pid")
ok(type(a.uptime_s) == "number" and type(a.rss_bytes) == "number"
	and type(a.cpu_seconds) == "number", "status: uptime_s, rss_bytes, cpu_seconds")
ok(type(a.sockets) == "table" and a.sockets.agent == cjson.null
	and type(a.sockets.monitor) == "string", "status: sockets, agent null")
local b = load("st3.json")
ok(b.pid == cjson.null and b.uptime_s == cjson.null and b.sockets == cjson.null,
	"status: a stopped VM has null pid, uptime_s, sockets")
ok(type(b.stale_files) == "table" and #b.stale_files == 0, "status: stale_files")
print("1.." .. n)
LUA
if grep -q '^not ok' "$TMP/ls.tap" || ! grep -q '^1\.\.' "$TMP/ls.tap"; then
	ok 1 "list and status --json parsed back"
	sed 's/^/# /' "$TMP/ls.tap"
else
	ok 0 "list and status --json parsed back ($(grep -c '^ok' "$TMP/ls.tap") checks)"
fi
grep -qF '"stale_files":[]' "$TMP/st3.json"
ok $? "status --json: an empty stale_files is []"

# --- a QEMU that does not answer ------------------------------------------------
kill -STOP "$p2"
for i in 1 2; do
	t0=$(ms)
	run "$NVQCTL" top -n 1
	t1=$(ms)
	[ $((t1 - t0)) -le 3000 ]
	ok $? "top -n 1 with a stopped QEMU returns in $((t1 - t0)) ms (try $i)"
done
like "$(printf '%s\n' "$OUT" | grep '^t2 ')" "t2 *unresponsive *$p2 *[0-9.]* *[0-9.]*[KMG] *1 *256M *[a-z]* *\? *\? *-*" \
    "the stopped VM: unresponsive, ? for the disk"
like "$(printf '%s\n' "$OUT" | grep '^t1 ')" "t1 *$row*" "the other VM is unaffected"
"$NVQCTL" top -n 1 --json > "$TMP/stopped.json"
is "$(jfields "$TMP/stopped.json" t2 state disk.rd_bytes disk.wr_bytes_per_s)" \
    "unresponsive null null" "json: unresponsive, null for what was not fetched"
is "$(jfields "$TMP/stopped.json" t1 state)" running "json: the other VM runs"
kill -CONT "$p2"

# --- live on a terminal ----------------------------------------------------------
tm new-session -d -s top -x 130 -y 30 \
    "env NVQCTL_CONFDIR='$NVQCTL_CONFDIR' NVQCTL_RUNDIR='$NVQCTL_RUNDIR' PS1='$ ' sh"
tm send-keys -t top "$NVQCTL top 0.5" Enter
tm_wait "rates over 0.5s"
ok $? "on a terminal: refreshed with interval rates"
a=$(tm capture-pane -p -t top)
sleep 0.6
b=$(tm capture-pane -p -t top)
is "$(printf '%s\n' "$b" | grep -c 'VMs: 2 running')" 1 "redrawn in place: one header on screen"
[ "$(printf '%s\n' "$a" | head -n 1)" != "$(printf '%s\n' "$b" | head -n 1)" ] ||
    [ "$a" != "$b" ] ||
    { sleep 1; [ "$a" != "$(tm capture-pane -p -t top)" ]; }
ok $? "the frame changes between captures"
like "$b" "*(q quits)*" "the header says how to quit"
like "$(printf '%s\n' "$b" | grep '^t1 ')" "t1 *$row*" "the live frame has the rows"
tm send-keys -t top q
# Keys typed while top still runs are top's (it may drop them as it
# restores the terminal): the shell is asked only once top has gone.
tm_shell
tm send-keys -t top 'echo top-exit-$?' Enter
# Typed while top still reads the keyboard, the echo may run right
# after the prompt ("$ top-exit-0"): not anchored.
tm_wait "top-exit-0"
ok $? "q quits with status 0"
tm_cooked
ok $? "after q the terminal is cooked (icanon echo)"

tm send-keys -t top "clear; $NVQCTL top -n 2 0.3; echo n2-exit-\$?" Enter
tm_wait "^n2-exit-0" 5
ok $? "-n 2 on a terminal exits by itself"

# The screen still shows the -n 2 frames: wait for the pid file (and
# the new top's header, after a clear) rather than for a header alone.
tm send-keys -t top "clear; sh -c 'echo \$\$ > $TMP/top.pid; exec $NVQCTL top 0.5'; echo term-exit-\$?" Enter
i=0
while [ ! -s "$TMP/top.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tm_wait "(q quits)"
kill -TERM "$(cat "$TMP/top.pid")"
tm_wait "^term-exit-143"
ok $? "SIGTERM ends top (status 143)"
tm_cooked
ok $? "after SIGTERM the terminal is cooked"

tm send-keys -t top "$NVQCTL top 0.5" Enter
tm_wait "(q quits)"
tm send-keys -t top C-c
tm send-keys -t top 'echo int-exit-$?' Enter
tm_wait "^int-exit-0"
ok $? "^C ends top"
tm_cooked
ok $? "after ^C the terminal is cooked"
