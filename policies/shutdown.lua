-- shutdown.lua: the escalation ladder "nvqctl stop" climbs.
--
-- Copy this file to $NVQCTL_CONFDIR/policies/shutdown.lua to change it.
-- stop(vm, opt) gets the VM handle (README, "Policies and the Lua API") and
-- opt = { timeout = seconds, deadline = absolute time, force = bool,
-- start = absolute time the stop began };
-- it returns the name of the rung that ended the VM, or nil and why.
local P = {
	agent_sync = 3,		-- seconds for the agent to answer guest-sync
	agent_grace = 10,	-- seconds from guest-shutdown to trying ACPI too
	progress_every = 10,	-- seconds between "waiting for" lines
	acpi_repeat = true,	-- press the button again at each of those:
				-- a guest still booting ignores the first
	quit_wait = 3,		-- seconds each forced rung is given
	term_wait = 3,
	kill_wait = 5,
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

local function try_agent(vm, opt)
	if not vm.cfg.GUEST_AGENT then return false end
	-- At most half the timeout, so ACPI always gets its turn.
	local ok, why = vm:agent_shutdown("powerdown",
		vm:now() + math.min(P.agent_sync, opt.timeout / 2))
	if not ok then
		vm:log("guest agent did not answer (%s); using ACPI", why)
		return false
	end
	vm:log("guest agent accepted guest-shutdown")
	local grace = math.min(opt.deadline, vm:now() + P.agent_grace)
	if wait(vm, opt, grace) then return true end
	if vm:now() < opt.deadline then
		vm:log("still running %ds after the agent accepted; adding ACPI",
			P.agent_grace)
	end
	return false
end

local function force(vm)
	vm:log("forcing: QMP quit")
	if vm:quit(vm:now() + P.quit_wait) and
	    vm:wait_exit(vm:now() + P.quit_wait) then
		return "quit"
	end
	vm:log("forcing: SIGTERM")
	if vm:signal("TERM") and vm:wait_exit(vm:now() + P.term_wait) then
		return "sigterm"
	end
	vm:log("forcing: SIGKILL")
	vm:signal("KILL")
	if vm:wait_exit(vm:now() + P.kill_wait) then return "sigkill" end
	return nil, "the QEMU process survived SIGKILL"
end

function P.stop(vm, opt)
	opt.start = opt.start or vm:now()
	if try_agent(vm, opt) then return "agent" end
	if vm:now() < opt.deadline then
		local ok, why = vm:powerdown(math.min(opt.deadline, vm:now() + 2))
		if ok then
			vm:log("sent ACPI power-button press")
		else
			vm:log("ACPI powerdown failed: %s", why)
		end
		local again = P.acpi_repeat and function()
			if vm:powerdown(math.min(opt.deadline, vm:now() + 2)) then
				vm:log("pressed the ACPI power button again")
			end
		end
		if wait(vm, opt, opt.deadline, again) then return "acpi" end
	end
	if not opt.force then
		return nil, string.format("still running after %ds", opt.timeout)
	end
	vm:log("still running after %ds", opt.timeout)
	return force(vm)
end

return P
