-- vm/handle.lua: one VM's runtime: its files, liveness, and the handle that
-- commands and policies drive it through.  Policies and hooks see it
-- through userlua.handle(): the methods below "Policy API", documented
-- in nvqctl-lua(7).
local core = require "nvq.core"
local paths = require "base.paths"
local qmp = require "proto.qmpconn"
local qga = require "proto.qga"
local util = require "base.util"

local M = {}

local QMP_TIMEOUT = 2	-- seconds for a QMP command to be answered
local LOCK_WAIT = 120	-- seconds to wait for another command on the VM
local LOCK_QUIET = 1	-- seconds of that before saying so

local VM = {}
VM.__index = VM

function M.open(name, cfg)
	return setmetatable({ name = name, cfg = cfg,
		rt = paths.runtime(name) }, VM)
end

-- pid | nil, why: live only while QEMU holds its pidfile lock.  why is
-- "absent" or "stale" when QEMU is known not to run; anything else is
-- the reason nothing can be told (an unreadable pidfile: not root?),
-- which must never be taken for "stopped".
function M.alive(name, pidfile)
	local pid, why = core.alive(pidfile)
	if pid or M.stopped(why) then return pid, why end
	return nil, string.format("%s: cannot tell whether it runs: %s", name,
		why)
end

-- Whether alive()'s why means the VM is known to be stopped.
function M.stopped(why)
	return why == "absent" or why == "stale"
end

function VM:alive()
	local pid, why = M.alive(self.name, self.rt.pidfile)
	self.pid = pid
	return pid, why
end

-- The accelerator in use: what start recorded for a running VM (auto
-- may resolve differently now), else what the config resolves to.
function VM:accel()
	if self.pid then
		local f = io.open(self.rt.accel, "rb")
		if f then
			local a = f:read("l")
			f:close()
			if a and a:match("^%l+$") then return a end
		end
	end
	return self.cfg.accel
end

-- Files a dead QEMU left behind.
function VM:stale_files()
	local left = {}
	for _, k in ipairs({ "pidfile", "monitor", "control", "serial",
		"agent", "vnc", "started_conf", "started_global", "accel", "taps",
		"forced" }) do
		if core.stat(self.rt[k], true) then left[#left + 1] = self.rt[k] end
	end
	return left
end

-- Only while no QEMU holds the pidfile: a live VM's files are not stale,
-- and without them nothing could reach it (and start would run a second
-- QEMU on its disks).
function VM:clear_stale()
	local pid, why = self:alive()
	if pid or not M.stopped(why) then return end
	for _, f in ipairs(self:stale_files()) do
		-- The record of a forcing is for the command holding the lock
		-- (a stop waiting on the guest); one forcing without the lock
		-- (stopall at its deadline) leaves it to that command.
		if f ~= self.rt.forced or self.lk then os.remove(f) end
	end
end

-- The run directory: root-only, since its QMP socket is root on the VM.
-- true | nil, message.
function VM:make_rundir()
	for _, d in ipairs({ { paths.rundir(), "0755" }, { self.rt.dir, "0700" } }) do
		if not core.stat(d[1]) then
			local ok, err = core.mkdir(d[1], d[2])
			if not ok and not core.stat(d[1]) then return nil, err end
		end
	end
	core.chmod(self.rt.dir, "0700")
	return true
end

-- The VM locks held by the nvqctl commands this process runs under (a
-- hook, or a program a hook ran, calling nvqctl): "PID PATH" lines in
-- the environment.  Waiting for one of them would wait for ever.
local HELD = "NVQCTL_LOCKS_HELD"

local function held_by_caller(path)
	for pid, p in (os.getenv(HELD) or ""):gmatch("(%d+) ([^\n]+)") do
		if p == path and core.alive(path) == tonumber(pid) then
			return tonumber(pid)
		end
	end
end

-- Records that this process holds the lock at path, for the programs
-- its hooks run; returns the previous value, for M.released.
function M.held(path)
	local env = os.getenv(HELD)
	core.setenv(HELD, (env and env ~= "" and env .. "\n" or "") ..
		core.getpid() .. " " .. path)
	return env
end

function M.released(previous)
	core.setenv(HELD, previous)
end

-- Serialises commands on this VM; released when the process ends.
-- lock | nil, message.
function VM:lock(wait)
	local caller = held_by_caller(self.rt.lock)
	if caller then
		return nil, string.format("%s: the nvqctl command (pid %d) whose " ..
			"hook this runs under holds this VM's lock; a hook cannot " ..
			"run nvqctl on its own VM", self.name, caller)
	end
	local made, merr = self:make_rundir()
	if not made then return nil, merr end
	local deadline = core.now() + (wait or LOCK_WAIT)
	local lk, why = core.lock(self.rt.lock, math.min(deadline,
		core.now() + LOCK_QUIET))
	if not lk and why == "timeout" and core.now() < deadline then
		-- Say why nothing happens rather than wait in silence.
		io.stderr:write("nvqctl: ", self.name, ": waiting for another " ..
			"nvqctl command on this VM to finish\n")
		lk, why = core.lock(self.rt.lock, deadline)
	end
	if not lk then
		if why == "timeout" then
			return nil, self.name ..
				": another nvqctl command is working on this VM"
		end
		return nil, string.format("%s: cannot lock: %s", self.name, why)
	end
	self.lk = lk	-- referenced, so the collector cannot release it early
	M.held(self.rt.lock)
	return lk
end

-- A busy QEMU's QMP socket may have a full listen queue: Linux makes
-- connect wait (core.connect retries EAGAIN until the deadline), NetBSD
-- refuses at once (ECONNREFUSED), as it does for a socket nobody listens
-- on.  Only the pidfile lock tells a busy QEMU from a dead one: while it
-- is held, a refusal is tried again, with short naps, until the deadline.
function VM:qmp(deadline)
	deadline = deadline or core.now() + QMP_TIMEOUT
	local path = paths.qmp_socket(self.rt)
	local nap = 0.005
	while true do
		local c, err, code = qmp.connect(path, deadline)
		if c or (code ~= "ECONNREFUSED" and code ~= "EAGAIN") or
		    core.now() >= deadline or not core.alive(self.rt.pidfile) then
			return c, err
		end
		core.sleep(math.min(nap, deadline - core.now()))
		nap = math.min(nap * 2, 0.05)
	end
end

-- One QMP command on a fresh connection.
function VM:qmp_call(cmd, args, deadline)
	deadline = deadline or core.now() + QMP_TIMEOUT
	local c, err = self:qmp(deadline)
	if not c then return nil, err end
	local r, why, class = c:call(cmd, args, deadline)
	c:close()
	return r, why, class
end

function VM:agent(deadline)
	if not self.cfg.GUEST_AGENT then
		return nil, "GUEST_AGENT=no"
	end
	return qga.connect(self.rt.agent, deadline)
end

-- Live state: "stopped", "unresponsive", or QEMU's own run state
-- ("running", "paused", "shutdown", "inmigrate", ...), and the pid;
-- nil, message when the pidfile cannot be looked at.
function VM:state(timeout)
	local pid, why = self:alive()
	if not pid then
		if M.stopped(why) then return "stopped" end
		return nil, why
	end
	local r = self:qmp_call("query-status", nil,
		core.now() + (timeout or QMP_TIMEOUT))
	if type(r) ~= "table" or type(r.status) ~= "string" then
		return "unresponsive", pid
	end
	return r.status, pid
end

-- true when QMP says a client is attached to the serial socket (QEMU
-- serves one at a time: a second client is accepted by the kernel and
-- then never served); nil when QMP did not say (QEMU busy, or a monitor
-- holds QMP).  console and the serial readiness watcher ask it, about
-- v (a handle, or anything with its qmp_call and rt).
function M.serial_taken(v, deadline)
	local r = v:qmp_call("query-chardev", nil, deadline)
	if type(r) ~= "table" then return nil end
	for _, c in ipairs(r) do
		local f = type(c) == "table" and c.filename
		if type(f) == "string" and f:find(v.rt.serial, 1, true) then
			return not f:find("^disconnected:")
		end
	end
	return nil
end

-- Policy API ---------------------------------------------------------

function VM:now() return core.now() end

function VM:log(fmt, ...)
	self:say("%s: %s", self.name, string.format(fmt, ...))
end

-- A line as given, without the VM name in front.
-- (Standard error while userlua.out says so: a hook run by list --json.)
function VM:say(fmt, ...)
	local runner = package.loaded["ulua.runner"]
	local out = runner and runner.out or io.stdout
	-- One event, one line: a guest's words in it are escaped.
	out:write(util.printable(string.format(fmt, ...)), "\n")
	out:flush()
end

-- Asks the guest agent to shut down (mode "powerdown", "reboot",
-- "halt"): true once the agent synced and took the command.
function VM:agent_shutdown(mode, deadline)
	local a, why = self:agent(deadline)
	if not a then return nil, why end
	local ok, swhy = a:send("guest-shutdown", { mode = mode }, deadline)
	-- Kept open: QEMU drops what an isa-serial UART has not yet taken
	-- from a socket that closes, and the command would be lost.
	if self.agent_conn then self.agent_conn:close() end
	self.agent_conn = a
	return ok, swhy
end

-- One guest-agent command on a fresh, synced connection: its return
-- value | nil, message, class.
function VM:agent_call(cmd, args, deadline)
	deadline = deadline or core.now() + QMP_TIMEOUT
	local a, why = self:agent(deadline)
	if not a then return nil, why end
	local r, cwhy, class = a:call(cmd, args, deadline)
	a:close()
	return r, cwhy, class
end

function VM:powerdown(deadline)
	local r, why = self:qmp_call("system_powerdown", nil, deadline)
	return r ~= nil, why
end

function VM:reset(deadline)
	local r, why = self:qmp_call("system_reset", nil, deadline)
	return r ~= nil, why
end

-- The forced rungs nvqctl has sent a QEMU, the last one kept in the
-- run directory ("forced": the rung, QEMU's pid and the stop it was
-- sent for, self.stopping), written before it is sent: a stop that
-- waits on the guest (agent, acpi) may see QEMU end because another
-- command (stopall at its deadline) forced it meanwhile, and must not
-- claim the guest shut down.  What its own policy sent (a rung of its
-- own name, say) is the policy's to report.
local FORCED = { quit = true, sigterm = true, sigkill = true }

local function mark_forced(self, rung)
	util.write_file_atomic(self.rt.forced, string.format("%s %s %s\n",
		rung, tostring(self.pid), self.stopping or "-"), "0600")
end

-- What really ended QEMU (pid), given the rung this stop (self.stopping)
-- believes did: a forced rung another command recorded for it, if any.
function VM:ended_by(rung, pid)
	if FORCED[rung] then return rung end
	local text = util.read_file(self.rt.forced) or ""
	local rec, recpid, by = text:match("^(%w+) (%d+) (%S+)")
	if FORCED[rec] and math.tointeger(tonumber(recpid)) == pid and
	    by ~= self.stopping then
		return rec
	end
	return rung
end

function VM:quit(deadline)
	mark_forced(self, "quit")
	local r, why = self:qmp_call("quit", nil, deadline)
	return r ~= nil, why
end

-- self.pid was read earlier: QEMU may have exited since and its PID gone
-- to another process.  Only the holder of the pidfile lock is QEMU, so
-- that is checked right before sending.
function VM:signal(sig)
	if not self.pid then return nil, "no pid" end
	local pid, why = core.alive(self.rt.pidfile)
	if pid ~= self.pid then
		if pid or why == "absent" or why == "stale" then
			return nil, "not running"
		end
		return nil, why
	end
	if sig == "TERM" or sig == "KILL" then
		mark_forced(self, "sig" .. sig:lower())
	end
	return core.kill(self.pid, sig)
end

-- True as soon as the QEMU process is gone; false at the deadline;
-- nil, message when the system cannot say.
function VM:wait_exit(deadline)
	if not self.pid then return true end
	local gone, err = core.wait_exit(self.pid, deadline)
	if gone == nil then return nil, self.name .. ": " .. tostring(err) end
	return gone
end

return M
