-- qmpbatch.lua: the same few QMP queries sent to many VMs at once,
-- all answered (or given up on) by one deadline.  top asks every running
-- VM each frame; asked one after another, a single QEMU that does not
-- answer (SIGSTOPped, wedged) would hold up all the others behind it.
--
-- Each VM gets one connection on which the whole exchange is written at
-- once: qmp_capabilities first, then the queries.  QEMU reads commands
-- in order and dispatches them one at a time, so the queries run after
-- the negotiation even though they were sent before the greeting came.
local core = require "nvq.core"
local protoread = require "protoread"
local util = require "util"

local M = {}

local MAXLINE = 1024 * 1024	-- bound on one reply line from QEMU
local CONNECT_WAIT = 0.05	-- seconds a full listen queue may take

local function request(id, q)
	local req = { execute = q.execute, id = id }
	if q.arguments then req.arguments = q.arguments end
	return util.json().encode(req) .. "\n"
end

-- The exchange written to every socket: capabilities, then the queries.
local function script(queries)
	local parts = { request("cap", { execute = "qmp_capabilities" }) }
	for i, q in ipairs(queries) do parts[#parts + 1] = request(i, q) end
	return table.concat(parts)
end

-- Reads whatever lines are already there (wait 0), up to the frame's
-- deadline; records replies by id.  Returns true when the job is over
-- (all replies, EOF or garbage).
local function drain(job, n, deadline)
	local line, why = protoread.read(job.ch, { deadline = deadline,
		wait = 0, max = MAXLINE }, function(_, msg)
		if msg == nil then return "garbage on the QMP socket" end
		-- Only ids asked (1..n) count: a reply to any other number
		-- must not complete the job with the real replies missing.
		local id = math.type(msg.id) and math.tointeger(msg.id)
		if id and id >= 1 and id <= n and job.replies[id] == nil then
			job.replies[id] = msg.error and { error = msg.error }
				or { ok = msg["return"] }
			job.got = job.got + 1
			return job.got == n
		elseif msg.id == "cap" and msg.error then
			return "QMP negotiation failed"
		end
		-- The greeting, events, and the capabilities reply: not needed.
		return false
	end)
	if line then return true end
	if why == "timeout" then return false end
	job.err = why
	return true
end

local function finish(job)
	if job.ch then job.ch:close() end
	job.ch = nil
end

-- run(paths, queries, deadline) -> results
-- paths: socket paths; queries: { {execute=, arguments=}, ... }.
-- results[i] = { replies = { [k] = {ok=value} | {error={class=,desc=}} | nil },
--                err = "timeout" | message | nil } for paths[i]:
-- a missing reply means it did not come by the deadline.
function M.run(paths, queries, deadline)
	local n = #queries
	local data = script(queries)
	local results, waiting = {}, {}
	for i, path in ipairs(paths) do
		local job = { replies = {}, got = 0 }
		results[i] = job
		-- A QEMU that does not accept leaves the connect to the kernel's
		-- backlog; once that is full, connect would wait: give it only
		-- a moment, so one stuck VM cannot eat the others' deadline.
		local ch, err = core.connect(path, math.min(deadline,
			core.now() + CONNECT_WAIT))
		if not ch then
			job.err = err
		else
			job.ch = ch
			local ok, why = ch:send(data, deadline)
			if ok then
				waiting[#waiting + 1] = job
			else
				job.err = why
				finish(job)
			end
		end
	end
	while #waiting > 0 and core.now() < deadline do
		local fds = {}
		for k, job in ipairs(waiting) do fds[k] = job.ch:fileno() end
		local ready = core.poll(fds, deadline)
		local still = {}
		for k, job in ipairs(waiting) do
			if ready[k] and drain(job, n, deadline) then
				finish(job)
			else
				still[#still + 1] = job
			end
		end
		waiting = still
	end
	for _, job in ipairs(waiting) do
		job.err = job.err or "timeout"
		finish(job)
	end
	for _, job in ipairs(results) do job.got = nil end
	return results
end

return M
