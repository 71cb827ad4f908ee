-- boot-sequential.lua: a boot policy that acts on one VM at a time, as
-- vm-bhyve's vm_list and vm_delay do: start each in turn (BOOT_ORDER,
-- then the order given), wait until it is ready, wait DELAY seconds,
-- start the next; stop them in the reverse order the same way.  At the
-- stopall deadline the VMs still running are forced (unless
-- HOST_SHUTDOWN_FORCE=no), as by the built-in policy.
--
-- Install: cp boot-sequential.lua $NVQCTL_CONFDIR/policies/boot.lua
-- It uses only the API described in README.md, "The boot policy".
local P = {}

local DELAY = 5		-- seconds between one VM and the next

-- The VMs one after another: BOOT_ORDER, then the order given.
local function in_order(api, vms, reverse)
	local out = {}
	for _, wave in ipairs(api.waves(vms, reverse)) do
		for _, v in ipairs(wave) do out[#out + 1] = v end
	end
	return out
end

-- Waits until the task has said its last word (or the deadline).
local function finish(api, task, deadline)
	while not task.done do
		if not api.wait({ task }, deadline) then return false end
	end
	return true
end

function P.startall(api, vms)
	for i, v in ipairs(in_order(api, vms)) do
		if i > 1 then api.sleep_until(api.now() + DELAY) end
		local ready_by = api.now() + v.cfg.BOOT_READY_TIMEOUT
		local task = api.start(v, { ready_deadline = ready_by })
		-- The task gives up at ready_by; the margin is for its report.
		if task then finish(api, task, ready_by + 30) end
	end
end

function P.stopall(api, vms, opt)
	local left = {}
	for i, v in ipairs(in_order(api, vms, true)) do
		if api.now() >= opt.deadline then
			left[#left + 1] = v
		else
			if i > 1 then
				api.sleep_until(math.min(opt.deadline, api.now() + DELAY))
			end
			local timeout = math.max(1, math.floor(math.min(
				v.cfg.SHUTDOWN_TIMEOUT, opt.deadline - api.now())))
			-- Forced at once if its own ladder gives up, as by the
			-- built-in policy.
			local task = api.stop(v, { timeout = timeout, force_after =
				api.global.HOST_SHUTDOWN_FORCE ~= false or
				v.cfg.SHUTDOWN_FORCE })
			if task and not finish(api, task, opt.deadline) then
				left[#left + 1] = v
			elseif task and task.state == "left" then
				left[#left + 1] = v
			end
		end
	end
	if #left == 0 then return end
	if api.global.HOST_SHUTDOWN_FORCE == false then
		for _, v in ipairs(left) do api.leave(v, "deadline passed") end
		return
	end
	local tasks = api.force(left)
	while #tasks > 0 do
		if not api.wait(tasks, api.now() + 15) then break end
		for i = #tasks, 1, -1 do
			if tasks[i].done then table.remove(tasks, i) end
		end
	end
end

return P
