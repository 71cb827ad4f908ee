-- startall [-n|--dry-run] [--json] [vm ...]: starts a set of VMs in the
-- order the boot policy (policies/boot.lua) decides, one child process
-- per VM (lua/boot/orch.lua), and prints what became of each.
local bootset = require "boot.set"
local cmdlock = require "boot.cmdlock"
local core = require "nvq.core"
local bootrun = require "boot.run"
local orch = require "boot.orch"
local orchsim = require "boot.sim"
local policychild = require "boot.policychild"
local paths = require "base.paths"
local util = require "base.util"

local POLICY_SLACK = 60	-- seconds a policy may run past its worst case

return { run = function(pos, opts)
	for _, n in ipairs(pos) do
		if not paths.valid_name(n) then
			util.usage_error("invalid VM name '%s'", n)
		end
	end
	local global = util.check(bootset.global())
	local vms = util.check(bootset.for_start(pos))
	local dry = opts.n or opts["dry-run"]
	local ropt = { json = opts.json, global = global, command = "startall",
		initial = "not started" }
	local api, run = (dry and orchsim.new or orch.new)(vms, ropt)
	local limit = core.now() + POLICY_SLACK
	for _, v in ipairs(vms) do
		limit = limit + (v.cfg.BOOT_READY_TIMEOUT or 120) +
			(v.cfg.BOOT_DELAY or 0)
	end
	if #vms == 0 then
		api.say("no VM to start (none has AUTOSTART=yes)")
	elseif dry then
		api.say("plan: %d VMs, at most %d starting at once", #vms,
			global.BOOT_PARALLEL or 1)
	end
	local held	-- startall.lock, until the end: stopall finds us by it
	if not dry then
		held = util.check(cmdlock.for_startall())
		bootrun.global_hook("boot_begin", { context = "boot" })
	end
	local ok, why
	if dry then
		ok, why = bootrun.policy("startall", api, vms, { dry_run = dry },
			limit)
	else
		local how
		ok, why, how = policychild.run("startall", api, run, vms,
			{ dry_run = dry }, limit)
		-- Interrupted: the VMs stay as they are, no hook runs.
		if how ~= "signal" then
			bootrun.global_hook("boot_end", { context = "boot" })
		end
	end
	if not ok then util.warn("%s", why) end
	local rc = bootrun.finish(run, api, opts, ok, dry and string.format(
		"worst case: %ds until the last VM is ready",
		math.floor(api.elapsed() + 0.5)))
	if held then held:unlock() end
	return rc
end }
