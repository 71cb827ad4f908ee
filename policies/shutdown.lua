-- shutdown.lua: the escalation ladder "nvqctl stop" climbs.
--
-- Copy this file to $NVQCTL_CONFDIR/policies/shutdown.lua to change it.
-- stop(vm, opt) gets the VM handle (README, "Policies and the Lua API") and
-- opt = { timeout = seconds, deadline = absolute time, force = bool,
-- start = absolute time the stop began };
-- it returns the name of the rung that ended the VM, or nil and why.
--
-- The rung reported is the last one applied (the agent took
-- guest-shutdown, QMP took system_powerdown) before QEMU was seen gone;
-- "exited" when none was.  The policy has until opt.deadline: past it,
-- nvqctl itself forces the VM when asked to (stop --force,
-- SHUTDOWN_FORCE=yes: QMP quit, SIGTERM, SIGKILL), whatever the policy
-- is doing then.
local P = {
	agent_sync = 3,		-- seconds for the agent to answer guest-sync
	agent_grace = 10,	-- seconds from guest-shutdown to trying ACPI too
	progress_every = 10,	-- seconds between "waiting for" lines
	acpi_repeat = true,	-- press the button again at each of those:
				-- a guest still booting ignores the first
}

-- Waits for the exit until the deadline, printing progress and calling
-- on_tick (if any) at each progress line.
local function wait(vm, opt, deadline, on_tick)
	local total = opt.timeout
	while true do
		local elapsed = vm:now() - opt.start
		local tick = opt.start + (math.floor(elapsed / P.progress_every) + 1)
			* P.progress_every
		if vm:wait_exit(math.min(deadline, tick)) then return true end
		if vm:now() >= deadline then return false end
		vm:say("waiting for %s: %ds/%ds", vm.name,
			math.floor(vm:now() - opt.start + 0.5), total)
		if on_tick then on_tick() end
	end
end

-- true once the agent took guest-shutdown and the VM is gone; the second
-- value says whether it took it.
local function try_agent(vm, opt)
	if not vm.cfg.GUEST_AGENT then return false, false end
	-- At most half the timeout, so ACPI always gets its turn.
	local ok, why = vm:agent_shutdown("powerdown",
		vm:now() + math.min(P.agent_sync, opt.timeout / 2))
	if not ok then
		vm:log("guest agent did not answer (%s); using ACPI", why)
		return false, false
	end
	vm:log("guest agent accepted guest-shutdown")
	local grace = math.min(opt.deadline, vm:now() + P.agent_grace)
	if wait(vm, opt, grace) then return true, true end
	if vm:now() < opt.deadline then
		vm:log("still running %ds after the agent accepted; adding ACPI",
			P.agent_grace)
	end
	return false, true
end

function P.stop(vm, opt)
	opt.start = opt.start or vm:now()
	local gone, took = try_agent(vm, opt)
	if gone then return "agent" end
	local last = took and "agent" or nil
	if vm:now() < opt.deadline then
		local ok, why = vm:powerdown(math.min(opt.deadline, vm:now() + 2))
		if ok then
			vm:log("sent ACPI power-button press")
			last = "acpi"
		else
			vm:log("ACPI powerdown failed: %s", why)
		end
		local again = P.acpi_repeat and function()
			if vm:powerdown(math.min(opt.deadline, vm:now() + 2)) then
				vm:log("pressed the ACPI power button again")
				last = "acpi"
			end
		end
		if wait(vm, opt, opt.deadline, again) then
			return last or "exited"
		end
	end
	return nil, string.format("still running after %ds", opt.timeout)
end

return P
