-- boot/run.lua: one startall or stopall run, whatever acts on the VMs
-- (orch.lua's child processes, or orchsim.lua's simulated clock for
-- --dry-run): the record of what became of each VM, the part of the
-- boot policy's API both share (progress lines, waves, records), the
-- call into the policy, and the summary table and its JSON.
local bootview = require "boot.policyview"
local core = require "nvq.core"
local hooks = require "ulua.phases"
local userlua = require "ulua.runner"
local util = require "base.util"

local M = {}

-- The forcing's schedule (vm/force.lua), for the summary and --dry-run.
M.FORCE = require("vm.force").SCHEDULE

-- The events that end a task.
M.FINAL = { ready = true, notready = true, failed = true,
	stopped = true, forced = true, left = true, notrunning = true,
	gone = true, saved = true }

-- The progress line of an event (argument, seconds since the task
-- began); "started" and a clean stop are said by lifecycle itself.
M.SAY = { ready = "ready (%s%.1fs)", notready = "not ready: %s (%.1fs)",
	failed = "failed: %s", already = "already running, pid %s",
	stopped = "stopped by %s (forced, %.1fs)", left = "not stopped: %s",
	forced = "stopped by %s (forced, %.1fs)", forcing = "%s; forcing it",
	notrunning = "not running%s", gone = "gone%s",
	fallback = "%s; shutting it down instead" }

-- text without the VM's name where it says it again ("db: ..." or
-- "...: db: ..."): a progress line and a summary row name their VM
-- already, and messages from below (lifecycle, the VM's lock) name it
-- too because they are also printed alone.
function M.unname(name, text)
	if type(text) ~= "string" then return text end
	local tag = name .. ": "
	if text:sub(1, #tag) == tag then text = text:sub(#tag + 1) end
	local out, i = {}, 1
	while true do
		local j = text:find(": " .. tag, i, true)
		if not j then break end
		out[#out + 1] = text:sub(i, j + 1)
		i = j + 2 + #tag
	end
	out[#out + 1] = text:sub(i)
	return table.concat(out)
end

-- What each event makes of the VM's summary line.
function M.apply(rec, task, kind, arg)
	arg = M.unname(rec.name, arg)
	local forced = task.kind == "force"
	if kind == "started" or kind == "restored" then
		rec.result, rec.ok = kind, false
		rec.restored = kind == "restored"
	elseif kind == "saved" then
		rec.result, rec.ok, rec.rung = "saved (" .. arg .. ")", true, "save"
	elseif kind == "fallback" then
		rec.fallback = arg
	elseif kind == "already" then
		rec.result, rec.ok, rec.already = "already running", false, true
	elseif kind == "ready" then
		rec.result, rec.ok = rec.already and "already running" or
			rec.restored and "restored, ready" or "ready", true
	elseif kind == "notready" then
		rec.result, rec.ok = "started, not ready: " .. arg, false
	elseif kind == "failed" then
		rec.result, rec.ok = "failed: " .. arg, false
	elseif kind == "stopped" then
		rec.result = "stopped by " .. arg .. (forced and " (forced)" or "")
			.. (rec.fallback and " (" .. rec.fallback .. ")" or "")
		rec.ok, rec.forced, rec.rung = true, forced, arg
	elseif kind == "forced" then
		rec.result = "stopped by " .. arg .. " (forced)" ..
			(rec.fallback and " (" .. rec.fallback .. ")" or "")
		rec.ok, rec.forced, rec.rung = true, true, arg
	elseif kind == "gone" then
		-- Nothing to force: not running, or stopped since a task gave
		-- up on it; another outcome stands.
		if rec.result == rec.initial then
			rec.result, rec.ok = "not running", true
		elseif rec.result:find("^left running") then
			rec.result, rec.ok = "stopped", true
		end
	elseif kind == "left" then
		rec.result, rec.ok = "left running: " .. arg, false
	elseif kind == "notrunning" then
		rec.result, rec.ok = "not running", true
	end
	if M.FINAL[kind] then rec.t1 = core.now() end
end

function M.describe_ready(cfg)
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
		eff[name] = o	-- stopall may meet a cycle: cut it here
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

-- The part of the API the real and the simulated one share.
function M.api(api, run)
	api.global = run.global
	api.deadline = run.deadline
	api.waves = M.waves
	api.dependants = M.dependants
	api.describe_ready = M.describe_ready
	function api.elapsed() return api.now() - run.t0 end
	-- Every progress line passes here: what a guest or QEMU said in
	-- it is escaped, so one event stays one line.
	function api.say(fmt, ...)
		run.out:write(string.format("[%6.1fs] ", api.elapsed()),
			util.printable(string.format(fmt, ...)), "\n")
		run.out:flush()
	end
	function api.log(v, fmt, ...)
		api.say("%s: %s", v.name, M.unname(v.name,
			string.format(fmt, ...)))
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

-- A new run over vms; opt: json (progress lines to stderr), global,
-- deadline, command, initial (the result of a VM never acted on).
function M.new(vms, opt)
	-- Under --json standard output is the JSON's alone: what the hooks
	-- and the policy print, and the programs they run, go to standard
	-- error, in this process and in the tasks forked from it.
	if opt.json then userlua.out = io.stderr end
	local run = { t0 = core.now(), vms = {}, rec = {}, tasks = {},
		out = opt.json and io.stderr or io.stdout, global = opt.global,
		deadline = opt.deadline, command = opt.command,
		initial = opt.initial or "not acted on" }
	for _, v in ipairs(vms) do M.add(run, v) end
	return run
end

-- Adds a VM to the run (one found after it began), with its record.
function M.add(run, v)
	run.vms[#run.vms + 1] = v
	run.rec[v.name] = { name = v.name, notes = {}, ok = false,
		result = run.initial, check = v.check, initial = run.initial }
end

-- The policy ------------------------------------------------------------

-- Runs policies/boot.lua's fn(api, vms, opt) through userlua (the
-- user's file or the built-in one): true | nil, why.  Its errors are
-- reported as file:line, and one that spins past limit is stopped (it
-- sees the API and the VMs through bootview, which cuts every time it
-- passes to the limit).
-- builtin: the shipped policy, whatever the user installed.
function M.policy(fn, api, vms, opt, limit, builtin)
	local policy, where = userlua.load_policy("boot", limit, builtin)
	if policy == nil then
		return nil, "cannot load the boot policy: " .. tostring(where)
	end
	-- rawget: a metamethod of the user's would run outside the limit.
	local f = type(policy) == "table" and rawget(policy, fn)
	if type(f) ~= "function" then
		return nil, string.format("the boot policy (%s) does not export %s()",
			tostring(where), fn)
	end
	local papi, pvms = bootview.wrap(api, vms)
	local ok, why = userlua.call(f, limit, where, papi, pvms, opt)
	if not ok then return nil, "boot policy failed: " .. userlua.text(why) end
	return true
end

-- all.lua's phase around a startall or stopall (not under --dry-run):
-- a failure is a warning.
function M.global_hook(phase, event)
	local ok, why = hooks.run_global(phase, event)
	if not ok then util.warn("%s hook: %s", phase, why) end
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
			because = r.because, notes = r.notes, check = r.check,
			restored = r.restored or false, fallback = r.fallback }
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
			r.seconds and string.format("%.1f", r.seconds) or "-",
			util.printable(res)))
	end
end

-- The summary's one-word outcome and its reason, for scripts.
local function outcome(result)
	if result:find("^started, not ready") then
		return "not ready", result:match("^started, not ready: (.*)$")
	end
	if result:find("^stopped") then return "stopped", nil end
	if result:find("^saved") then return "saved", nil end
	if result == "restored, ready" then return "ready", nil end
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
			or json.null, required_only = r.check or false,
			restored = r.restored, fallback = r.fallback or json.null }
	end
	local doc = util.to_json({ command = run.command, dry_run = dry or false,
		ok = allok, elapsed_s = round(run.now() - run.t0),
		deadline_s = run.deadline and round(run.deadline - run.t0)
		or json.null, vms = #vms > 0 and vms or "[]" })
	-- lua-cjson writes an empty table as {}: the list is always an array.
	return (doc:gsub('"vms":"%[%]"', '"vms":[]'))
end

-- The end of startall and stopall: the summary (a table, JSON, or a
-- dry run's worst case, given as worst) and the exit code.
function M.finish(run, api, opts, ok, worst)
	local _, allok = M.summary(run)
	if opts.json then
		io.stdout:write(M.json(run, worst ~= nil), "\n")
	elseif worst then
		api.say("%s", worst)
	else
		io.stdout:write("\n")
		M.print_summary(run, io.stdout)
	end
	-- A dry run fails as the run would: a VM that cannot start (its
	-- record not ok) makes the exit 1, as its JSON's "ok" says.
	return (ok and allok) and 0 or 1
end

return M
