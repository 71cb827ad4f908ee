-- ulua/phases.lua: the user's per-VM hooks ($NVQCTL_CONFDIR/hooks/VM.lua and
-- hooks/all.lua), read afresh on every call, each phase of each file run
-- in a child of its own (ulua/runner.lua) with the VM handle, an event
-- table, HOOK_TIMEOUT and LUA_MEMORY; its standard output is standard
-- error (a command's own may be JSON).  A pre-phase may veto its
-- action; a post-phase's failure is a warning.
local core = require "nvq.core"
local paths = require "base.paths"
local userlua = require "ulua.runner"
local util = require "base.util"

local M = {}

M.VM_PHASES = { "pre_start", "post_start", "pre_stop", "post_stop" }
M.GLOBAL_PHASES = { "boot_begin", "boot_end", "shutdown_begin",
	"shutdown_end" }
M.DEFAULT_TIMEOUT = 30
M.MIN_TIME = 1		-- seconds a hook gets even when a deadline has passed
local CHECK_TIME = 2	-- seconds nvqctl hooks gives a file's top level

local is_vm_phase, is_global_phase = {}, {}
for _, p in ipairs(M.VM_PHASES) do is_vm_phase[p] = true end
for _, p in ipairs(M.GLOBAL_PHASES) do is_global_phase[p] = true end

function M.dir() return paths.confdir() .. "/hooks" end
function M.all_file() return M.dir() .. "/all.lua" end
function M.vm_file(name) return M.dir() .. "/" .. name .. ".lua" end

-- The files that apply to VM name (or, with none, all.lua alone), in the
-- order a pre-phase runs them: all.lua first; post-phases reverse it.
function M.files(name)
	local list = { { file = M.all_file(), scope = "all" } }
	-- A VM named "all" has no file of its own: all.lua runs once.
	if name and name ~= "all" then
		list[2] = { file = M.vm_file(name), scope = name }
	end
	return list
end

local function phase_allowed(scope, phase)
	return is_vm_phase[phase] or (scope == "all" and is_global_phase[phase])
end

-- load(f, limit) -> module table | nil, why.  The file's top level runs
-- under the limit, in the documented environment.
local function load(f, limit)
	local chunk, why = userlua.load_file(f.file)
	if not chunk then return nil, why end
	local ok, mod = userlua.call(chunk, limit, f.file)
	if not ok then return nil, mod end
	if type(mod) ~= "table" then
		return nil, string.format("%s: returns %s, not a table of phase " ..
			"functions", f.file, type(mod))
	end
	return mod
end

-- The limit of one hook call: HOOK_TIMEOUT, and never past the caller's
-- deadline (a stopall's), but always a little time.
local function limit_for(timeout, deadline)
	local now = core.now()
	local l = now + (timeout or M.DEFAULT_TIMEOUT)
	if deadline and deadline < l then
		l = math.max(deadline, now + M.MIN_TIME)
	end
	return l
end

-- Where a phase function is: file:line, for messages.
local function where(fn, file)
	local info = debug.getinfo(fn, "S")
	return info and info.linedefined > 0 and
		file .. ":" .. info.linedefined or file
end

-- The phase function of one file, in the child: true, or nil, why and
-- "load" or "veto", as call_one.
local function phase_body(f, phase, v, event, limit, note)
	local mod, why = load(f, limit)
	if not mod then return nil, why, "load" end
	local fn = rawget(mod, phase)
	if fn == nil then return true end
	if type(fn) ~= "function" then
		return nil, string.format("%s: %s is a %s, not a function", f.file,
			phase, type(fn)), "load"
	end
	local w = where(fn, f.file)
	note(w)
	local ev = {}
	for k, x in pairs(event) do ev[k] = x end
	ev.phase, ev.deadline = phase, limit
	local h = v and userlua.handle(v)
	local ok, r1, r2 = userlua.call(fn, limit, w, h, ev)
	if not ok then return nil, r1, "veto" end
	-- false, or nil and a reason: no, as nil, why means failure
	-- everywhere else.
	if r1 == false or (r1 == nil and r2 ~= nil) then
		return nil, string.format("%s: %s says no%s", w, phase,
			r2 ~= nil and ": " .. userlua.text(r2) or ""), "veto"
	end
	return true
end

-- One phase of one file.  true, or nil, why and its kind: "load" when
-- the file could not be used (refused, syntax, top-level error), "veto"
-- when the phase function said no, raised, or ran past its time or
-- memory.
local function call_one(f, phase, v, event, timeout)
	if not core.stat(f.file, true) then return true end
	local limit = limit_for(timeout, event.deadline)
	local ok, why, kind = userlua.isolated({ limit = limit, where = f.file,
		memory = v and v.cfg and v.cfg.LUA_MEMORY or event.memory,
		stdout_to_stderr = true,
		body = function(note)
			return phase_body(f, phase, v, event, limit, note)
		end })
	if ok then return true end
	return nil, why, kind == "load" and "load" or "veto"
end

-- Runs fn on each file: all.lua first for pre- and begin-phases, last
-- for the others, so the general setup wraps the VM's own.
local function each(list, phase, fn)
	local pre = phase:sub(1, 4) == "pre_" or phase:sub(-6) == "_begin"
	local first, last, step = 1, #list, 1
	if not pre then first, last, step = #list, 1, -1 end
	for i = first, last, step do
		local ok, why, kind = fn(list[i])
		if not ok then return nil, why, kind end
	end
	return true
end

-- run(v, phase, event) -> true | nil, why, kind
-- event: { reason =, context =, deadline = (absolute, optional) }.
-- For pre_start and pre_stop the first file that vetoes or fails ends
-- the phase: nil, why and kind ("veto", or "load" for a file refused or
-- broken); the caller refuses the action, or warns.  For
-- the others every file runs; their failures are printed as warnings
-- and the phase still returns true.
function M.run(v, phase, event)
	assert(is_vm_phase[phase], "hooks.run: unknown phase " .. tostring(phase))
	local pre = phase == "pre_start" or phase == "pre_stop"
	local timeout = v.cfg and v.cfg.HOOK_TIMEOUT
	event = event or {}
	return each(M.files(v.name), phase, function(f)
		local ok, why, kind = call_one(f, phase, v, event, timeout)
		if ok then return true end
		if pre then return nil, why, kind end
		util.warn("%s: %s hook: %s", v.name, phase, why)
		return true
	end)
end

-- run_global(phase, event) -> true | nil, why: all.lua's boot_begin,
-- boot_end, shutdown_begin, shutdown_end, with no VM handle.  Failures
-- are returned for the caller to print; they stop nothing.
function M.run_global(phase, event)
	assert(is_global_phase[phase], "hooks.run_global: unknown phase " ..
		tostring(phase))
	event = event or {}
	local f = M.files(nil)[1]
	local ok, why = call_one(f, phase, nil, event, event.timeout)
	if ok then return true end
	return nil, why
end

-- The check of one file, in the child: true, its phases and its
-- problems (each a line) | nil, why.
local function check_body(f)
	local mod, why = load(f, core.now() + CHECK_TIME)
	if not mod then return nil, why end
	local phases, problems = {}, {}
	for k, fn in next, mod do
		if not phase_allowed(f.scope, k) then
			problems[#problems + 1] = string.format("%s: %s is not a " ..
				"phase%s", f.file, userlua.text(k), is_global_phase[k] and
				" in a VM's file (only in all.lua)" or "")
		elseif type(fn) ~= "function" then
			problems[#problems + 1] = string.format("%s: %s is a %s, not " ..
				"a function", f.file, k, type(fn))
		else
			phases[#phases + 1] = k
		end
	end
	table.sort(phases)
	table.sort(problems)
	return true, table.concat(phases, " "), table.concat(problems, "\n")
end

-- check(name) -> report: what `nvqctl hooks VM` shows.  Each applying
-- file: exists, permissions, syntax, phases it exports and whether they
-- are known.  The file's top level runs (it should only define
-- functions), in a child, with programs refused; no phase function is
-- called.
function M.check(name)
	local out = {}
	for _, f in ipairs(M.files(name)) do
		local r = { file = f.file, scope = f.scope, phases = {},
			problems = {} }
		out[#out + 1] = r
		if core.stat(f.file, true) then
			r.exists = true
			local ok, phases, problems = userlua.isolated({
				limit = core.now() + CHECK_TIME, where = f.file,
				stdout_to_stderr = true, body = function()
					userlua.checking = true
					return check_body(f)
				end })
			if not ok then
				r.problems[1] = phases
			else
				for p in phases:gmatch("%S+") do r.phases[#r.phases + 1] = p end
				for p in problems:gmatch("[^\n]+") do
					r.problems[#r.problems + 1] = p
				end
			end
		end
	end
	return out
end

return M
