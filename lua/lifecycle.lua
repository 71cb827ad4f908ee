-- lifecycle.lua: start, stop and kill one VM.  The commands (and
-- restart, which chains two of them under one lock) are built on these.
local core = require "nvq.core"
local config = require "config"
local qemuargv = require "qemuargv"
local util = require "util"
local vm = require "vm"

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

-- true | nil, message.
local function pre_start(v)
	local hook = v.cfg.PRE_START
	if hook == nil or hook == "" then return true end
	v:log("running pre-start hook %s", hook)
	local r, err = core.run({ hook, v.name },
		{ deadline = core.now() + PRE_START_WAIT })
	if not r then
		return nil, string.format("%s: pre-start hook: %s", v.name, err)
	elseif r.timedout then
		return nil, string.format("%s: pre-start hook %s took over %ds; " ..
			"not starting", v.name, hook, PRE_START_WAIT)
	elseif r.status ~= 0 then
		return nil, string.format("%s: pre-start hook %s failed (%s); " ..
			"not starting", v.name, hook, ended(r))
	end
	return true
end

local function indent(s)
	return "  " .. s:gsub("\n$", ""):gsub("\n", "\n  ")
end

-- Runs policies/NAME.lua's function fn(v, opt): true and what it
-- returned, or false and why it could not run or failed.  A policy is
-- the user's code: its errors are reported as file:line, and one that
-- spins past its time (every wait in the API has a deadline, so only
-- Lua code can) is stopped by a count hook, as Redis stops a runaway
-- script.
function M.run_policy(v, name, fn, limit, opt)
	local ok, policy, where = pcall(require, "policies." .. name)
	if not ok then
		return false, string.format("%s: cannot load the %s policy: %s",
			v.name, name, policy)
	end
	if type(policy) ~= "table" or type(policy[fn]) ~= "function" then
		return false, string.format("%s: the %s policy (%s) does not " ..
			"export %s()", v.name, name, tostring(where), fn)
	end
	debug.sethook(function()
		if core.now() > limit then
			error("still running past its time limit; stopped", 2)
		end
	end, "", 100000)
	local res = table.pack(pcall(policy[fn], v, opt))
	debug.sethook()
	if not res[1] then
		return false, string.format("%s: %s policy failed: %s", v.name, name,
			tostring(res[2]))
	end
	return true, table.unpack(res, 2, res.n)
end

-- What start does once QEMU has daemonized: pid | nil, message.
local function started(v, r)
	if r.stderr ~= "" then io.stderr:write(indent(r.stderr), "\n") end
	local pid, why = v:alive()
	if not pid then
		return nil, vm.stopped(why) and
			v.name .. ": QEMU exited right after starting" or why
	end
	config.save_started(v.cfg, v.rt)
	local ok, qwhy = v:qmp_call("query-status", nil,
		core.now() + QMP_READY_WAIT)
	if not ok then
		return nil, string.format("%s: started (pid %d) but QMP does not " ..
			"answer: %s", v.name, pid, qwhy)
	end
	-- QEMU's -daemonize sets umask 027 for itself; the directory is
	-- 0700 from the start, the sockets are narrowed to 0600 here.
	for _, k in ipairs({ "monitor", "control", "serial", "agent" }) do
		if core.stat(v.rt[k]) then core.chmod(v.rt[k], "0600") end
	end
	return pid
end

-- start(v, opt) -> pid | nil, message.  The caller holds the VM's lock.
-- opt.context ("manual", "boot") says who asked; nil is manual.
function M.start(v, opt)
	local t0 = core.now()
	local pid, why = v:alive()
	if pid then
		return nil, string.format("%s is already running (pid %d)", v.name,
			pid)
	elseif not vm.stopped(why) then
		return nil, why
	end
	v:clear_stale()
	local ok, perr = pre_start(v)
	if not ok then return nil, perr end
	if v.cfg.accel_note then util.warn("%s", v.cfg.accel_note) end
	local argv = qemuargv.build(v.cfg)
	-- Sockets and pidfile are created by QEMU: owner-only.
	local old = core.umask("077")
	local r, err = core.run(argv, { stdout = "null", stderr = "capture",
		deadline = core.now() + START_WAIT })
	core.umask(string.format("%o", old))
	if not r then
		return nil, string.format("%s: cannot run QEMU: %s", v.name, err)
	elseif r.timedout then
		v:clear_stale()
		return nil, string.format("%s: QEMU did not start within %ds",
			v.name, START_WAIT)
	elseif r.status ~= 0 then
		v:clear_stale()
		local msg = r.stderr ~= "" and r.stderr or ended(r) .. "\n"
		return nil, string.format("%s: QEMU failed to start:\n%s", v.name,
			indent(msg))
	end
	pid, why = started(v, r)
	if not pid then return nil, why end
	v:log("started, pid %d (%.2fs)", pid, core.now() - t0)
	return pid
end

-- stop(v, opt) -> rung | nil, message, through the shutdown policy.
-- opt = { timeout = seconds (default SHUTDOWN_TIMEOUT), force = bool,
-- context = "manual"|"boot"|"host-shutdown" }.  The caller holds the
-- VM's lock.
function M.stop(v, opt)
	opt = opt or {}
	local pid, why = v:alive()
	if not pid then
		if not vm.stopped(why) then return nil, why end
		v:clear_stale()
		return nil, v.name .. " is not running"
	end
	local timeout = opt.timeout or v.cfg.SHUTDOWN_TIMEOUT
	local t0 = core.now()
	local ran, rung, pwhy = M.run_policy(v, "shutdown", "stop", t0 +
		timeout + POLICY_SLACK, { timeout = timeout, force = opt.force,
		start = t0, deadline = t0 + timeout })
	if not ran then return nil, rung end
	if not rung then
		return nil, string.format("%s: %s; left running (use --force to " ..
			"go on to quit and signals, or nvqctl kill)", v.name, pwhy)
	end
	-- The policy may be the user's: its word is checked.
	local still, swhy = v:alive()
	if not still and not vm.stopped(swhy) then return nil, swhy end
	if still then
		return nil, string.format("%s: the shutdown policy says %s " ..
			"stopped it, but QEMU (pid %d) is still running", v.name,
			tostring(rung), still)
	end
	v:clear_stale()
	v:log("stopped by %s after %.2fs", rung, core.now() - t0)
	return rung
end

-- kill(v) -> rung | nil, message.  The caller holds the VM's lock.
function M.kill(v)
	local pid, why = v:alive()
	if not pid then
		if not vm.stopped(why) then return nil, why end
		v:clear_stale()
		return nil, v.name .. " is not running"
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
			return nil, string.format("%s: pid %d survived SIGKILL", v.name,
				pid)
		end
	end
	v:clear_stale()
	v:log("killed by %s after %.2fs", rung, core.now() - t0)
	return rung
end

return M
