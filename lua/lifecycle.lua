-- lifecycle.lua: start, stop and kill one VM.  The commands (and
-- restart, which chains two of them under one lock) are built on these.
local core = require "nvq.core"
local config = require "config"
local qemuargv = require "qemuargv"
local util = require "util"

local M = {}

local START_WAIT = 60		-- seconds for QEMU to daemonize
local QMP_READY_WAIT = 10	-- seconds for QMP to answer after that
local PRE_START_WAIT = 300	-- seconds a PRE_START hook may take
local KILL_QUIT_WAIT = 0.25	-- seconds "kill" gives QMP quit
local POLICY_SLACK = 20		-- seconds a policy may run past its deadline

-- How a process run by core.run ended, for a message.
local function ended(r)
	return r.status and "exit " .. r.status or "signal " .. r.signal
end

local function pre_start(v)
	local hook = v.cfg.PRE_START
	if hook == nil or hook == "" then return end
	v:log("running pre-start hook %s", hook)
	local r, err = core.run({ hook, v.name },
		{ deadline = core.now() + PRE_START_WAIT })
	if not r then util.die("%s: pre-start hook: %s", v.name, err) end
	if r.timedout then
		util.die("%s: pre-start hook %s took over %ds; not starting",
			v.name, hook, PRE_START_WAIT)
	elseif r.status ~= 0 then
		util.die("%s: pre-start hook %s failed (%s); not starting", v.name,
			hook, ended(r))
	end
end

local function indent(s)
	return "  " .. s:gsub("\n$", ""):gsub("\n", "\n  ")
end

-- Runs policies/NAME.lua's function fn(v, opt).  A policy is the user's
-- code: its errors are reported as file:line, and one that spins past
-- its time (every wait in the API has a deadline, so only Lua code can)
-- is stopped by a count hook, as Redis stops a runaway script.
function M.run_policy(v, name, fn, limit, opt)
	local ok, policy, where = pcall(require, "policies." .. name)
	if not ok then
		util.die("%s: cannot load the %s policy: %s", v.name, name, policy)
	end
	if type(policy) ~= "table" or type(policy[fn]) ~= "function" then
		util.die("%s: the %s policy (%s) does not export %s()", v.name, name,
			tostring(where), fn)
	end
	debug.sethook(function()
		if core.now() > limit then
			error("still running past its time limit; stopped", 2)
		end
	end, "", 100000)
	local res = table.pack(pcall(policy[fn], v, opt))
	debug.sethook()
	if not res[1] then
		util.die("%s: %s policy failed: %s", v.name, name, tostring(res[2]))
	end
	return table.unpack(res, 2, res.n)
end

-- Starts the VM; the caller holds its lock.
function M.start(v)
	local t0 = core.now()
	local pid = v:alive()
	if pid then
		util.die("%s is already running (pid %d)", v.name, pid)
	end
	v:clear_stale()
	pre_start(v)
	if v.cfg.accel_note then util.warn("%s", v.cfg.accel_note) end
	local argv = qemuargv.build(v.cfg)
	-- Sockets and pidfile are created by QEMU: owner-only.
	local old = core.umask("077")
	local r, err = core.run(argv, { stdout = "null", stderr = "capture",
		deadline = core.now() + START_WAIT })
	core.umask(string.format("%o", old))
	if not r then util.die("%s: cannot run QEMU: %s", v.name, err) end
	if r.timedout then
		v:clear_stale()
		util.die("%s: QEMU did not start within %ds", v.name, START_WAIT)
	elseif r.status ~= 0 then
		v:clear_stale()
		local msg = r.stderr ~= "" and r.stderr or ended(r) .. "\n"
		util.die("%s: QEMU failed to start:\n%s", v.name, indent(msg))
	end
	if r.stderr ~= "" then io.stderr:write(indent(r.stderr), "\n") end
	pid = v:alive()
	if not pid then
		util.die("%s: QEMU exited right after starting", v.name)
	end
	config.save_started(v.cfg, v.rt)
	local ok, why = v:qmp_call("query-status", nil,
		core.now() + QMP_READY_WAIT)
	if not ok then
		util.die("%s: started (pid %d) but QMP does not answer: %s",
			v.name, pid, why)
	end
	-- QEMU's -daemonize sets umask 027 for itself; the directory is
	-- 0700 from the start, the sockets are narrowed to 0600 here.
	for _, k in ipairs({ "monitor", "control", "serial", "agent" }) do
		if core.stat(v.rt[k]) then core.chmod(v.rt[k], "0600") end
	end
	v:log("started, pid %d (%.2fs)", pid, core.now() - t0)
	return pid
end

-- Stops the VM through the shutdown policy; the caller holds its lock.
function M.stop(v, timeout, force)
	local pid = v:alive()
	if not pid then
		v:clear_stale()
		util.die("%s is not running", v.name)
	end
	local t0 = core.now()
	local rung, why = M.run_policy(v, "shutdown", "stop", t0 + timeout +
		POLICY_SLACK, { timeout = timeout, force = force, start = t0,
		deadline = t0 + timeout })
	if not rung then
		util.die("%s: %s; left running (use --force to go on to quit " ..
			"and signals, or nvqctl kill)", v.name, why)
	end
	-- The policy may be the user's: its word is checked.
	local still = v:alive()
	if still then
		util.die("%s: the shutdown policy says %s stopped it, but QEMU " ..
			"(pid %d) is still running", v.name, tostring(rung), still)
	end
	v:clear_stale()
	v:log("stopped by %s after %.2fs", rung, core.now() - t0)
	return rung
end

function M.kill(v)
	local pid = v:alive()
	if not pid then
		v:clear_stale()
		util.die("%s is not running", v.name)
	end
	util.warn("killing %s: guest data not yet written to disk may be lost",
		v.name)
	local t0 = core.now()
	local rung = "quit"
	local deadline = t0 + KILL_QUIT_WAIT
	if not (v:quit(deadline) and v:wait_exit(deadline)) then
		rung = "sigkill"
		v:signal("KILL")
		if not v:wait_exit(core.now() + 5) then
			util.die("%s: pid %d survived SIGKILL", v.name, pid)
		end
	end
	v:clear_stale()
	v:log("killed by %s after %.2fs", rung, core.now() - t0)
end

return M
