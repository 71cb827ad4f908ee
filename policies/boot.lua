-- boot.lua: the order in which "nvqctl startall" and "nvqctl stopall"
-- act on VMs: waves by BOOT_ORDER, BOOT_AFTER and BOOT_REQUIRES waits,
-- readiness, BOOT_DELAY, the BOOT_PARALLEL limit, and one deadline for
-- the whole stopall.
--
-- Copy this file to $NVQCTL_CONFDIR/policies/boot.lua to change it.
-- It is written only against the API in README.md ("The boot policy"):
-- startall(api, vms, opt) and stopall(api, vms, opt) get the VMs in the
-- order given (each { name, cfg, running, check }) and return nothing;
-- what happened to each VM is recorded by the API for the summary.
local P = {
	force_reserve = 10,	-- seconds kept before the stopall deadline
				-- for the forced rungs (at most a third)
	idle_wake = 60,		-- seconds between checks while nothing moves
}

local function names_of(l)
	local out = {}
	for _, v in ipairs(l) do out[#out + 1] = v.name end
	return table.concat(out, " ")
end

local function remove(l, x)
	for i, y in ipairs(l) do
		if y == x then return table.remove(l, i) end
	end
end

function P.startall(api, vms, opt)
	local limit = api.global.BOOT_PARALLEL or 1
	local in_set = {}
	for _, v in ipairs(vms) do in_set[v.name] = v end
	local done = {}		-- name -> "ready" | why it is not
	local free_at = {}	-- name -> when its dependants may start

	-- May v start now?  true; false, wake time; or "skip", because.
	local function check(v)
		local wake
		for _, k in ipairs({ "BOOT_REQUIRES", "BOOT_AFTER" }) do
			for _, d in ipairs(v.cfg[k] or {}) do
				if in_set[d] then
					if not done[d] then return false end
					if done[d] == "ready" and free_at[d] > api.now() then
						wake = math.max(wake or 0, free_at[d])
					end
				elseif k == "BOOT_REQUIRES" then
					return "skip", "requires " .. d ..
						", which is not running"
				end
			end
		end
		if wake then return false, wake end
		for _, d in ipairs(v.cfg.BOOT_REQUIRES or {}) do
			if done[d] ~= "ready" then
				return "skip", "requires " .. d .. ", which " .. done[d]
			end
		end
		return true
	end

	for n, wave in ipairs(api.waves(vms)) do
		api.say("wave %d (BOOT_ORDER %d): %s", n, wave.order, names_of(wave))
		-- Saved VMs first: a restore is quicker than a boot.
		local pending, active = {}, {}
		for _, v in ipairs(wave) do
			if v.saved then pending[#pending + 1] = v end
		end
		for _, v in ipairs(wave) do
			if not v.saved then pending[#pending + 1] = v end
		end
		while #pending > 0 or #active > 0 do
			local wake = api.now() + P.idle_wake
			local i = 1
			while i <= #pending and #active < limit do
				local v = pending[i]
				local go, arg = check(v)
				if go == "skip" then
					remove(pending, v)
					done[v.name] = "was skipped"
					api.skip(v, arg)
				elseif go then
					remove(pending, v)
					for _, d in ipairs(v.cfg.BOOT_AFTER or {}) do
						if done[d] and done[d] ~= "ready" then
							api.note(v, "started although " .. d .. " " ..
								done[d])
						end
					end
					local t = api.start(v, { ready_deadline = api.now() +
						(v.cfg.BOOT_READY_TIMEOUT or 120) })
					if t then
						active[#active + 1] = t
					else
						done[v.name] = "could not be started"
					end
				else
					if arg then wake = math.min(wake, arg) end
					i = i + 1
				end
			end
			if #active == 0 then
				if #pending > 0 then api.sleep_until(wake) end
			else
				local t, ev = api.wait(active, wake)
				if t and t.done then remove(active, t) end
				if t and ev.kind == "ready" then
					done[t.name] = "ready"
					free_at[t.name] = api.now() + (t.vm.cfg.BOOT_DELAY or 0)
				elseif t and ev.kind == "notready" then
					done[t.name] = "was not ready in time"
				elseif t and t.done and not done[t.name] then
					done[t.name] = "failed"
				end
			end
		end
		-- BOOT_DELAY also holds the next wave back.
		local last = api.now()
		for _, v in ipairs(wave) do
			if free_at[v.name] then last = math.max(last, free_at[v.name]) end
		end
		api.sleep_until(last)
	end
end

function P.stopall(api, vms, opt)
	local deadline = opt.deadline
	local reserve = math.min(P.force_reserve, (deadline - api.now()) / 3)
	local host_force = api.global.HOST_SHUTDOWN_FORCE ~= false
	local finished = {}	-- name -> true once nothing more will be done
	local running = {}	-- tasks still at work, all waves

	local function settle(t)
		if not t.done then return end
		remove(running, t)
		finished[t.name] = true
	end

	local function stop(v)
		local left = deadline - reserve - api.now()
		local timeout = math.max(1, math.floor(0.5 + math.min(
			v.cfg.SHUTDOWN_TIMEOUT, left)))
		-- A VM whose own ladder gives up is forced at once, in its
		-- task (under its lock), not at the deadline.
		-- HOST_SHUTDOWN=save or hibernate: tried first in the task,
		-- which falls back to the shutdown policy in the time left.
		local t = api.stop(v, { timeout = timeout,
			force_after = host_force or v.cfg.SHUTDOWN_FORCE,
			action = v.cfg.HOST_SHUTDOWN })
		if t then
			running[#running + 1] = t
		else
			finished[v.name] = true
		end
	end

	local waves = api.waves(vms, true)
	for n, wave in ipairs(waves) do
		if api.now() >= deadline then break end
		api.say("wave %d (BOOT_ORDER %d): %s", n, wave.order, names_of(wave))
		local pending = { table.unpack(wave) }
		while #pending > 0 and api.now() < deadline do
			-- A VM stops after the VMs that wait for it.
			local i = 1
			while i <= #pending do
				local v, ready = pending[i], true
				for _, d in ipairs(api.dependants(vms, v)) do
					if not finished[d.name] then ready = false end
				end
				if ready then
					table.remove(pending, i)
					stop(v)
				else
					i = i + 1
				end
			end
			if #pending > 0 then
				local t, why = api.wait(running, deadline)
				if t then
					settle(t)
				elseif why == "idle" then
					-- Nothing under way can free them: they wait for
					-- one another (a cycle in the configs).  Each
					-- still gets its clean stop, all of them at once.
					api.say("%s wait for one another (a BOOT_AFTER or " ..
						"BOOT_REQUIRES cycle): stopping them together",
						names_of(pending))
					for _, v in ipairs(pending) do stop(v) end
					pending = {}
				else
					break
				end
			end
		end
		-- The next wave once this one is done.
		while api.now() < deadline do
			local busy = false
			for _, v in ipairs(wave) do
				if not finished[v.name] then busy = true end
			end
			if not busy then break end
			local t = api.wait(running, deadline)
			if not t then break end
			settle(t)
		end
	end
	-- Until the deadline, what is under way may finish.
	while #running > 0 do
		local t = api.wait(running, deadline)
		if not t then break end
		settle(t)
	end
	local forcing, rest = {}, {}
	for _, t in ipairs(running) do
		if t.kind == "force" or t.state == "forcing" then
			forcing[t.name] = true
		end
	end
	-- Every VM not known stopped: one whose task gave up (another
	-- command held its lock, say) may still run.
	for _, v in ipairs(vms) do
		if not forcing[v.name] and not (finished[v.name] and
		    api.record(v).ok) then
			rest[#rest + 1] = v
		end
	end
	if #rest == 0 then
		-- Forcings under way end on their own schedule.
		while #running > 0 do
			local t = api.wait(running, api.now() + P.force_reserve + 5)
			if not t then break end
			settle(t)
		end
		return
	end
	if not host_force then
		for _, v in ipairs(rest) do
			if not finished[v.name] then
				api.leave(v, "the stopall deadline passed " ..
					"(HOST_SHUTDOWN_FORCE=no)")
			end
		end
		return
	end
	api.say("deadline: forcing %s at once", names_of(rest))
	for _, t in ipairs(api.force(rest)) do running[#running + 1] = t end
	while #running > 0 do
		local t = api.wait(running, api.now() + P.force_reserve + 5)
		if not t then break end
		settle(t)
	end
end

return P
