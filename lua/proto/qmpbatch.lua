-- proto/qmpbatch.lua: the same few QMP queries sent to many VMs at once,
-- all answered (or given up on) by one deadline.  top asks every running
-- VM each frame; asked one after another, a single QEMU that does not
-- answer (SIGSTOPped, wedged) would hold up all the others behind it.
--
-- Each VM gets one connection on which the whole exchange is written at
-- once: qmp_capabilities first, then the queries.  QEMU reads commands
-- in order and dispatches them one at a time, so the queries run after
-- the negotiation even though they were sent before the greeting came.
local core = require "nvq.core"
local protoread = require "proto.lineread"
local util = require "base.util"

local M = {}

local MAXLINE = 1024 * 1024	-- bound on one reply line from QEMU
local CONNECT_WAIT = 0.05	-- seconds a full listen queue may take
local RETRY_NAP = 0.01		-- seconds between connects a busy QEMU refused

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

-- A refused connect to a QEMU that holds its pidfile lock is a busy
-- QEMU, not a dead one: NetBSD refuses a full listen queue at once
-- (Linux makes connect wait, which CONNECT_WAIT bounds).
local function busy(job, code)
	return (code == "ECONNREFUSED" or code == "EAGAIN") and
		job.pidfile ~= nil and core.alive(job.pidfile) ~= nil
end

-- Connects and writes the exchange: then job.ch is set, or job.err, or
-- job.retry (refused by a busy QEMU: try again later).
local function open(job, data, deadline)
	-- A QEMU that does not accept leaves the connect to the kernel's
	-- backlog; once that is full, connect would wait: give it only
	-- a moment, so one stuck VM cannot eat the others' deadline.
	local ch, err, code = core.connect(job.path, math.min(deadline,
		core.now() + CONNECT_WAIT))
	job.retry = nil
	if not ch then
		if core.now() < deadline and busy(job, code) then
			job.retry = true
		end
		job.err = err
		return
	end
	job.err = nil
	job.ch = ch
	local ok, why = ch:send(data, deadline)
	if not ok then
		job.err = why
		finish(job)
	end
end

-- run(paths, queries, deadline [, pidfiles]) -> results
-- paths: socket paths; queries: { {execute=, arguments=}, ... };
-- pidfiles[i] (optional): the pidfile of the QEMU behind paths[i], so
-- that a connect it refuses while alive is tried again until the deadline.
-- results[i] = { replies = { [k] = {ok=value} | {error={class=,desc=}} | nil },
--                err = "timeout" | message | nil } for paths[i]:
-- a missing reply means it did not come by the deadline.
function M.run(paths, queries, deadline, pidfiles)
	local n = #queries
	local data = script(queries)
	local results, waiting, refused = {}, {}, {}
	-- Sorts a job just opened: reading, refused for now, or over.
	local function place(job)
		if job.ch then
			waiting[#waiting + 1] = job
		elseif job.retry then
			refused[#refused + 1] = job
		end
	end
	for i, path in ipairs(paths) do
		local job = { replies = {}, got = 0, path = path,
			pidfile = pidfiles and pidfiles[i] }
		results[i] = job
		open(job, data, deadline)
		place(job)
	end
	while (#waiting > 0 or #refused > 0) and core.now() < deadline do
		-- Refused connects are tried again every RETRY_NAP.
		local until_ = #refused > 0 and
			math.min(deadline, core.now() + RETRY_NAP) or deadline
		local ready = {}
		if #waiting > 0 then
			local fds = {}
			for k, job in ipairs(waiting) do fds[k] = job.ch:fileno() end
			ready = core.poll(fds, until_)
		else
			core.sleep(until_ - core.now())
		end
		local still = {}
		for k, job in ipairs(waiting) do
			if ready[k] and drain(job, n, deadline) then
				finish(job)
			else
				still[#still + 1] = job
			end
		end
		waiting = still
		local again = refused
		refused = {}
		for _, job in ipairs(again) do
			open(job, data, deadline)
			place(job)
		end
	end
	for _, job in ipairs(waiting) do
		job.err = job.err or "timeout"
		finish(job)
	end
	for _, job in ipairs(refused) do job.err = "timeout" end
	for _, job in ipairs(results) do
		job.got, job.path, job.pidfile, job.retry = nil, nil, nil, nil
	end
	return results
end

return M
