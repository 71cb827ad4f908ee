-- boot/orch.lua: the mechanism under the boot policy (policies/boot.lua).
-- It starts and stops VMs without waiting for them, waits for the next
-- event from any of them until a deadline, and forces the ones left at
-- the global deadline all at once.  Each VM task is a forked copy of
-- nvqctl: the start and stop code (the VM's lock, its shutdown policy,
-- its deadlines) runs in it unchanged, and one VM's trouble cannot
-- reach the others.  The child reports one event per line over a pipe.
--
-- new() returns the API a policy sees (README, "The boot policy");
-- orchsim.lua gives the same API over a simulated clock.
local bootrun = require "boot.run"
local child = require "base.child"
local config = require "conf.load"
local core = require "nvq.core"
local force = require("vm.force").force
local hibernate = require "vm.hibernate"
local lifecycle = require "vm.lifecycle"
local poststop = require "vm.poststop"
local ready = require "boot.ready"
local recover = require "vm.recover"
local savefile = require "vm.savefile"
local saver = require "vm.saver"
local util = require "base.util"

local M = {}

local FORCE_LOCK = 1		-- seconds a forcing waits for the VM's lock

-- Calls library code in a child: nil, why for what it returns and for
-- an error it raises, so the child always has a last word to report.
local function call(f, ...)
	local res = table.pack(pcall(f, ...))
	if res[1] then return table.unpack(res, 2, res.n) end
	local e = res[2]
	if util.is_failure(e) then return nil, e.msg end
	return nil, tostring(e)
end

local function lock(v, wait)
	return call(v.lock, v, wait)
end

-- Tasks --------------------------------------------------------------

-- Forks a task running body(v, send) in the child; returns the task.
local function spawn(run, v, kind, body)
	local close = {}
	for _, t in ipairs(run.tasks) do
		if t.child.fd then close[#close + 1] = t.child.fd end
	end
	local c, err = child.spawn(function(send)
		debug.sethook()	-- the policy's time limit is the parent's
		-- The VM's progress lines go to the parent, which prints them
		-- with the elapsed time.
		v.say = function(_, fmt, ...)
			send("log", string.format(fmt, ...))
		end
		local ok, e = pcall(body, v, send)
		if not ok then
			send("failed", util.is_failure(e) and e.msg or tostring(e))
		end
	end, { close = close })
	if not c then return nil, err end
	local t = { vm = v, name = v.name, kind = kind, pid = c.pid, child = c,
		queue = {}, t0 = c.t0 }
	run.tasks[#run.tasks + 1] = t
	return t
end

local function finish(run, t, api)
	if not t.done then
		-- A child that ended without its last word (killed, crashed).
		local why = "task " .. t.child:how()
		t.queue[#t.queue + 1] = { kind = "failed", arg = why }
		t.done = true
		bootrun.apply(run.rec[t.name], t, "failed", why)
		if api then api.log(t.vm, "%s", why) end
	end
	t.child:reap(0)
end

-- Reads what a task has said: progress lines are printed, events queued.
local function drain(run, t, api)
	for _, r in ipairs(t.child:read()) do
		local kind, arg = r.kind, r.text
		if kind == "log" then
			local text = arg:gsub("^" .. t.name:gsub("%p", "%%%0") ..
				": ", "")
			api.log(t.vm, "%s", text)
		else
			if kind == "error" then kind = "failed" end
			if bootrun.FINAL[kind] then t.done = true end
			t.state = kind
			bootrun.apply(run.rec[t.name], t, kind, arg)
			local say = bootrun.SAY[kind]
			if say and not (kind == "stopped" and t.kind == "stop") then
				api.log(t.vm, say, arg, core.now() - t.t0)
			end
			t.queue[#t.queue + 1] = { kind = kind, arg = arg }
		end
	end
	if t.child.eof then finish(run, t, api) end
end

-- Ends a task's child (its lock goes with it) and what it runs: SIGTERM
-- takes the program it waits for (a hook's, in a group of its own)
-- along; its own process group goes after it.
local function abandon(t)
	t.child:kill()
	t.done = true
end

-- Child bodies ---------------------------------------------------------

local function start_body(opt)
	return function(v, send)
		local lk, why = lock(v)
		if not lk then return send("failed", why) end
		call(recover.recover, v)
		local pid = v:alive()
		local watcher
		-- What the console said before now is gone: a VM that runs
		-- already, or is restored, counts once QMP answers.
		local function no_serial(what)
			local r = v.cfg.BOOT_READY
			if type(r) == "table" and r.kind == "serial" then
				send("log", "BOOT_READY=" .. tostring(r.spec) .. " cannot " ..
					"be seen on a VM " .. what .. "; waiting for QMP")
				local c = setmetatable({ BOOT_READY = { kind = "started",
					spec = "started" } }, { __index = v.cfg })
				v.cfg = c
			end
		end
		if pid then
			send("already", pid)
			no_serial("already running")
		elseif opt.check then
			return send("failed", "not running")
		else
			-- Strict about disks now: a missing image fails this VM only.
			local cfg
			cfg, why = call(config.load, v.name, "start")
			if not cfg then return send("failed", why) end
			v.cfg = cfg
			local saved = savefile.saved(v.name)
			pid, why = call(lifecycle.start, v, { context = "boot" })
			if not pid then return send("failed", why) end
			if saved then no_serial("restored") end
			watcher = ready.begin(v)
			send(saved and "restored" or "started", pid)
		end
		-- Started is done; another command may act on it meanwhile.
		lk:unlock()
		local ok
		ok, why = call(ready.wait, v, opt.ready_deadline, watcher)
		if ok then return send("ready") end
		send("notready", why)
	end
end

-- HOST_SHUTDOWN=save or hibernate: true once done (the task has said
-- so), else false and the ladder follows with the time left (the task
-- has said why: "fallback").
local function other_action(v, send, opt)
	if opt.action == "save" then
		local size, why = call(saver.save, v, { context = "host-shutdown",
			deadline = opt.deadline })
		if size then
			send("saved", util.fmt_bytes(size))
			return true
		end
		send("fallback", "save refused: " .. tostring(why))
	elseif opt.action == "hibernate" then
		-- Half the time, so the ladder still has the rest.
		local ok, why = call(hibernate.hibernate, v, core.now() +
			math.max(1, (opt.deadline - core.now()) / 2), "host-shutdown")
		if ok then
			send("stopped", "hibernate")
			return true
		end
		send("fallback", "hibernate failed: " .. tostring(why))
	end
	return false
end

local function stop_body(opt)
	return function(v, send)
		-- Without the lock at the deadline, the VM is not stopped: "left"
		-- (the policy forces it).
		local lk, why = lock(v, math.max(1, opt.deadline - core.now()))
		if not lk then return send("left", why) end
		-- A save cut off earlier left the guest paused: it runs again
		-- first, or no ladder could reach it.
		call(recover.recover, v)
		if not v:alive() then
			poststop.fire(v, "exited", { context = "host-shutdown",
				deadline = opt.deadline })
			v:clear_stale()
			return send("notrunning")
		end
		if other_action(v, send, opt) then return end
		if not v:alive() then return send("stopped", "exited") end
		local rung
		-- In whole seconds: the shutdown policy says them.
		local timeout = math.max(1, math.floor(math.min(opt.timeout,
			opt.deadline - core.now())))
		rung, why = call(lifecycle.stop, v, { timeout = timeout,
			force = false, context = "host-shutdown",
			deadline = opt.deadline })
		if rung then return send("stopped", rung) end
		-- lifecycle's advice is for "nvqctl stop"; the policy decides.
		why = tostring(why):gsub("^" .. v.name:gsub("%p", "%%%0") .. ": ", "")
			:gsub("; left running.*$", "")
		if not v:alive() then
			poststop.fire(v, "exited", { context = "host-shutdown",
				deadline = opt.deadline })
			v:clear_stale()
			return send("failed", why)
		end
		if not opt.force_after then return send("left", why) end
		-- Forced here, under the lock this task holds, so that no
		-- other command on the VM slips in between.
		send("forcing", why)
		local fwhy
		rung, fwhy = force(v, core.now())
		if rung then
			poststop.fire(v, rung, { context = "host-shutdown",
				deadline = opt.deadline })
		end
		v:clear_stale()
		if rung then return send("forced", rung) end
		send("left", fwhy)
	end
end

local function force_body(t0)
	return function(v, send)
		-- The lock if it comes at once (a killed task's went with it);
		-- at the deadline a VM is forced either way.
		lock(v, FORCE_LOCK)
		if not v:alive() then
			poststop.fire(v, "exited", { context = "host-shutdown",
				deadline = t0 })
			v:clear_stale()
			return send("gone")
		end
		local rung, why = force(v, t0)
		-- Without the lock too: removing the run marker decides who
		-- runs post_stop.  Past the deadline, its hooks get their minimum.
		if rung then
			poststop.fire(v, rung, { context = "host-shutdown",
				deadline = t0 })
		end
		v:clear_stale()
		if rung then return send("stopped", rung) end
		send("left", why)
	end
end

-- The real API -----------------------------------------------------------

function M.new(vms, opt)
	local run = bootrun.new(vms, opt)
	local api = bootrun.api({ dry_run = false }, run)
	local current = {}	-- name -> the task acting on it now
	run.now = core.now

	function api.now() return core.now() end

	function api.sleep_until(t)
		local d = t - core.now()
		if d > 0 then core.sleep(d) end
	end

	local function go(v, kind, body)
		local t, why = spawn(run, v, kind, body)
		if not t then
			local rec = run.rec[v.name]
			rec.result, rec.ok = "failed: " .. tostring(why), false
			api.log(v, "cannot fork: %s", tostring(why))
			return nil, why
		end
		run.rec[v.name].t0 = run.rec[v.name].t0 or t.t0
		current[v.name] = t
		return t
	end

	function api.start(v, o)
		o = o or {}
		local limit = v.cfg.BOOT_READY_TIMEOUT or 120
		return go(v, "start", start_body({ check = v.check,
			ready_deadline = o.ready_deadline or core.now() + limit }))
	end

	function api.stop(v, o)
		o = o or {}
		local timeout = o.timeout or v.cfg.SHUTDOWN_TIMEOUT
		return go(v, "stop", stop_body({ timeout = timeout,
			deadline = o.deadline or core.now() + timeout,
			force_after = o.force_after, action = o.action }))
	end

	-- Forces every VM given at once; returns their tasks.
	function api.force(list_)
		local t0 = core.now()
		local out = {}
		for _, v in ipairs(list_) do
			local cur = current[v.name]
			if cur and not cur.done then abandon(cur) end
		end
		for _, v in ipairs(list_) do
			out[#out + 1] = go(v, "force", force_body(t0))
		end
		return out
	end

	-- Ends what a task was doing and records the VM as left running.
	function api.leave(v, why)
		local cur = current[v.name]
		if cur and not cur.done then abandon(cur) end
		local rec = run.rec[v.name]
		rec.result, rec.ok, rec.t1 = "left running: " .. why, false,
			core.now()
		api.log(v, "left running: %s", why)
	end

	-- The next event of any of the tasks: task, event; nil, "timeout"
	-- at the deadline; nil, "idle" when none of them has more to say.
	function api.wait(tasks, deadline)
		while true do
			-- SIGINT or SIGTERM (caught by the command): the policy
			-- ends here, nothing more is done to any VM.
			local sig = core.caught()
			if sig then
				run.signal = sig
				error("interrupted by SIG" .. sig, 0)
			end
			local open, by = {}, {}
			for _, t in ipairs(tasks) do
				if #t.queue > 0 then
					return t, table.remove(t.queue, 1)
				end
				if t.child.fd then
					open[#open + 1] = t.child
					by[t.child] = t
				end
			end
			if #open == 0 then return nil, "idle" end
			if core.now() >= deadline then return nil, "timeout" end
			for _, c in ipairs(child.poll(open, deadline)) do
				drain(run, by[c], api)
			end
		end
	end

	function api.current(v) return current[v.name] end

	-- After the policy: no task outlives the command.
	function run.close()
		for _, t in ipairs(run.tasks) do
			if t.child.fd or not t.child.exit then abandon(t) end
		end
	end

	return api, run
end

return M
