-- ready.lua: cases for lua/boot/ready.lua, run by ready.t through luarun
-- against readypeer.pl's fake consoles and TCP ports, with a stand-in
-- VM handle (alive, qmp_call) around them.  The guest agent, QMP and
-- a real console are tested with the real guest in tests/integ/ready.t.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local ready = require "boot.ready"

local DIR = assert(os.getenv("TESTTMP"))
local LUARUN = assert(os.getenv("LUARUN"))
local LATE, CLOSED = tonumber(arg[1]), tonumber(arg[2])
local SLAM, BANNER = tonumber(arg[3]), tonumber(arg[4])
local SLACK = 1	-- seconds a wait may take beyond its deadline
local TEXT = "NVQ-GUEST-READY"

-- A VM handle with just what ready uses; its run directory is DIR.
local function fakevm(br, opt)
	opt = opt or {}
	local v = { name = "f", cfg = { BOOT_READY = br },
		rt = { dir = DIR, serial = DIR .. "/" .. (opt.sock or "split") ..
			".sock" } }
	local calls = 0
	function v.alive()
		calls = calls + 1
		if opt.dead or (opt.dies and calls > opt.dies) then
			return nil, "absent"
		end
		return 4242
	end
	function v.qmp_call(_, cmd)
		if cmd == "query-chardev" and opt.chardev then
			return opt.chardev(v)
		end
		if cmd == "query-status" and not opt.noqmp then
			return { status = opt.status or "running" }
		end
		if cmd == "human-monitor-command" and opt.usernet then
			return opt.usernet
		end
		return nil, "no QMP here"
	end
	return v
end

local function tcp(port)
	return { kind = "tcp", host = "127.0.0.1", port = port,
		spec = "tcp:127.0.0.1:" .. port }
end

local function serial(text)
	return { kind = "serial", text = text, spec = "serial:" .. text }
end

-- Runs ready.wait with a deadline secs away: ok, why, seconds taken.
local function wait(v, secs, w)
	local t0 = core.now()
	local ok, why = ready.wait(v, t0 + secs, w)
	return ok, why, core.now() - t0
end

-- tcp ------------------------------------------------------------------------

local ok, why, took = wait(fakevm(tcp(CLOSED)), 1)
t.is(ok, nil, "tcp: a port nobody listens on is not ready")
t.like(why, "BOOT_READY=tcp:127.0.0.1:" .. CLOSED .. ": not ready after ",
	"tcp: the message names the condition")
t.like(why, "Connection refused", "tcp: ... and the last reason")
t.ok(took >= 0.9 and took < 1 + SLACK, "tcp: tried until its deadline, " ..
	"not longer")
t.diag("took %.2fs", took)

ok, why, took = wait(fakevm(tcp(LATE)), 15)
t.is(ok, true, "tcp: ready once the port listens")
t.ok(took < 10, "tcp: soon after it listens")
if not ok then t.diag("%s", why) end

-- What the service does with the connection.
ok, why, took = wait(fakevm(tcp(SLAM)), 1.5)
t.is(ok, nil, "tcp: a connection closed at once is no answer")
t.like(why, "connection closed by the peer", "tcp: ... and says so")
ok, why, took = wait(fakevm(tcp(BANNER)), 5)
t.is(ok, true, "tcp: a service that speaks first is ready")
t.ok(took < 0.5 + 0.5 + SLACK, "tcp: ... without waiting for the connection " ..
	"to settle (" .. string.format("%.2fs", took) .. ")")
ok, why, took = wait(fakevm(tcp(LATE)), 5)
t.ok(ok == true and took >= 1.0, "tcp: a silent service is ready once " ..
	"its connection stayed open 0.5 s and the VM outlived it 0.5 s " ..
	string.format("(%.2fs)", took))

-- A user-mode forward of this VM: QEMU's own table must show the guest
-- reached.
local function usernet(state)
	return "Hub -1 (n0):\r\n  Protocol[State]    FD  Source Address  " ..
		"Port   Dest. Address  Port RecvQ SendQ\r\n" ..
		"  TCP[" .. state .. "]       9       127.0.0.1 " .. LATE ..
		"       10.0.2.15    22     0     0\r\n" ..
		"  TCP[HOST_FORWARD]   8       127.0.0.1 " .. LATE ..
		"       10.0.2.15    22     0     0\r\n"
end
ok, why = wait(fakevm(tcp(LATE), { usernet = usernet("SYN_SENT") }), 2)
t.is(ok, nil, "tcp: a forward still in SYN_SENT is not ready")
t.like(why, "user-mode forward has not reached the guest", "tcp: ... and says so")
ok = wait(fakevm(tcp(LATE), { usernet = usernet("ESTABLISHED") }), 5)
t.is(ok, true, "tcp: a forward established with the guest is ready")

-- Readiness of a VM that does not outlive it.
ok, why, took = wait(fakevm(tcp(BANNER), { dies = 1 }), 5)
t.is(ok, nil, "a VM gone right after its service answered is not ready")
t.like(why, "QEMU", "... and says so")
ok, why = wait(fakevm(tcp(BANNER), { status = "shutdown" }), 1.5)
t.is(ok, nil, "a VM shut down right after is not ready")
t.like(why, "the VM is shutdown right after", "... and says so")

ok, why, took = wait(fakevm(tcp(LATE), { dead = true }), 10)
t.is(ok, nil, "a VM whose QEMU is gone is not ready")
t.like(why, "QEMU is not running", "... and says so")
t.ok(took < 0.5, "... at once, not at the deadline")

local ch, cwhy = core.tcp_connect("::1", CLOSED, core.now() + 1)
t.ok(ch == nil and type(cwhy) == "string", "tcp_connect: ::1 refused or " ..
	"absent, as a value")
ch = core.tcp_connect("localhost", LATE, core.now() + 2)
t.ok(ch ~= nil, "tcp_connect: a name is looked up")
if ch then
	t.is(type(ch:fileno()), "number", "tcp_connect: a channel")
	ch:close()
end
ch, cwhy = core.tcp_connect("no-such-host.invalid", 22, core.now() + 2)
t.ok(ch == nil and cwhy:find("^no%-such%-host%.invalid: "),
	"tcp_connect: an unknown name is an error value naming it")
t.ok(not pcall(core.tcp_connect, "127.0.0.1", 0, core.now() + 1),
	"tcp_connect: port 0 is a caller's error")

-- serial ---------------------------------------------------------------------

local v = fakevm(serial(TEXT))
local w = ready.begin(v)
t.ok(w.ch ~= nil, "serial: begin connects to the console at once")
ok, why, took = wait(v, 5, w)
t.is(ok, true, "serial: TEXT split over two reads is seen")
if not ok then t.diag("%s", why) end
t.ok(w.ch == nil and w.lk == nil, "serial: wait lets go of the console")

ok, why = wait(fakevm(serial(TEXT)), 5)
t.is(ok, true, "serial: without a watcher, wait begins one itself")

v = fakevm(serial(TEXT), { sock = "flood" })
w = ready.begin(v)
collectgarbage("collect")
local mem0 = collectgarbage("count")
ok, why, took = wait(v, 1.5, w)
t.is(ok, nil, "serial: a flood without TEXT is not ready")
t.like(why, "serial console: 'NVQ-GUEST-READY' not seen",
	"serial: ... and says what was not seen")
t.ok(took >= 1.4 and took < 1.5 + SLACK, "serial: a flood does not hold " ..
	"the wait past its deadline")
t.diag("took %.2fs", took)
t.ok(#w.tail < #TEXT, "serial: only the last #TEXT-1 bytes are kept")
collectgarbage("collect")
t.ok(collectgarbage("count") - mem0 < 256, "serial: nothing read is kept " ..
	"once the wait is over")

ok, why, took = wait(fakevm(serial(TEXT), { sock = "mute" }), 1)
t.is(ok, nil, "serial: a mute console times out")
t.ok(took < 1 + SLACK, "serial: ... by its deadline")

ok, why = wait(fakevm(serial(TEXT), { sock = "nosuch" }), 0.5)
t.like(why, "serial console: ", "serial: no socket is a reason, not an error")

-- Another client holds the serial socket, as QMP reports it.
v = fakevm(serial(TEXT), { chardev = function(fv)
	return { { label = "serial0", filename = "unix:" .. fv.rt.serial ..
		",server=on" } }
end })
ok, why = wait(v, 0.6)
t.like(why, "console in use (another client holds", "serial: a client " ..
	"QMP reports on the socket keeps it")

-- A user attached with nvqctl console (holding console.lock, in another
-- process): not fought over; once the user leaves, the watch goes on.
local holder = io.popen(LUARUN .. " - <<'EOF'\n" ..
	"local core = require 'nvq.core'\n" ..
	"local lk = assert(core.lock('" .. DIR .. "/console.lock', " ..
	"core.now() + 5))\n" ..
	"io.write('locked\\n') io.flush() core.sleep(2)\nEOF\n", "r")
t.is(holder:read("l"), "locked", "a console holds console.lock")
v = fakevm(serial(TEXT))
ok, why, took = wait(v, 0.5)
t.is(ok, nil, "serial: not ready while a user is attached")
t.like(why, "console in use (a user is attached with nvqctl console)",
	"serial: ... says console in use")
w = ready.begin(v)
t.is(w.ch, nil, "serial: begin does not connect while a user is attached")
ok, why, took = wait(v, 10, w)
t.is(ok, true, "serial: once the user detaches, the watch goes on")
if not ok then t.diag("%s", why) end
holder:close()

-- started and agent, against a VM without QMP or agent: bounded.
v = fakevm({ kind = "started", spec = "started" }, { noqmp = true })
ok, why, took = wait(v, 0.5)
t.like(why, "BOOT_READY=started: not ready after", "started: no QMP")
t.like(why, "QMP: no QMP here", "started: ... the last reason")
t.ok(took < 0.5 + SLACK, "started: by its deadline")
v = fakevm({ kind = "agent", spec = "agent" })
function v.agent() return nil, "GUEST_AGENT=no" end
ok, why, took = wait(v, 0.5)
t.like(why, "guest agent: GUEST_AGENT=no", "agent: the last reason")
t.ok(took < 0.5 + SLACK, "agent: by its deadline")

return t.done()
