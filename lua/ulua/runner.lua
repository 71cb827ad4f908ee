-- ulua/runner.lua: running the user's Lua -- shutdown and boot policies and
-- per-VM hooks.  One place decides how such code is found (the config
-- directory, else the copy built in), whether it may run (as root, only
-- files nobody but root can change, as sshd's StrictModes), what it sees
-- (the documented environment of nvqctl-lua(7), not nvqctl's modules),
-- how long it may run (a count hook it cannot escape) and how its errors
-- read (file:line).
local core = require "nvq.core"
local paths = require "base.paths"

local M = {}

local STEP = 10000	-- VM instructions between two looks at the clock
local LIMIT_MSG = "still running past its time limit; stopped"

-- Permissions ----------------------------------------------------------

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

-- One file or directory: nil, or what is wrong and the command that
-- fixes it.
-- A directory above the config directory may be writable by all when
-- sticky (/tmp): no one can replace what another user put there.
local function unsafe(path, what, sticky_ok)
	local st, err = core.stat(path)
	if not st then return err end
	if st.uid ~= 0 then
		return string.format("%s %s is owned by uid %d, not root " ..
			"(fix: chown root %s)", what, path, st.uid, path)
	end
	local w = st.mode & 18	-- 022: group and other write bits
	if sticky_ok and st.mode & 512 ~= 0 then w = 0 end	-- 01000
	if w ~= 0 then
		local who = w == 18 and "group and others" or w == 16 and "group"
			or "others"
		return string.format("%s %s is writable by %s (mode %04o; fix: " ..
			"chmod go-w %s)", what, path, who, st.mode, path)
	end
end

-- true, or nil and why: a user file nvqctl may run.  Only root's runs
-- are checked: a user running nvqctl on their own files risks only
-- themselves.  The file and every directory from the config directory
-- down to it must be root's and writable by no one else; so must the
-- directories above it up to / (sticky ones may be writable by all).
function M.check_perms(file)
	if core.geteuid() ~= 0 then return true end
	local why = unsafe(file, "file")
	if why then return nil, "refusing to run " .. file .. ": " .. why end
	local top = paths.confdir():gsub("/+$", "")
	local dir = dirname(file)
	while dir:sub(1, #top) == top do
		why = unsafe(dir, "directory")
		if why then return nil, "refusing to run " .. file .. ": " .. why end
		if #dir <= #top then break end
		dir = dirname(dir)
	end
	if top:sub(1, 1) == "/" then
		dir = top
		while dir ~= "/" do
			dir = dirname(dir)
			if dir == "" then dir = "/" end
			why = unsafe(dir, "directory", true)
			if why then
				return nil, "refusing to run " .. file .. ": " .. why
			end
		end
	end
	return true
end

-- Limits ---------------------------------------------------------------

-- The calls into user code in progress, innermost last: a boot policy
-- that starts a VM runs its hooks inside its own limit.
local active = {}

-- Every coroutine user code has made and not yet dropped.  A hook is set
-- per thread, and one made by a file's top level may be resumed by a
-- phase function in a later call: each call arms them all, and its end
-- puts them back as the outer call (or none) wants them.
local threads = setmetatable({}, { __mode = "k" })

local function current()
	return active[#active]
end

-- Only the user's code is stopped: nvqctl's own (the handle's methods,
-- the tail of call() below) runs on to its own deadlines.  env.load
-- never gives user code a chunk name starting with "@".
local function in_user_code()
	local info = debug.getinfo(3, "S")
	return not (info and info.source:sub(1, 5) == "@lua/")
end

local hook

-- Sets co's hook (the running thread's without co) as the innermost
-- call wants it: every STEP instructions, every line and instruction
-- once it has tripped, none outside a call.
local function arm(co)
	local c = current()
	if not c then
		if co then debug.sethook(co) else debug.sethook() end
	elseif co then
		debug.sethook(co, hook, c.tripped and "l" or "",
			c.tripped and 1 or STEP)
	else
		debug.sethook(hook, c.tripped and "l" or "", c.tripped and 1 or STEP)
	end
end

local function arm_threads()
	for co in pairs(threads) do
		if coroutine.status(co) ~= "dead" then arm(co) end
	end
end

-- The count hook: a look at the clock every STEP instructions.  Past the
-- limit it raises, and from then on on every line and instruction too,
-- so a pcall in the user's code catches it only to be stopped again at
-- its next step (Redis does the same).
function hook()
	local c = current()
	if not c then return end
	if not c.tripped then
		if core.now() <= c.limit then return end
		c.tripped = true
		arm_threads()
		arm()
	end
	if in_user_code() then error(LIMIT_MSG, 2) end
end

local function tripped()
	local c = current()
	return c and c.tripped
end

-- What the user's pcall returns.  Past the limit an error it caught is
-- raised again: near the C stack's limit the hook cannot even be called
-- (its call overflows), so the limit is looked at here too.
local function pass(ok, ...)
	if not ok then
		local c = current()
		if c and not c.tripped and core.now() > c.limit then
			c.tripped = true
			arm_threads()
			arm()
		end
		if c and c.tripped then
			-- Named after the user's line that called pcall, as the
			-- hook's own error is.
			local lv = 2
			local info = debug.getinfo(lv, "Sl")
			while info and info.source:sub(1, 5) == "@lua/" do
				lv = lv + 1
				info = debug.getinfo(lv, "Sl")
			end
			if info and info.currentline > 0 then
				error(info.short_src .. ":" .. info.currentline .. ": " ..
					LIMIT_MSG, 0)
			end
			error(LIMIT_MSG, 0)
		end
	end
	return ok, ...
end

-- The deadline a user's wait may use: never past the running call's
-- limit, since time spent inside C is not seen by the count hook.
function M.clamp(deadline)
	local c = current()
	if not c then return deadline end
	if deadline == nil or deadline > c.limit then return c.limit end
	return deadline
end

function M.limit()
	local c = current()
	return c and c.limit
end

-- A value of the user's as text, running none of its metamethods (no
-- hook may be armed any more): its own __tostring is not called.
function M.text(x)
	local t = type(x)
	if t == "string" then return x end
	if t == "number" or t == "boolean" or t == "nil" then
		return tostring(x)
	end
	return string.format("%s: %p", t, x)
end

-- A message for an error the user's code raised: file:line when the
-- value carries none (error{} or error("x", 0)).
local function message(e, where)
	local s = M.text(e)
	if type(e) ~= "string" and type(e) ~= "number" and where then
		s = where .. ": " .. s
	end
	return s
end

-- call(fn, limit, where, ...) -> true, results... | nil, message, kind
-- kind is "limit" when the call ran past limit (absolute, core.now()),
-- "error" when it raised.  The hook is armed right before the call and
-- disarmed right after, whatever happened; an outer call's is restored.
function M.call(fn, limit, where, ...)
	local outer = current()
	if outer and outer.limit < limit then limit = outer.limit end
	local ohook, omask, ocount = debug.gethook()
	local c = { limit = limit }
	active[#active + 1] = c
	arm_threads()
	arm()
	local res = table.pack(pcall(fn, ...))
	-- An error value's own __tostring runs while the hook is still on.
	local e = res[2]
	if not res[1] and type(e) ~= "string" and type(e) ~= "number" and
	    not c.tripped then
		local mt = debug.getmetatable(e)
		if mt and rawget(mt, "__tostring") ~= nil then
			local ok, s = pcall(tostring, e)
			res[2] = ok and type(s) == "string" and s or M.text(e)
		end
	end
	debug.sethook()
	active[#active] = nil
	arm_threads()
	if ohook then debug.sethook(ohook, omask, ocount) end
	if res[1] then return table.unpack(res, 1, res.n) end
	if c.tripped then
		local m = message(res[2], where)
		if not m:find(LIMIT_MSG, 1, true) then
			m = m .. " (" .. LIMIT_MSG .. ")"
		end
		return nil, m, "limit"
	end
	return nil, message(res[2], where), "error"
end

-- Environment ----------------------------------------------------------

local function copy(t, without)
	local o = {}
	for k, v in pairs(t) do
		if not (without and without[k]) then o[k] = v end
	end
	return o
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
local function user_run(argv, opt)
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
	if M.checking then
		error("run: programs are not run while hooks are only checked", 2)
	end
	local o = { stdin = opt.stdin, stdout = opt.stdout, stderr = opt.stderr,
		deadline = M.clamp(opt.deadline), pgroup = true }
	-- Where standard output is a command's own (list --json), what a
	-- program prints goes to standard error.
	local moved = M.out == io.stderr and (o.stdout == nil or
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
local function user_core()
	return {
		now = core.now,
		time = core.time,
		sleep = function(s)
			local l = M.limit()
			if l then s = math.max(0, math.min(s, l - core.now())) end
			return core.sleep(s)
		end,
		run = user_run,
		wait_exit = function(pid, deadline)
			return core.wait_exit(pid, M.clamp(deadline))
		end,
		alive = core.alive,
		kill = function(...)
			if M.checking then
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

local LIBS = { "string", "table", "math", "utf8" }
local BASE = { "assert", "error", "getmetatable", "ipairs", "next", "pairs",
	"pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select",
	"setmetatable", "tonumber", "tostring", "type", "xpcall", "_VERSION" }

-- A fresh global table for one file: the standard libraries without
-- what would end nvqctl (os.exit), run a shell string (os.execute,
-- io.popen), load files past the permission check (dofile, loadfile)
-- or switch the limit off (debug.sethook); require gives only the
-- documented modules.
function M.env()
	local env = {}
	for _, k in ipairs(BASE) do env[k] = _G[k] end
	env.print = function(...)
		local t = table.pack(...)
		for i = 1, t.n do t[i] = tostring(t[i]) end
		local out = M.out or io.stdout
		out:write(table.concat(t, "\t", 1, t.n), "\n")
		out:flush()
	end
	for _, k in ipairs(LIBS) do env[k] = copy(_G[k]) end
	env.os = copy(os, { exit = true, execute = true })
	-- Nothing that reads the terminal: a read there blocks in C, where
	-- the hook cannot stop it.  io.lines needs a file name.
	env.io = copy(io, { popen = true, read = true, input = true,
		stdin = true })
	-- While hooks are only checked (nvqctl hooks) no file is changed.
	local function no_write(what)
		if M.checking then
			error(what .. ": files are not changed while hooks are only " ..
				"checked", 3)
		end
	end
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
	-- getinfo tells where code is, never hands out a function ("f"):
	-- nvqctl's own would run unlimited.
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
	env.coroutine = copy(coroutine)
	env.coroutine.create = function(f)
		local co = coroutine.create(f)
		threads[co] = true
		arm(co)
		return co
	end
	env.coroutine.resume = function(co, ...)
		return pass(coroutine.resume(co, ...))
	end
	env.coroutine.wrap = function(f)
		local co = env.coroutine.create(f)
		return function(...)
			local r = table.pack(pass(coroutine.resume(co, ...)))
			if not r[1] then error(r[2], 0) end
			return table.unpack(r, 2, r.n)
		end
	end
	env.pcall = function(f, ...)
		return pass(pcall(f, ...))
	end
	-- Two places where Lua runs code with hooks off, so a loop there
	-- would outlive the limit: a message handler called for an error the
	-- hook raised, and a finalizer.  Past the limit the user's handler
	-- is skipped; __gc is refused.
	env.xpcall = function(f, handler, ...)
		return pass(xpcall(f, function(m)
			if tripped() then return m end
			return handler(m)
		end, ...))
	end
	env.setmetatable = function(t, mt)
		if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
			error("__gc metamethods are not available to hooks and " ..
				"policies (finalizers would run beyond the time limit)", 2)
		end
		return setmetatable(t, mt)
	end
	env.load = function(chunk, name, _, e)
		-- Text only: bytecode can crash the interpreter.  A name "@x"
		-- becomes "=x", which reads the same in messages but can never
		-- pass for nvqctl's own code ("@lua/...") that the hook spares.
		if type(name) == "string" and name:sub(1, 1) == "@" then
			name = "=" .. name:sub(2)
		end
		return load(chunk, name, "t", e or env)
	end
	local mods = { ["nvq.core"] = user_core() }
	for _, k in ipairs(LIBS) do mods[k] = env[k] end
	for _, k in ipairs({ "os", "io", "coroutine", "debug" }) do
		mods[k] = env[k]
	end
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

-- The VM handle ----------------------------------------------------------

-- The handle methods user code may call; the waits among them have the
-- deadline as the argument at the index given, clamped to the limit.
local METHODS = {
	now = 0, log = 0, say = 0, signal = 0, alive = 0,
	agent_shutdown = 2, agent_call = 3, powerdown = 1, reset = 1, quit = 1,
	qmp_call = 3, wait_exit = 1,
}

-- The view of a VM handle user code gets: the documented methods, the
-- name, the PID, and the config read-only.
function M.handle(v)
	local cfg = M.readonly(v.cfg or {})
	local h = {}
	local fns = {}
	for m, di in pairs(METHODS) do
		fns[m] = function(_, ...)
			local args = table.pack(...)
			if di > 0 then
				args[di] = M.clamp(args[di])
				if args.n < di then args.n = di end
			end
			return v[m](v, table.unpack(args, 1, args.n))
		end
	end
	return setmetatable(h, {
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

-- Loading --------------------------------------------------------------

-- load_file(path) -> chunk (not yet run), env | nil, why
function M.load_file(path)
	local ok, why = M.check_perms(path)
	if not ok then return nil, why end
	local env = M.env()
	local chunk, err = loadfile(path, "t", env)
	if not chunk then return nil, err end
	return chunk, env
end

function M.policy_file(name)
	return paths.confdir() .. "/policies/" .. name .. ".lua"
end

-- Policy names: what a file name and a config value may hold.
function M.valid_policy_name(name)
	return type(name) == "string" and name:match("^[%w_-]+$") ~= nil
		and #name <= 64
end

-- Where policy NAME comes from: { name, file = user file or nil,
-- builtin = built-in path or nil }.
function M.find_policy(name)
	local p = { name = name }
	local f = M.policy_file(name)
	if core.stat(f) then p.file = f end
	local chunk, where = core.builtin("policies." .. name)
	if chunk then p.builtin = where end
	return p
end

-- The shipped source of a policy, or nil.
function M.builtin_source(name)
	local _, _, text = core.builtin("policies." .. name)
	return text
end

-- Names of the built-in policies.
function M.builtin_policies()
	return core.builtins("policies.")
end

-- load_policy(name, limit [, builtin]) -> module, source | nil, why
-- (module is what the file returned, false for nothing)
-- The user's file when there is one (unless builtin), else the shipped
-- one; either way in the documented environment, its top level run
-- under the limit.
function M.load_policy(name, limit, builtin)
	if not M.valid_policy_name(name) then
		return nil, "invalid policy name '" .. tostring(name) .. "'"
	end
	local p = M.find_policy(name)
	local chunk, where
	if p.file and not builtin then
		local err
		chunk, err = M.load_file(p.file)
		if not chunk then return nil, err end
		where = p.file
	elseif p.builtin then
		chunk, where = core.builtin("policies." .. name)
		debug.setupvalue(chunk, 1, M.env())
	else
		return nil, "no policy named " .. name .. " (neither " ..
			M.policy_file(name) .. " nor a built-in one)"
	end
	local ok, mod = M.call(chunk, limit, where)
	if not ok then return nil, mod end
	if mod == nil then mod = false end
	return mod, where
end

return M
