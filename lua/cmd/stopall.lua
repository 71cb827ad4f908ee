-- stopall [-n|--dry-run] [--timeout s] [--json] [vm ...]: stops a set of
-- VMs (every running one by default) in the reverse boot order, each
-- through its own shutdown policy in a child process of its own, all
-- within one deadline, after which those left are forced at once.
local bootset = require "boot.set"
local cmdlock = require "boot.cmdlock"
local bootrun = require "boot.run"
local orch = require "boot.orch"
local orchsim = require "boot.sim"
local policychild = require "boot.policychild"
local paths = require "base.paths"
local util = require "base.util"
local vmarg = require "vm.arg"

local POLICY_SLACK = 60	-- seconds a policy may run past its deadline

local function still_running(vms)
	local left = {}
	for _, v in ipairs(vms) do
		if v:alive() then left[#left + 1] = v end
	end
	return left
end

-- After a boot policy that failed, or returned with VMs it should
-- have stopped still running: the built-in policy stops them in the
-- time left, each through its own shutdown policy, forcing only at the
-- deadline (or leaving them, HOST_SHUTDOWN_FORCE=no).
local function finish_builtin(api, run, vms, popt, limit)
	local left = still_running(vms)
	if #left == 0 then return end
	local names = {}
	for i, v in ipairs(left) do names[i] = v.name end
	api.say("the built-in boot policy stops %s in the %.0fs left",
		table.concat(names, " "), math.max(0, popt.deadline - api.now()))
	local ok, why = bootrun.policy("stopall", api, left, popt, limit, true)
	if not ok then util.warn("%s", why) end
	run.close()
end

-- HOST_SHUTDOWN_FORCE=yes: whatever the policies did (or failed to
-- do), no QEMU of the set is left running.
local function force_left(api, run, vms)
	local left = still_running(vms)
	if #left == 0 then return end
	local names = {}
	for i, v in ipairs(left) do names[i] = v.name end
	api.say("still running after the boot policy: forcing %s",
		table.concat(names, " "))
	local tasks = api.force(left)
	local until_ = api.now() + bootrun.FORCE.kill + 5
	while #tasks > 0 do
		local t = api.wait(tasks, until_)
		if not t then break end
		if t.done then
			for i, x in ipairs(tasks) do
				if x == t then table.remove(tasks, i) break end
			end
		end
	end
	run.close()
end

-- A VM that began to run after stopall looked (one a startall it ended
-- had just launched): stopped the same way, in the time left.
local function late(api, run, popt, limit)
	local more = {}
	for _, v in ipairs(bootset.for_stop({}, true) or {}) do
		if not run.rec[v.name] then
			bootrun.add(run, v)
			more[#more + 1] = v
		end
	end
	if #more > 0 then finish_builtin(api, run, more, popt, limit) end
end

return { run = function(pos, opts)
	for _, n in ipairs(pos) do
		if not paths.valid_name(n) then
			util.usage_error("invalid VM name '%s'", n)
		end
	end
	local timeout = opts.timeout and
		util.check(vmarg.seconds(opts.timeout, "timeout"))
	local global = util.check(bootset.global())
	timeout = timeout or global.HOST_SHUTDOWN_TIMEOUT or 300
	local dry = opts.n or opts["dry-run"]
	-- Named VMs are checked before anything is done.
	local vms = (dry or #pos > 0) and util.check(bootset.for_stop(pos))
	local ropt = { json = opts.json, global = global, command = "stopall",
		initial = "not stopped" }
	local api, run = (dry and orchsim.new or orch.new)({}, ropt)
	local deadline = api.now() + timeout
	run.deadline, api.deadline = deadline, deadline
	local held	-- the locks, until the end: no startall meanwhile
	if not dry then
		-- What runs is known once a startall in progress has ended.
		held = util.check(cmdlock.for_stopall(deadline, api.say))
		vms = util.check(bootset.for_stop(pos))
	end
	for _, v in ipairs(vms) do bootrun.add(run, v) end
	if #vms == 0 then
		api.say("no VM to stop")
	else
		api.say("stopping %d VMs within %ds (HOST_SHUTDOWN_FORCE=%s)", #vms,
			timeout, global.HOST_SHUTDOWN_FORCE == false and "no" or "yes")
	end
	local hev = { context = "host-shutdown", deadline = deadline }
	if not dry then bootrun.global_hook("shutdown_begin", hev) end
	local popt = { dry_run = dry, deadline = deadline, timeout = timeout }
	local ok, why, how
	if dry then
		ok, why = bootrun.policy("stopall", api, vms, popt,
			deadline + POLICY_SLACK)
	else
		ok, why, how = policychild.run("stopall", api, run, vms, popt,
			deadline)
		if how == "signal" then run.signal = true end
	end
	if not ok then util.warn("%s", why) end
	if not dry and not run.signal then
		local force = global.HOST_SHUTDOWN_FORCE ~= false
		if not ok or force then
			finish_builtin(api, run, vms, popt, deadline + POLICY_SLACK)
		end
		if force and not run.signal then force_left(api, run, vms) end
		if #pos == 0 and not run.signal then
			late(api, run, popt, deadline + POLICY_SLACK)
		end
	end
	if run.signal then
		-- Interrupted: the VMs stay as they are, no hook runs.
		run.close()
		ok = false
	elseif not dry then
		bootrun.global_hook("shutdown_end", hev)
	end
	local rc = bootrun.finish(run, api, opts, ok, dry and string.format(
		"worst case: %ds of the %ds deadline",
		math.floor(api.elapsed() + 0.5), timeout))
	for _, lk in ipairs(held or {}) do lk:unlock() end
	return rc
end }
