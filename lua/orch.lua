-- orch.lua: the mechanism under the boot policy (policies/boot.lua).
-- It starts and stops VMs without waiting for them, waits for the next
-- event from any of them until a deadline, forces the ones left at the
-- global deadline all at once, and keeps the record the summary is
-- printed from.  Each VM task is a forked copy of nvqctl: the start
-- and stop code (the VM's lock, its shutdown policy, its deadlines)
-- runs in it unchanged, and one VM's trouble cannot reach the others.
-- The child reports one event per line over a pipe.
--
-- The API a policy sees (README, "The boot policy") is what new()
-- returns; dryrun() returns the same API over a simulated clock.
local config = require "config"
local core = require "nvq.core"
local lifecycle = require "lifecycle"
local ready = require "ready"
local util = require "util"

local M = {}

local FORCE_QUIT = 2		-- seconds from the forcing to SIGTERM
local FORCE_TERM = 5		-- ... to SIGKILL
local FORCE_KILL = 9		-- ... to giving up
local FORCE_LOCK = 1		-- seconds a forcing waits for the VM's lock
local REAP_WAIT = 2		-- seconds for a killed task to be reaped

-- Report lines: "kind<TAB>argument", newlines and tabs escaped.
local ESC = { ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
local UNESC = { ["\\"] = "\\", n = "\n", t = "\t" }

local function encode(kind, arg)
	return kind .. "\t" .. tostring(arg or ""):gsub("[\\\n\t]", ESC) .. "\n"
end

local function decode(line)
	local kind, arg = line:match("^(%w+)\t(.*)$")
	if not kind then return "log", line end
	return kind, (arg:gsub("\\(.)", UNESC))
end

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

-- The events that end a task.
local FINAL = { ready = true, notready = true, failed = true,
	stopped = true, left = true, notrunning = true, gone = true }

-- The progress line of an event (argument, seconds since the task
-- began); "started" and a clean stop are said by lifecycle itself.
local SAY = { ready = "ready (%s%.1fs)", notready = "not ready: %s (%.1fs)",
	failed = "failed: %s", already = "already running, pid %s",
	stopped = "stopped by %s (forced, %.1fs)", left = "not stopped: %s",
	notrunning = "not running%s", gone = "gone%s" }

-- What each event makes of the VM's summary line.
local function apply(rec, task, kind, arg)
	local forced = task.kind == "force"
	if kind == "started" then
		rec.result, rec.ok = "started", false
	elseif kind == "already" then
		rec.result, rec.ok, rec.already = "already running", false, true
	elseif kind == "ready" then
		rec.result, rec.ok = rec.already and "already running" or "ready",
			true
	elseif kind == "notready" then
		rec.result, rec.ok = "started, not ready: " .. arg, false
	elseif kind == "failed" then
		rec.result, rec.ok = "failed: " .. arg, false
	elseif kind == "stopped" then
		rec.result = "stopped by " .. arg .. (forced and " (forced)" or "")
		rec.ok, rec.forced, rec.rung = true, forced, arg
	elseif kind == "gone" and rec.result == "not acted on" then
		rec.result, rec.ok = "not running", true
	elseif kind == "gone" then
		rec.result, rec.ok = "stopped" .. (forced and " (forced)" or ""), true
		rec.forced = forced
	elseif kind == "left" then
		rec.result, rec.ok = "left running: " .. arg, false
	elseif kind == "notrunning" then
		rec.result, rec.ok = "not running", true
	end
	if FINAL[kind] then rec.t1 = core.now() end
end

local function describe_ready(cfg)
	local r = cfg.BOOT_READY
	if type(r) ~= "table" or r.kind == "started" or r.kind == nil then
		return "QMP answers"
	elseif r.kind == "agent" then return "the guest agent answers"
	elseif r.kind == "tcp" then
		return string.format("TCP %s:%s connects", tostring(r.host),
			tostring(r.port))
	end
	return string.format("serial shows %q", tostring(r.text))
end
M.describe_ready = describe_ready

local function list(t)
	return type(t) == "table" and t or {}
end

-- Waves: VMs grouped by BOOT_ORDER, raised where needed so that a VM is
-- never in an earlier wave than a VM of the set it waits for; ties keep
-- the order given.  reverse: the stop order, the exact reverse.
function M.waves(vms, reverse)
	local by, eff = {}, {}
	for i, v in ipairs(vms) do by[v.name] = { v = v, i = i } end
	local function order(name)
		if eff[name] then return eff[name] end
		local v = by[name].v
		local o = v.cfg.BOOT_ORDER or 100
		eff[name] = o	-- no cycles (bootgraph.check): a guard only
		for _, d in ipairs(list(v.cfg.BOOT_AFTER)) do
			if by[d] then o = math.max(o, order(d)) end
		end
		for _, d in ipairs(list(v.cfg.BOOT_REQUIRES)) do
			if by[d] then o = math.max(o, order(d)) end
		end
		eff[name] = o
		return o
	end
	local sorted = {}
	for i, v in ipairs(vms) do
		sorted[i] = { v = v, o = order(v.name), i = i }
	end
	table.sort(sorted, function(a, b)
		if a.o ~= b.o then
			if reverse then return a.o > b.o end
			return a.o < b.o
		end
		if reverse then return a.i > b.i end
		return a.i < b.i
	end)
	local waves = {}
	for _, s in ipairs(sorted) do
		local w = waves[#waves]
		if not w or w.order ~= s.o then
			w = { order = s.o }
			waves[#waves + 1] = w
		end
		w[#w + 1] = s.v
	end
	return waves
end

-- The VMs of the set that name v in BOOT_AFTER or BOOT_REQUIRES.
function M.dependants(vms, v)
	local out = {}
	for _, o in ipairs(vms) do
		for _, k in ipairs({ "BOOT_AFTER", "BOOT_REQUIRES" }) do
			for _, d in ipairs(list(o.cfg[k])) do
				if d == v.name then out[#out + 1] = o end
			end
		end
	end
	return out
end

-- Shared by the real and the simulated API.
local function common(api, run)
	api.global = run.global
	api.deadline = run.deadline
	api.waves = M.waves
	api.dependants = M.dependants
	api.describe_ready = describe_ready
	function api.elapsed() return api.now() - run.t0 end
	function api.say(fmt, ...)
		run.out:write(string.format("[%6.1fs] ", api.elapsed()),
			string.format(fmt, ...), "\n")
		run.out:flush()
	end
	function api.log(v, fmt, ...)
		api.say("%s: %s", v.name, string.format(fmt, ...))
	end
	function api.record(v) return run.rec[v.name] end
	function api.skip(v, because)
		local rec = run.rec[v.name]
		rec.result, rec.ok, rec.because = "skipped: " .. because, false,
			because
		rec.t1 = nil
		api.log(v, "skipped: %s", because)
	end
	function api.note(v, text)
		local rec = run.rec[v.name]
		rec.notes[#rec.notes + 1] = text
		api.log(v, "%s", text)
	end
	return api
end

local function new_run(vms, opt)
	local run = { t0 = core.now(), vms = vms, rec = {}, tasks = {},
		out = opt.json and io.stderr or io.stdout, global = opt.global,
		deadline = opt.deadline, command = opt.command }
	for _, v in ipairs(vms) do
		run.rec[v.name] = { name = v.name, notes = {}, ok = false,
			result = opt.initial or "not acted on", check = v.check }
	end
	return run
end

-- Tasks --------------------------------------------------------------

-- Forks a task running body(v, send) in the child; returns the task.
local function spawn(run, v, kind, body)
	local rfd, wfd, err = core.pipe()
	if not rfd then return nil, wfd end
	local pid
	pid, err = core.fork()
	if not pid then
		core.fdclose(rfd)
		core.fdclose(wfd)
		return nil, err
	end
	if pid == 0 then
		debug.sethook()	-- the policy's time limit is the parent's
		core.fdclose(rfd)
		for _, t in ipairs(run.tasks) do
			if t.fd then core.fdclose(t.fd) end
		end
		local function send(k, arg) core.fdwrite(wfd, encode(k, arg)) end
		-- The VM's progress lines go to the parent, which prints them
		-- with the elapsed time.
		v.say = function(_, fmt, ...)
			send("log", string.format(fmt, ...))
		end
		local ok, e = pcall(body, v, send)
		if not ok then
			send("failed", util.is_failure(e) and e.msg or tostring(e))
		end
		core._exit(0)
	end
	core.fdclose(wfd)
	local t = { vm = v, name = v.name, kind = kind, pid = pid, fd = rfd,
		buf = "", queue = {}, t0 = core.now() }
	run.tasks[#run.tasks + 1] = t
	return t
end

local function reap(t, wait)
	local deadline = core.now() + (wait or 0)
	while true do
		local st = core.waitpid(t.pid)
		if st then
			t.exit = st
			return st
		end
		if core.now() >= deadline then return nil end
		core.sleep(0.01)
	end
end

local function finish(run, t, api)
	core.fdclose(t.fd)
	t.fd = nil
	local st = reap(t, REAP_WAIT)
	if not t.done then
		-- A child that ended without its last word (killed, crashed).
		local why = st and (st.signal and "task killed by signal " ..
			st.signal or "task exited " .. tostring(st.status))
			or "task ended"
		t.queue[#t.queue + 1] = { kind = "failed", arg = why }
		t.done = true
		apply(run.rec[t.name], t, "failed", why)
		if api then api.log(t.vm, "%s", why) end
	end
end

-- Reads what a task has said: progress lines are printed, events queued.
local function drain(run, t, api)
	while t.fd do
		local data, why = core.fdread(t.fd)
		if data == nil and why == "again" then return end
		-- EOF, or a pipe that cannot be read: the task has said all.
		if not data or data == "" then return finish(run, t, api) end
		t.buf = t.buf .. data
		for line in t.buf:gmatch("([^\n]*)\n") do
			local kind, arg = decode(line)
			if kind == "log" then
				local text = arg:gsub("^" .. t.name:gsub("%p", "%%%0") ..
					": ", "")
				api.log(t.vm, "%s", text)
			else
				if FINAL[kind] then t.done = true end
				t.state = kind
				apply(run.rec[t.name], t, kind, arg)
				local say = SAY[kind]
				if say and not (kind == "stopped" and t.kind == "stop") then
					api.log(t.vm, say, arg, core.now() - t.t0)
				end
				t.queue[#t.queue + 1] = { kind = kind, arg = arg }
			end
		end
		t.buf = t.buf:match("[^\n]*$")
	end
end

-- Ends a task's child (its lock goes with it).
local function abandon(t)
	if t.fd then
		core.kill(t.pid, "KILL")
		reap(t, REAP_WAIT)
		core.fdclose(t.fd)
		t.fd = nil
	end
	t.done = true
end

-- Child bodies ---------------------------------------------------------

local function start_body(opt)
	return function(v, send)
		local lk, why = lock(v)
		if not lk then return send("failed", why) end
		local pid = v:alive()
		local watcher
		if pid then
			send("already", pid)
			local r = v.cfg.BOOT_READY
			if type(r) == "table" and r.kind == "serial" then
				-- What the console said before now is gone: a VM that
				-- runs already counts once QMP answers.
				send("log", "BOOT_READY=" .. tostring(r.spec) .. " cannot " ..
					"be seen on a VM already running; waiting for QMP")
				local c = setmetatable({ BOOT_READY = { kind = "started",
					spec = "started" } }, { __index = v.cfg })
				v.cfg = c
			end
		elseif opt.check then
			return send("failed", "not running")
		else
			-- Strict about disks now: a missing image fails this VM only.
			local cfg
			cfg, why = call(config.load, v.name, "start")
			if not cfg then return send("failed", why) end
			v.cfg = cfg
			pid, why = call(lifecycle.start, v, { context = "boot" })
			if not pid then return send("failed", why) end
			watcher = ready.begin(v)
			send("started", pid)
		end
		-- Started is done; another command may act on it meanwhile.
		lk:unlock()
		local ok
		ok, why = call(ready.wait, v, opt.ready_deadline, watcher)
		if ok then return send("ready") end
		send("notready", why)
	end
end

local function stop_body(opt)
	return function(v, send)
		local lk, why = lock(v, math.max(1, opt.deadline - core.now()))
		if not lk then return send("failed", why) end
		if not v:alive() then
			v:clear_stale()
			return send("notrunning")
		end
		local rung
		rung, why = call(lifecycle.stop, v, { timeout = opt.timeout,
			force = false, context = "host-shutdown",
			deadline = opt.deadline })
		if rung then return send("stopped", rung) end
		-- lifecycle's advice is for "nvqctl stop"; the policy decides.
		why = tostring(why):gsub("^" .. v.name:gsub("%p", "%%%0") .. ": ", "")
			:gsub("; left running.*$", "")
		if v:alive() then return send("left", why) end
		send("failed", why)
	end
end

-- QMP quit, SIGTERM, SIGKILL on one absolute schedule shared by every
-- VM forced at the same moment.
local function force_body(t0)
	return function(v, send)
		-- The lock if it comes at once (a killed task's went with it);
		-- at the deadline a VM is forced either way.
		lock(v, FORCE_LOCK)
		local pid = v:alive()
		if not pid then
			v:clear_stale()
			return send("gone")
		end
		local qdl = t0 + FORCE_QUIT
		v:log("forcing: QMP quit")
		if v:quit(qdl) and v:wait_exit(qdl) then
			v:clear_stale()
			return send("stopped", "quit")
		end
		v:log("forcing: SIGTERM")
		v:signal("TERM")
		if v:wait_exit(t0 + FORCE_TERM) then
			v:clear_stale()
			return send("stopped", "sigterm")
		end
		v:log("forcing: SIGKILL")
		v:signal("KILL")
		if v:wait_exit(t0 + FORCE_KILL) then
			v:clear_stale()
			return send("stopped", "sigkill")
		end
		send("left", "QEMU (pid " .. pid .. ") survived SIGKILL")
	end
end

-- The real API -----------------------------------------------------------

function M.new(vms, opt)
	local run = new_run(vms, opt)
	local api = common({ dry_run = false }, run)
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
			deadline = o.deadline or core.now() + timeout }))
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
			local fds, by = {}, {}
			for _, t in ipairs(tasks) do
				if #t.queue > 0 then
					return t, table.remove(t.queue, 1)
				end
				if t.fd then
					fds[#fds + 1] = t.fd
					by[#fds] = t
				end
			end
			if #fds == 0 then return nil, "idle" end
			if core.now() >= deadline then return nil, "timeout" end
			local r = core.poll(fds, deadline)
			for i, yes in ipairs(r) do
				if yes then drain(run, by[i], api) end
			end
		end
	end

	function api.current(v) return current[v.name] end

	return api, run
end

-- The simulated API for --dry-run ---------------------------------------

-- Every task takes its worst case: a start its whole BOOT_READY_TIMEOUT
-- (0 for "started"), a stop its whole timeout, a forcing FORCE_KILL.
function M.dryrun(vms, opt)
	local run = new_run(vms, opt)
	local api = common({ dry_run = true }, run)
	local clock = run.t0

	function api.now() return clock end
	run.now = api.now
	function api.sleep_until(t) if t > clock then clock = t end end

	local function sim(v, kind, events)
		local t = { vm = v, name = v.name, kind = kind, pending = events,
			queue = {}, t0 = clock }
		run.rec[v.name].t0 = run.rec[v.name].t0 or clock
		return t
	end

	local function names(l)
		local s = {}
		for _, n in ipairs(list(l)) do s[#s + 1] = n end
		return #s > 0 and table.concat(s, " ") or nil
	end

	function api.start(v, o)
		o = o or {}
		local c = v.cfg
		local limit = c.BOOT_READY_TIMEOUT or 120
		local rd = o.ready_deadline or clock + limit
		local kind = type(c.BOOT_READY) == "table" and c.BOOT_READY.kind
		local worst = (kind == nil or kind == "started") and 0 or rd - clock
		local parts = { "ready when " .. describe_ready(c) ..
			(worst > 0 and string.format(" (up to %ds)", math.floor(worst))
			or "") }
		if (c.BOOT_DELAY or 0) > 0 then
			parts[#parts + 1] = "then " .. c.BOOT_DELAY .. "s delay"
		end
		if names(c.BOOT_AFTER) then
			parts[#parts + 1] = "after " .. names(c.BOOT_AFTER)
		end
		if names(c.BOOT_REQUIRES) then
			parts[#parts + 1] = "requires " .. names(c.BOOT_REQUIRES)
		end
		if c.broken then
			api.log(v, "cannot start: %s", c.broken)
			return sim(v, "start", { { at = clock, kind = "failed",
				arg = c.broken } })
		end
		local what = v.running and "check (already running)" or
			(v.check and "check (needed, not in the list)" or "start")
		api.log(v, "would %s: %s", what, table.concat(parts, "; "))
		return sim(v, "start", {
			{ at = clock, kind = v.running and "already" or "started",
				arg = "" },
			{ at = clock + worst, kind = "ready", arg = "" } })
	end

	function api.stop(v, o)
		o = o or {}
		local timeout = o.timeout or v.cfg.SHUTDOWN_TIMEOUT
		api.log(v, "would stop through its shutdown policy (up to %ds)",
			math.floor(timeout))
		return sim(v, "stop", { { at = clock + timeout, kind = "stopped",
			arg = "acpi" } })
	end

	function api.force(l)
		local out = {}
		for _, v in ipairs(l) do
			api.log(v, "would force: QMP quit, SIGTERM, SIGKILL (up to %ds)",
				FORCE_KILL)
			out[#out + 1] = sim(v, "force", { { at = clock + FORCE_KILL,
				kind = "stopped", arg = "sigkill" } })
		end
		return out
	end

	function api.leave(v, why)
		api.log(v, "would be left running: %s", why)
	end

	function api.wait(tasks, deadline)
		local best, bt
		for _, t in ipairs(tasks) do
			local e = t.pending[1]
			if e and (not best or e.at < best.at) then best, bt = e, t end
		end
		if not best then return nil, "idle" end
		if best.at > deadline then
			api.sleep_until(deadline)
			return nil, "timeout"
		end
		api.sleep_until(best.at)
		table.remove(bt.pending, 1)
		bt.done = #bt.pending == 0
		bt.state = best.kind
		apply(run.rec[bt.name], bt, best.kind, best.arg)
		run.rec[bt.name].t1 = clock
		return bt, { kind = best.kind, arg = best.arg }
	end

	function api.current() return nil end

	return api, run
end

-- The policy ------------------------------------------------------------

-- Runs policies/boot.lua's fn(api, vms, opt): true | nil, why.  A
-- policy is the user's code: its errors are reported as file:line, and
-- one that spins past limit (every wait in the API has a deadline, so
-- only Lua code can) is stopped by a count hook.
function M.policy(fn, api, vms, opt, limit)
	local ok, policy, where = pcall(require, "policies.boot")
	if not ok then
		return nil, "cannot load the boot policy: " .. tostring(policy)
	end
	if type(policy) ~= "table" or type(policy[fn]) ~= "function" then
		return nil, string.format("the boot policy (%s) does not export %s()",
			tostring(where), fn)
	end
	debug.sethook(function()
		if core.now() > limit then
			error("still running past its time limit; stopped", 2)
		end
	end, "", 100000)
	local res = table.pack(pcall(policy[fn], api, vms, opt))
	debug.sethook()
	if not res[1] then
		return nil, "boot policy failed: " .. tostring(res[2])
	end
	return true
end

-- The summary ---------------------------------------------------------

-- Rows in the order the VMs were acted on; the others after them.
function M.summary(run)
	local rows, allok, order = {}, true, {}
	for i, v in ipairs(run.vms) do order[i] = { v = v, i = i } end
	table.sort(order, function(a, b)
		local ta = run.rec[a.v.name].t0 or math.huge
		local tb = run.rec[b.v.name].t0 or math.huge
		if ta ~= tb then return ta < tb end
		return a.i < b.i
	end)
	for _, o in ipairs(order) do
		local r = run.rec[o.v.name]
		local secs = r.t0 and r.t1 and r.t1 - r.t0 or nil
		rows[#rows + 1] = { name = r.name, result = r.result, ok = r.ok,
			seconds = secs, forced = r.forced or false, rung = r.rung,
			because = r.because, notes = r.notes, check = r.check }
		if not r.ok and not r.check then allok = false end
	end
	return rows, allok
end

function M.print_summary(run, out)
	local rows = M.summary(run)
	local w = 2
	for _, r in ipairs(rows) do w = math.max(w, #r.name) end
	out:write(string.format("%-" .. w .. "s  %7s  %s\n", "VM", "SECONDS",
		"RESULT"))
	for _, r in ipairs(rows) do
		local res = r.result
		if #r.notes > 0 then
			res = res .. " (" .. table.concat(r.notes, "; ") .. ")"
		end
		out:write(string.format("%-" .. w .. "s  %7s  %s\n", r.name,
			r.seconds and string.format("%.1f", r.seconds) or "-", res))
	end
end

-- The summary's one-word outcome and its reason, for scripts.
local function outcome(result)
	if result:find("^started, not ready") then
		return "not ready", result:match("^started, not ready: (.*)$")
	end
	if result:find("^stopped") then return "stopped", nil end
	local word, why = result:match("^([^:]+): (.*)$")
	return word or result, why
end

function M.json(run, dry)
	local json = util.json()
	local rows, allok = M.summary(run)
	local vms = {}
	local function round(x) return math.floor(x * 100 + 0.5) / 100 end
	for i, r in ipairs(rows) do
		local out, why = outcome(r.result)
		vms[i] = { name = r.name, result = r.result, outcome = out,
			reason = why or json.null, ok = r.ok,
			duration_s = r.seconds and round(r.seconds) or json.null,
			forced = r.forced, rung = r.rung or json.null,
			notes = #r.notes > 0 and table.concat(r.notes, "; ")
			or json.null, required_only = r.check or false }
	end
	local doc = util.to_json({ command = run.command, dry_run = dry or false,
		ok = allok, elapsed_s = round(run.now() - run.t0),
		deadline_s = run.deadline and round(run.deadline - run.t0)
		or json.null, vms = #vms > 0 and vms or "[]" })
	-- lua-cjson writes an empty table as {}: the list is always an array.
	return (doc:gsub('"vms":"%[%]"', '"vms":[]'))
end

return M
