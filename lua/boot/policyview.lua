-- boot/policyview.lua: what the boot policy sees of startall's and stopall's
-- API.  The policy is user code: it gets read-only views of the VMs,
-- their tasks and records (not nvqctl's objects, so it cannot change a
-- VM's config, take its lock or reach the VM class the tasks inherit),
-- and, against the real clock, every time it passes is cut to its own
-- limit, since time spent waiting in C is not seen by the count hook.
local userlua = require "ulua.runner"

local M = {}

local function refuse(what)
	return function(_, k)
		error(what .. " is read-only (cannot set " .. tostring(k) .. ")", 2)
	end
end

-- wrap(api, vms) -> the policy's api, the policy's vms
function M.wrap(api, vms)
	local real_time = not api.dry_run
	local vm_of, vview_of = {}, {}		-- view -> VM, VM -> view
	local task_of, tview_of = {}, {}	-- the same for tasks
	local cfgs = setmetatable({}, { __mode = "k" })

	local function clamp(t)
		if real_time then return userlua.clamp(t) end
		return t
	end

	local function vview(v)
		if v == nil or vview_of[v] then return vview_of[v] end
		local h = setmetatable({}, {
			__index = function(_, k)
				if k == "cfg" then
					local c = v.cfg or {}
					cfgs[c] = cfgs[c] or userlua.readonly(c)
					return cfgs[c]
				end
				if k == "name" or k == "running" or k == "check" or
				    k == "saved" then
					return v[k]
				end
			end,
			__newindex = refuse("the VM"),
			__metatable = false,
		})
		vview_of[v], vm_of[h] = h, v
		return h
	end

	local function tview(t)
		if t == nil or tview_of[t] then return tview_of[t] end
		local h = setmetatable({}, {
			__index = function(_, k)
				if k == "vm" then return vview(t.vm) end
				if k == "name" or k == "kind" or k == "state" or
				    k == "done" then
					return t[k]
				end
			end,
			__newindex = refuse("a task"),
			__metatable = false,
		})
		tview_of[t], task_of[h] = h, t
		return h
	end

	local function vm(h)
		local v = vm_of[h]
		if not v then error("not a VM of this run", 3) end
		return v
	end

	local function views(list, of, what)
		local out = {}
		for i, h in ipairs(list) do
			out[i] = of[h]
			if not out[i] then error("not a " .. what .. " of this run", 3) end
		end
		return out
	end

	local function time(x, what)
		if x ~= nil and (type(x) ~= "number" or x ~= x) then
			error(what .. " is not a number", 3)
		end
		return x
	end

	local p = {
		global = userlua.readonly(api.global or {}),
		deadline = api.deadline, dry_run = api.dry_run,
		now = api.now, elapsed = api.elapsed, say = api.say,
		describe_ready = api.describe_ready,
		waves = api.waves, dependants = api.dependants,
	}
	function p.log(h, ...) return api.log(vm(h), ...) end
	function p.skip(h, because) return api.skip(vm(h), because) end
	function p.note(h, text) return api.note(vm(h), text) end
	function p.leave(h, why) return api.leave(vm(h), why) end
	function p.record(h) return userlua.readonly(api.record(vm(h))) end
	function p.current(h) return tview(api.current(vm(h))) end

	function p.sleep_until(t)
		return api.sleep_until(clamp(time(t, "sleep_until's time")))
	end

	function p.wait(tasks, deadline)
		time(deadline, "wait's deadline")
		local t, ev = api.wait(views(tasks, task_of, "task"), clamp(deadline))
		if not t then return nil, ev end
		return tview(t), { kind = ev.kind, arg = ev.arg }
	end

	function p.start(h, o)
		local v = vm(h)
		o = type(o) == "table" and o or {}
		local rd = time(o.ready_deadline, "ready_deadline")
		if real_time then
			rd = clamp(rd or api.now() +
				(v.cfg.BOOT_READY_TIMEOUT or 120))
		end
		return tview(api.start(v, { ready_deadline = rd }))
	end

	function p.stop(h, o)
		local v = vm(h)
		o = type(o) == "table" and o or {}
		local q = { timeout = time(o.timeout, "timeout"),
			deadline = time(o.deadline, "deadline"),
			force_after = o.force_after and true or false,
			action = (o.action == "save" or o.action == "hibernate") and
				o.action or nil }
		if real_time then
			local now = api.now()
			local timeout = q.timeout or v.cfg.SHUTDOWN_TIMEOUT or 0
			q.deadline = clamp(q.deadline or now + timeout)
			q.timeout = math.max(0, math.min(timeout, q.deadline - now))
		end
		return tview(api.stop(v, q))
	end

	function p.force(list)
		local out = api.force(views(list, vm_of, "VM"))
		for i, t in ipairs(out) do out[i] = tview(t) end
		return out
	end

	local hv = {}
	for i, v in ipairs(vms) do hv[i] = vview(v) end
	return p, hv
end

return M
