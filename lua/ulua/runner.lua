-- ulua/runner.lua: running the user's Lua -- shutdown and boot policies
-- and per-VM hooks.  One place decides how such code is found (the
-- config directory, else the copy built in), whether it may run
-- (ulua/trust.lua), what it sees (ulua/env.lua), how its errors read
-- (file:line) and what bounds it: each call runs in a child process
-- (base/child.lua) that the parent kills, with its whole process group,
-- at the call's time limit, whatever the code is doing -- even inside
-- one C call -- and whose interpreter may allocate only so much.
local child = require "base.child"
local core = require "nvq.core"
local env = require "ulua.env"
local paths = require "base.paths"
local trust = require "ulua.trust"

local M = {}

M.MEMORY = 256	-- MiB a call may allocate: LUA_MEMORY's default
M.LIMIT_MSG = "still running past its time limit; stopped"

local TERM_WAIT = 0.1	-- seconds a child at its limit gets to end its program
local LIFELINE = 2	-- seconds past its limit a child ends itself
local WAIT_MARGIN = 0.2	-- seconds between the end of a wait and the kill
local STEP = 10000	-- VM instructions between two looks at the clock
-- Values a call's answer may hold: every caller takes three at most, and
-- each value the parent keeps costs it up to child.MAX_TEXT, outside the
-- child's LUA_MEMORY.
M.MAX_VALUES = 16

-- The state user code's environment reads (env.new(M)): M.checking
-- (nvqctl hooks), M.out (io.stderr where standard output is a
-- command's JSON), M.deadline (the running call's limit), M.memory
-- (bytes a call may allocate, in a child).

-- The deadline a user's wait may use: never past the running call's
-- limit, so a wait ends before the child is killed.
function M.clamp(deadline)
	local l = M.deadline
	if not l then return deadline end
	if deadline == nil or deadline > l then return l end
	return deadline
end

function M.limit() return M.deadline end

M.text = env.text
M.readonly = env.readonly
function M.env() return env.new(M) end
function M.handle(v) return env.handle(v, M) end

-- A message for an error user code raised: file:line when the value
-- carries none (error{} or error("x", 0)); the memory cap by name.
local function message(e, where)
	if type(e) == "string" and e:find("not enough memory$") and M.memory then
		return string.format("%s: out of memory: past its cap of %d MiB " ..
			"(LUA_MEMORY); stopped", where or "?", M.memory // 1048576),
			"memory"
	end
	local s = env.text(e)
	if type(e) ~= "string" and type(e) ~= "number" then
		local ok, t = pcall(tostring, e)
		if ok and type(t) == "string" then s = t end
		if where then s = where .. ": " .. s end
	end
	return s, "error"
end

-- Outside a child of M.isolated (the boot policy, until it runs in a
-- child of its own), a plain loop is still stopped at the limit by a
-- count hook; a loop inside the code's own pcall, or a C call, is not:
-- only a child bounds those.
local function arm(limit)
	local function hook()
		if core.now() <= limit then return end
		-- nvqctl's own code (the API the policy calls) runs on to its
		-- own deadlines; the user's next line raises.  A count alone
		-- could land in nvqctl's code every time (a loop around
		-- api.wait spends nearly all its instructions there), so past
		-- the limit every line is looked at.
		if debug.getinfo(2, "S").source:sub(1, 5) ~= "@lua/" then
			error(M.LIMIT_MSG, 2)
		end
		debug.sethook(hook, "l")
	end
	debug.sethook(hook, "", STEP)
end

-- call(fn, limit, where, ...) -> true, results... | nil, message, kind
-- In this process: the process is the isolation (a child of
-- M.isolated, or the boot policy's own).  limit bounds the waits the
-- code asks for (M.clamp); kind is "error", or "memory" past the cap.
function M.call(fn, limit, where, ...)
	local outer = M.deadline
	if outer and outer < limit then limit = outer end
	M.deadline = limit
	local ohook, omask, ocount = debug.gethook()
	if M.memory then core.memcap(M.memory) else arm(limit) end
	local res = table.pack(pcall(fn, ...))
	if M.memory then core.memcap() else debug.sethook() end
	if ohook then debug.sethook(ohook, omask, ocount) end
	M.deadline = outer
	if res[1] then return table.unpack(res, 1, res.n) end
	local msg, kind = message(res[2], where)
	return nil, msg, kind
end

-- Values that cross the pipe: nil, booleans, numbers and strings as
-- themselves, anything else as its text.
local function encode(x)
	local t = type(x)
	if t == "nil" then return "z" end
	if t == "boolean" then return x and "b1" or "b0" end
	if t == "number" then
		return "n" .. (math.type(x) == "integer" and tostring(x) or
			string.format("%.17g", x))
	end
	if t == "string" then return "s" .. x end
	return "o" .. env.text(x)
end

local function decode(s)
	local tag, rest = s:sub(1, 1), s:sub(2)
	if tag == "b" then return rest == "1" end
	if tag == "n" then return math.tointeger(rest) or tonumber(rest) end
	if tag == "s" or tag == "o" then return rest end
	return nil
end

-- What runs in the child: the limits first, then the body; what it
-- returns is reported value by value, then "done" and the count.
local function in_child(job, send)
	if job.stdout_to_stderr then core.dup2(2, 1) end
	core.lifeline(job.limit + LIFELINE)
	-- The code's own waits end a moment before the kill, so that it
	-- can still say what timed out.
	M.deadline = job.limit - WAIT_MARGIN
	M.memory = (job.memory or M.MEMORY) * 1048576
	local res = table.pack(pcall(job.body, function(where)
		send("where", where)
	end))
	core.memcap()
	if res[1] then
		res = table.pack(table.unpack(res, 2, res.n))
	else
		res = table.pack(nil, (message(res[2], job.where)), "error")
	end
	if res.n > M.MAX_VALUES then
		res = table.pack(nil, string.format("%s: returned %d values " ..
			"(at most %d are taken)", job.where, res.n, M.MAX_VALUES),
			"error")
	end
	for i = 1, res.n do send("value", encode(res[i])) end
	send("done", res.n)
end

-- isolated(job) -> what job.body returned | nil, message, kind
-- job = { body = function(note) ... end, limit = absolute deadline,
-- where = the file, for messages, memory = MiB (default M.MEMORY),
-- stdout_to_stderr = bool }.  body runs in a child; note(where) says
-- where it is now (file:line of the function it calls), for the message
-- if the parent has to kill it: kind "limit" then.  An error body
-- raises is kind "error"; a child that dies without its answer too.
function M.isolated(job)
	local c, err = child.spawn(function(send) in_child(job, send) end)
	if not c then return nil, "cannot fork: " .. tostring(err), "error" end
	local where, vals, n = job.where, {}, nil
	while not c.eof and core.now() < job.limit do
		child.poll({ c }, job.limit)
		for _, r in ipairs(c:read()) do
			if r.kind == "where" then
				where = r.text
			elseif r.kind == "value" then
				-- Past the most a child sends: not kept.
				if #vals < M.MAX_VALUES then vals[#vals + 1] = r.text end
			elseif r.kind == "done" then
				n = math.tointeger(tonumber(r.text))
			elseif r.kind == "error" then
				vals, n = { "z", "s" .. r.text, "serror" }, 3
			end
		end
	end
	if not c.eof then
		c:kill(TERM_WAIT)
		return nil, where .. ": " .. M.LIMIT_MSG, "limit"
	end
	if not n or n < 0 or n > M.MAX_VALUES or #vals < n then
		return nil, string.format("%s: ended without an answer (%s)",
			where, c:how()), "error"
	end
	c:reap(1)
	local out = {}
	for i = 1, n do out[i] = decode(vals[i]) end
	return table.unpack(out, 1, n)
end

-- Loading --------------------------------------------------------------

-- load_file(path) -> chunk (not yet run), env | nil, why
function M.load_file(path)
	local text, why = trust.read(path)
	if not text then return nil, why end
	local e = M.env()
	local chunk, err = load(text, "@" .. path, "t", e)
	if not chunk then return nil, err end
	return chunk, e
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
-- by M.call.
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
