-- shutdown.lua: vm:signal sends only to the process that holds the VM's
-- pidfile lock (real processes, real locks), and the forcing
-- (vm/force.lua) reports what really ended a VM (a fake handle on a
-- fake clock: forcing is written only against the handle).  Run by
-- shutdown.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local vm = require "vm.handle"

local TMP = assert(os.getenv("TESTTMP"))
local LUARUN = assert(os.getenv("LUARUN"))

-- vm:signal ----------------------------------------------------------

local v = vm.open("sig", { name = "sig" })
v:make_rundir()
local pidfile = v.rt.pidfile

-- A process that takes the pidfile lock as QEMU does, writes its PID
-- there and waits to be killed.  Started in the background of a shell
-- that core.run reaps at once.
local holder_lua = TMP .. "/holder.lua"
do
	local f = assert(io.open(holder_lua, "w"))
	f:write([[
local core = require "nvq.core"
-- Written before the lock is taken: closing any descriptor of the file
-- would drop this process's fcntl lock on it.
local f = assert(io.open(arg[1], "w"))
f:write(core.getpid(), "\n")
f:close()
local lk = assert(core.lock(arg[1], core.now() + 5))
core.sleep(60)
]])
	f:close()
end

local function background(argv)
	local q = {}
	for i, a in ipairs(argv) do q[i] = "'" .. a .. "'" end
	local r = assert(core.run({ "/bin/sh", "-c", table.concat(q, " ") ..
		" >/dev/null 2>&1 & echo $!" }, { stdout = "capture",
		deadline = core.now() + 5 }))
	return assert(tonumber(r.stdout:match("^(%d+)")))
end

local function holder()
	local pid = background({ LUARUN, holder_lua, pidfile })
	local until_ = core.now() + 5
	while core.alive(pidfile) ~= pid and core.now() < until_ do
		core.sleep(0.01)
	end
	return pid
end

-- Still there a moment after any signal would have been sent.
local function running(pid)
	return not core.wait_exit(pid, core.now() + 0.3)
end

do
	local h = holder()
	t.is(core.alive(pidfile), h, "the holder holds the pidfile lock")
	v.pid = h
	t.ok(v:signal("TERM"), "vm:signal to the lock holder: sent")
	t.ok(core.wait_exit(h, core.now() + 5), "... and it is gone")

	-- The lock holder is gone; its PID now names some other process.
	local other = background({ "sleep", "60" })
	v.pid = other
	local ok, why = v:signal("TERM")
	t.ok(ok == nil and why == "not running",
		"vm:signal with a stale pidfile: nil, \"not running\"")
	t.ok(running(other), "... and the other process got no signal")

	-- A live QEMU, but not the PID the handle cached.
	local h2 = holder()
	ok, why = v:signal("KILL")
	t.ok(ok == nil and why == "not running",
		"vm:signal when another PID holds the lock: nil, \"not running\"")
	t.ok(running(other) and running(h2), "... and nobody got a signal")
	core.kill(other, "KILL")
	core.kill(h2, "KILL")
	os.remove(pidfile)
	ok, why = v:signal("TERM")
	t.ok(ok == nil and why == "not running",
		"vm:signal with no pidfile: nil, \"not running\"")
end

-- The forcing's report ----------------------------------------------------

local force = require "vm.force"

-- A VM handle on a fake clock.  s.exit_at: when QEMU exits by itself;
-- s.powerdown: whether QMP takes system_powerdown; s.quit(vm): QMP quit;
-- s.signal(vm, sig): what a signal does (default: delivered, no effect).
local function fake(s)
	local f = { name = "fake", cfg = { GUEST_AGENT = false }, t = 0,
		exit_at = s.exit_at, sent = {} }
	function f:now() return self.t end
	function f:gone() return self.exit_at ~= nil and self.t >= self.exit_at end
	function f:wait_exit(deadline)
		if self.exit_at and self.exit_at <= deadline then
			self.t = math.max(self.t, self.exit_at)
			return true
		end
		self.t = math.max(self.t, deadline)
		return false
	end
	function f:log() end
	function f:say() end
	function f:powerdown()
		if self:gone() then return false, "eof" end
		return s.powerdown or false, "no answer"
	end
	function f:quit(deadline)
		if self:gone() then return false, "eof" end
		if s.quit then return s.quit(self, deadline) end
		self.t = deadline	-- QMP does not answer
		return false, "timeout"
	end
	function f:signal(sig)
		if self:gone() then return nil, "not running" end
		self.sent[#self.sent + 1] = sig
		if s.signal then return s.signal(self, sig) end
		return true
	end
	return f
end

-- Forcing from t = 10; s.last: the rung applied before it.
local function stop(s)
	local f = fake(s)
	f.t = 10
	local rung, why = force.force(f, 10, s.last)
	return rung, why, table.concat(f.sent, ",")
end

local cases = {
	{ "exits by itself during an unanswered quit, ACPI refused",
		{ exit_at = 11.5 }, "exited", "" },
	{ "exits by itself during an unanswered quit after ACPI",
		{ exit_at = 11.5, last = "acpi" }, "acpi", "" },
	{ "exits 1s after QMP quit",
		{ quit = function(f) f.exit_at = f.t + 1; return true end },
		"quit", "" },
	{ "exits between an unanswered quit and SIGTERM",
		{ quit = function(f, d) f.t = d; f.exit_at = d + 0.2
			return false end }, "exited", "" },
	{ "SIGTERM finds the lock released as QEMU exits",
		{ signal = function(f) f.exit_at = f.t + 0.2
			return nil, "not running" end }, "exited", "TERM" },
	{ "dies to SIGTERM",
		{ signal = function(f, sig)
			if sig == "TERM" then f.exit_at = f.t + 1 end
			return true end }, "sigterm", "TERM" },
	{ "dies only to SIGKILL",
		{ signal = function(f, sig)
			if sig == "KILL" then f.exit_at = f.t + 0.1 end
			return true end }, "sigkill", "TERM,KILL" },
}
for _, c in ipairs(cases) do
	local desc, s, want, sent = table.unpack(c)
	local rung, why, got_sent = stop(s)
	t.is(rung, want, desc .. ": reported as " .. want)
	if rung ~= want then t.diag("why: %s", tostring(why)) end
	t.is(got_sent, sent, desc .. ": signals sent: " ..
		(sent == "" and "none" or sent))
end
do
	local rung, why = stop({})
	t.ok(rung == nil and tostring(why):find("survived SIGKILL", 1, true),
		"nothing ends it: nil, \"survived SIGKILL\"")
end

return t.done()
