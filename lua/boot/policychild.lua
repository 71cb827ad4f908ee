-- boot/policychild.lua: the boot policy (policies/boot.lua, or the
-- user's) run in a child process (base/child.lua), so that the parent
-- holds stopall's deadline whatever the policy does, even stuck in one
-- C call.  The child runs the policy over orch.lua's API (the VM tasks
-- are its children) and reports what the parent needs: each task as
-- it is forked, each VM record as it changes, each progress line.  The
-- parent prints, keeps the records and, when the child fails, overruns
-- or the command is interrupted, ends it and every task it reported.
local bootrun = require "boot.run"
local child = require "base.child"
local core = require "nvq.core"
local userlua = require "ulua.runner"
local util = require "base.util"

local M = {}

-- Seconds past its limit the child gets before it is ended: the limit
-- is the deadline, and the built-in policy acts on it the moment it
-- comes.
M.GRACE = 2

-- The API calls after which the child reports what changed.
local ACTIONS = { "start", "stop", "force", "leave", "wait", "skip",
	"note", "sleep_until" }

-- In the child: progress lines (api.say's writes) become reports.
local function say_writer(send)
	local buf = {}
	return {
		write = function(self, ...)
			for _, s in ipairs({ ... }) do buf[#buf + 1] = s end
			return self
		end,
		flush = function()
			local text = table.concat(buf)
			buf = { text:match("[^\n]*$") }
			for line in text:gmatch("([^\n]*)\n") do send("say", line) end
		end,
	}
end

-- In the child: reports the tasks forked and reaped and the records
-- changed since the last call.
local function reporter(run, send)
	local json = util.json()
	local told, sent = {}, {}
	return function()
		for _, t in ipairs(run.tasks) do
			if not told[t] then
				told[t] = "forked"
				send("task", string.format("%d %s %.3f", t.pid, t.kind, t.t0))
			end
			if t.state == "forcing" and told[t] == "forked" then
				-- A stop task forcing its VM: a forcing, for the limit.
				told[t] = "forcing"
				send("task", string.format("%d force %.3f", t.pid,
					core.now()))
			end
			if t.child.exit and told[t] ~= "reaped" then
				told[t] = "reaped"
				send("reaped", t.pid)
			end
		end
		for _, v in ipairs(run.vms) do
			local s = json.encode(run.rec[v.name])
			if s ~= sent[v.name] then
				sent[v.name] = s
				send("rec", s)
			end
		end
	end
end

local function body(fn, api, run, vms, popt, limit)
	return function(send)
		run.out = say_writer(send)
		local flush = reporter(run, send)
		for _, k in ipairs(ACTIONS) do
			local f = api[k]
			api[k] = function(...)
				local res = table.pack(f(...))
				flush()
				return table.unpack(res, 1, res.n)
			end
		end
		local ok, why = bootrun.policy(fn, api, vms, popt,
			limit + bootrun.FORCE.kill + M.GRACE)
		run.close()
		flush()
		send(ok and "done" or "failed", why)
	end
end

-- In the parent: one report.
local function take(st, r)
	if r.kind == "say" then
		st.out:write(r.text, "\n")
		st.out:flush()
	elseif r.kind == "task" then
		local pid, kind, t0 = r.text:match("^(%d+) (%S+) (%S+)$")
		if pid then
			st.tasks[tonumber(pid)] = { kind = kind, t0 = tonumber(t0) }
		end
	elseif r.kind == "reaped" then
		st.tasks[tonumber(r.text) or -1] = nil
	elseif r.kind == "rec" then
		local ok, rec = pcall(st.json.decode, r.text)
		local mine = ok and type(rec) == "table" and st.run.rec[rec.name]
		if mine then
			for k in pairs(mine) do mine[k] = nil end
			for k, x in pairs(rec) do mine[k] = x end
		end
	elseif r.kind == "done" then
		st.result = { true }
	elseif r.kind == "failed" or r.kind == "error" then
		st.result = { nil, r.text }
	end
end

-- The moment the child is ended: its limit, but a forcing it began
-- (at the deadline) runs its whole schedule.
local function hard_limit(st)
	local l = st.limit + M.GRACE
	for _, t in pairs(st.tasks) do
		if t.kind == "force" then
			l = math.max(l, t.t0 + bootrun.FORCE.kill + M.GRACE)
		end
	end
	return l
end

-- Ends the child and every task it reported still running: the child
-- is stopped first, so that it forks no more and its tasks' PIDs stay
-- theirs (unreaped) until each has been told; SIGTERM makes a task end
-- the program it waits for (a hook's) with it; then their groups go.
local function end_all(st)
	if not st.child.exit then core.kill(st.child.pid, "STOP") end
	local until_ = core.now() + 1
	for pid in pairs(st.tasks) do core.kill(pid, "TERM") end
	for pid in pairs(st.tasks) do core.wait_exit(pid, until_) end
	for pid in pairs(st.tasks) do core.killpg(pid) end
	st.child:kill(0)
	local names = {}
	for _, rec in pairs(st.run.rec) do
		if rec.t0 and not rec.t1 then names[#names + 1] = rec end
	end
	for _, rec in ipairs(names) do
		rec.notes[#rec.notes + 1] = "its task was ended"
	end
end

-- run(fn, api, run, vms, popt, limit) -> true | nil, why, how
-- Runs the policy's fn in a child until limit (absolute).  how, on a
-- failure: "failed" (the policy raised, or the child died), "limit",
-- or "signal" (SIGINT or SIGTERM reached this process: ended at once).
function M.run(fn, api, run, vms, popt, limit)
	local st = { out = run.out, run = run, tasks = {}, limit = limit,
		json = util.json() }
	core.catch_signals({ "INT", "TERM" })
	local c, err = child.spawn(body(fn, api, run, vms, popt, limit))
	if not c then return nil, "cannot fork the boot policy: " .. err, "failed" end
	st.child = c
	while true do
		for _, r in ipairs(c:read()) do take(st, r) end
		local sig = core.caught()
		if sig then
			end_all(st)
			return nil, "interrupted by SIG" .. sig, "signal"
		end
		if c.eof then break end
		if core.now() >= hard_limit(st) then
			end_all(st)
			local p = userlua.find_policy("boot")
			return nil, string.format("the boot policy (%s) did not " ..
				"finish by its limit (+%ds): ended", tostring(p.file or
				p.builtin), M.GRACE), "limit"
		end
		child.poll({ c }, hard_limit(st))
	end
	c:reap(2)
	if st.result and st.result[1] then return true end
	local why = st.result and st.result[2] or "the boot policy's process " ..
		c:how()
	end_all(st)
	return nil, why, "failed"
end

return M
