-- ulua/env.lua: what user Lua sees, as nvqctl-lua(7) documents it: a
-- fresh global table per file (the standard libraries without what
-- would end or bypass nvqctl, the documented part of nvq.core), and the
-- read-only view of a VM handle.  The runner that calls the code passes
-- itself as ctx: ctx.checking (nvqctl hooks: change nothing),
-- ctx.out (where print writes) and ctx.clamp (a wait's deadline, never
-- past the call's limit).
local core = require "nvq.core"

local M = {}

local function copy(t, without)
	local o = {}
	for k, v in pairs(t) do
		if not (without and without[k]) then o[k] = v end
	end
	return o
end

-- A value of the user's as text, running none of its metamethods.
function M.text(x)
	local t = type(x)
	if t == "string" then return x end
	if t == "number" or t == "boolean" or t == "nil" then
		return tostring(x)
	end
	return string.format("%s: %p", t, x)
end

-- A read-only view of a table (vm.cfg): tables inside are views too.
function M.readonly(t)
	local views = {}
	local function view(x)
		if type(x) ~= "table" then return x end
		if views[x] then return views[x] end
		local p = setmetatable({}, {
			__index = function(_, k) return view(x[k]) end,
			__newindex = function(_, k)
				error("vm.cfg is read-only (cannot set " .. tostring(k) ..
					")", 2)
			end,
			__len = function() return #x end,
			__pairs = function()
				return function(_, k)
					local nk, nv = next(x, k)
					return nk, view(nv)
				end, nil, nil
			end,
			__metatable = false,
		})
		views[x] = p
		return p
	end
	return view(t)
end

-- core.run for the user: an argv (never a shell string), a deadline no
-- later than the call's limit, and the program's whole process group
-- killed at it.
local function user_run(ctx, argv, opt)
	if type(argv) ~= "table" then
		error("run takes an argv table such as {\"ifconfig\", \"tap0\", " ..
			"\"up\"}, not a shell string", 2)
	end
	for i = 1, #argv do
		if type(argv[i]) ~= "string" then
			error("run: argv[" .. i .. "] is not a string", 2)
		end
	end
	opt = opt or {}
	if ctx.checking then
		error("run: programs are not run while hooks are only checked", 2)
	end
	local o = { stdin = opt.stdin, stdout = opt.stdout, stderr = opt.stderr,
		deadline = ctx.clamp(opt.deadline), pgroup = true }
	-- Where standard output is a command's own (list --json), what a
	-- program prints goes to standard error.
	local moved = ctx.out == io.stderr and (o.stdout == nil or
		o.stdout == "inherit")
	if moved then o.stdout = "capture" end
	local r, err = core.run(argv, o)
	if r and moved then
		io.stderr:write(r.stdout)
		r.stdout = ""
	end
	return r, err
end

-- The subset of nvq.core that is part of the contract (nvqctl-lua(7)).
local function user_core(ctx)
	return {
		now = core.now,
		time = core.time,
		sleep = function(s)
			local l = ctx.limit()
			if l then s = math.max(0, math.min(s, l - core.now())) end
			return core.sleep(s)
		end,
		run = function(argv, opt) return user_run(ctx, argv, opt) end,
		wait_exit = function(pid, deadline)
			return core.wait_exit(pid, ctx.clamp(deadline))
		end,
		alive = core.alive,
		kill = function(...)
			if ctx.checking then
				error("kill: signals are not sent while hooks are only " ..
					"checked", 2)
			end
			return core.kill(...)
		end,
		stat = core.stat,
		readdir = core.readdir,
		hostname = core.hostname,
		getpid = core.getpid,
		procstat = core.procstat,
	}
end

local LIBS = { "string", "table", "math", "utf8", "coroutine" }
local BASE = { "assert", "error", "getmetatable", "ipairs", "next", "pairs",
	"pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select",
	"setmetatable", "tonumber", "tostring", "type", "xpcall", "_VERSION" }

-- Files: nothing that reads the terminal (the command's standard input
-- is not the hook's), nothing changed while hooks are only checked.
local function user_io(ctx, env)
	local function no_write(what)
		if ctx.checking then
			error(what .. ": files are not changed while hooks are only " ..
				"checked", 3)
		end
	end
	env.io = copy(io, { popen = true, read = true, input = true,
		stdin = true })
	env.io.open = function(name, mode)
		if type(mode) == "string" and mode:find("[wa+]") then
			no_write("io.open")
		end
		return io.open(name, mode)
	end
	env.io.output = function(f)
		if f ~= nil then no_write("io.output") end
		return io.output(f)
	end
	for _, k in ipairs({ "remove", "rename", "tmpname" }) do
		env.os[k] = function(...)
			no_write("os." .. k)
			return os[k](...)
		end
	end
	env.io.lines = function(name, ...)
		if type(name) ~= "string" then
			error("io.lines needs a file name (standard input is not " ..
				"available to hooks and policies)", 2)
		end
		return io.lines(name, ...)
	end
end

-- new(ctx) -> a fresh global table for one file: the standard libraries
-- without what would end nvqctl (os.exit), run a shell string
-- (os.execute, io.popen), load files past the permission check (dofile,
-- loadfile) or reach nvqctl's own functions (debug beyond traceback and
-- getinfo's S and l); require gives only the documented modules.
function M.new(ctx)
	local env = {}
	for _, k in ipairs(BASE) do env[k] = _G[k] end
	env.print = function(...)
		local t = table.pack(...)
		for i = 1, t.n do t[i] = tostring(t[i]) end
		local out = ctx.out or io.stdout
		out:write(table.concat(t, "\t", 1, t.n), "\n")
		out:flush()
	end
	for _, k in ipairs(LIBS) do env[k] = copy(_G[k]) end
	env.os = copy(os, { exit = true, execute = true })
	user_io(ctx, env)
	env.debug = { traceback = debug.traceback, getinfo = function(...)
		local a = table.pack(...)
		local wi = type(a[1]) == "thread" and 3 or 2
		local what = a[wi]
		if what == nil then
			what = "Sl"
		elseif type(what) ~= "string" or what:find("[^Sl]") then
			error("debug.getinfo: only the options S and l are " ..
				"available to hooks and policies", 2)
		end
		a[wi] = what
		-- Level 1 is the caller's, not this function's.
		if wi == 2 and math.type(a[1]) == "integer" and a[1] > 0 then
			a[1] = a[1] + 1
		end
		return debug.getinfo(table.unpack(a, 1, wi))
	end }
	-- The metatables nvqctl shares (strings', files') are its own: a
	-- user changing them would change nvqctl.  A string's is a copy.
	local strmt = { __index = env.string }
	env.getmetatable = function(x)
		local t = type(x)
		if t == "string" then return strmt end
		if t == "table" then return getmetatable(x) end
		return nil
	end
	env.load = function(chunk, name, _, e)
		-- Text only: bytecode can crash the interpreter.
		return load(chunk, name, "t", e or env)
	end
	local mods = { ["nvq.core"] = user_core(ctx) }
	for _, k in ipairs(LIBS) do mods[k] = env[k] end
	for _, k in ipairs({ "os", "io", "debug" }) do mods[k] = env[k] end
	env.require = function(name)
		local m = mods[name]
		if m == nil then
			error("module '" .. tostring(name) .. "' is not available to " ..
				"hooks and policies (see nvqctl-lua(7))", 2)
		end
		return m
	end
	env._G = env
	return env
end

-- The handle methods user code may call; the waits among them have the
-- deadline as the argument at the index given, clamped to the limit.
local METHODS = {
	now = 0, log = 0, say = 0, signal = 0, alive = 0,
	agent_shutdown = 2, agent_call = 3, powerdown = 1, reset = 1, quit = 1,
	qmp_call = 3, wait_exit = 1,
}

-- handle(v, ctx): the view of a VM handle user code gets: the
-- documented methods, the name, the PID, and the config read-only.
function M.handle(v, ctx)
	local cfg = M.readonly(v.cfg or {})
	local fns = {}
	for m, di in pairs(METHODS) do
		fns[m] = function(_, ...)
			local args = table.pack(...)
			if di > 0 then
				args[di] = ctx.clamp(args[di])
				if args.n < di then args.n = di end
			end
			return v[m](v, table.unpack(args, 1, args.n))
		end
	end
	return setmetatable({}, {
		__index = function(_, k)
			if k == "cfg" then return cfg end
			if k == "name" or k == "pid" then return v[k] end
			return fns[k]
		end,
		__newindex = function(_, k)
			error("the VM handle is read-only (cannot set " ..
				tostring(k) .. ")", 2)
		end,
		__metatable = false,
	})
end

return M
