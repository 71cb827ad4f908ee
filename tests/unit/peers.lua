-- peers.lua: the QMP and agent clients against fake peers that
-- misbehave (fakepeer.pl, started by peers.t): every call ends by its
-- deadline however the peer talks, and a malformed reply is an error
-- value, never a Lua error.  Then the readers are fuzzed: seeded random
-- streams (random bytes, NULs, 0xFF storms, huge lines, partial and
-- deeply nested JSON, replies to wrong ids, events) that never hold a
-- reply the client could take, so every call must return nil, why.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local oneshot = require "cmd.oneshot"
local qga = require "proto.qga"
local qmp = require "proto.qmpconn"
local qmpbatch = require "proto.qmpbatch"

local DIR = assert(os.getenv("TESTTMP"))
local SEED = assert(tonumber(os.getenv("NVQ_FUZZ_SEED")))
local ROUNDS = tonumber(os.getenv("NVQ_FUZZ_ROUNDS") or "") or 4
local WAIT = 0.5	-- the deadline each call is given
local FUZZ_WAIT = 0.25	-- the same, for the many hostile and fuzz calls
local SLACK = 0.5	-- what it may take beyond it

local function sock(mode) return DIR .. "/" .. mode .. ".sock" end

-- Runs fn(deadline); checks it returned nil by the deadline (+ SLACK).
local function bounded(fn, desc)
	local t0 = core.now()
	local ok, r, why = pcall(fn, t0 + WAIT)
	local took = core.now() - t0
	t.ok(ok and r == nil, desc .. ": fails")
	if not ok then t.diag("error: %s", tostring(r)) end
	t.ok(took < WAIT + SLACK, desc .. ": by its deadline")
	if took >= WAIT + SLACK then t.diag("took %.2fs", took) end
	return why
end

bounded(function(d) return qga.connect(sock("agent-syncflood"), d) end,
	"agent sync against a flood of wrong-id replies")
bounded(function(d) return qga.connect(sock("agent-noff"), d) end,
	"agent sync against a flood without 0xFF")

local c = assert(qmp.connect(sock("qmp-eventflood"), core.now() + 2))
bounded(function(d) return c:call("query-status", nil, d) end,
	"QMP call against a flood of events")
c:close()
c = assert(qmp.connect(sock("qmp-eventflood"), core.now() + 2))
c:send("query-status", nil, core.now() + 1)
bounded(function(d) return c:wait_event({ "NEVER" }, d) end,
	"QMP wait_event against a flood of other events")
c:close()
c = assert(qmp.connect(sock("qmp-eventflood"), core.now() + 2))
c:send("query-status", nil, core.now() + 1)
bounded(function(d)
	return oneshot.reply(c, d, function(kind) return kind == "reply" end)
end, "one-shot reply against a flood of events")
c:close()

c = assert(qmp.connect(sock("qmp-errnum"), core.now() + 2))
local ok, r, why = pcall(c.call, c, "query-status", nil, core.now() + 2)
t.ok(ok and r == nil and type(why) == "string",
	"QMP: an error reply that is no object is an error value")
if not ok then t.diag("error: %s", tostring(r)) end
c:close()

local a = assert(qga.connect(sock("agent-errnum"), core.now() + 2))
ok, r, why = pcall(a.call, a, "guest-ping", nil, core.now() + 2)
t.ok(ok and r == nil and type(why) == "string",
	"agent: an error reply that is no object is an error value")
if not ok then t.diag("error: %s", tostring(r)) end
a:close()

-- Hostile peers ------------------------------------------------------------

-- Connections made to each mode: the fake peer seeds connection N's
-- stream from the seed, the mode and N.
local nconn = {}
local function open(mode, fn)
	nconn[mode] = (nconn[mode] or 0) + 1
	return fn(sock(mode))
end

-- Runs fn(deadline) and returns nil when it ended by its deadline (+
-- SLACK) without raising and accept(r, why, ...) found nothing wrong
-- (by default: r is nil and why a string); else what went wrong.
local function nil_why(r, why)
	if r ~= nil or type(why) ~= "string" then
		return ("returned %s, %s"):format(tostring(r), tostring(why))
	end
end
local function judge(fn, wait, accept)
	local t0 = core.now()
	local ok, r, why = pcall(fn, t0 + wait)
	local took = core.now() - t0
	if not ok then return "raised: " .. tostring(r) end
	if took >= wait + SLACK then
		return ("took %.2fs for a %.2fs deadline"):format(took, wait)
	end
	return (accept or nil_why)(r, why)
end

-- qmpbatch returns results, never nil: no reply can have come, so
-- the job must end with an error ("timeout", "eof", garbage...).
local function batch_failed(res)
	if type(res) ~= "table" or type(res[1]) ~= "table" then
		return "no results table"
	end
	if next(res[1].replies) ~= nil or type(res[1].err) ~= "string" then
		return ("replies %s, err %s"):format(next(res[1].replies) and
			"recorded" or "none", tostring(res[1].err))
	end
end

local QUERY = { { execute = "query-status" } }

-- The readers, each as fn(mode, deadline) on a fresh connection, and
-- the accept check for what it returns.
local READERS = {
	{ "QMP connect", function(mode, d)
		return open(mode, function(p) return qmp.connect(p, d) end)
	end },
	{ "QMP call", function(mode, d)
		local c, err = open(mode, function(p)
			return qmp.connect(p, core.now() + 2)
		end)
		if not c then return "no connection", err end
		local _ <close> = c
		return c:call("query-status", nil, d)
	end },
	{ "QMP wait_event", function(mode, d)
		local c, err = open(mode, function(p)
			return qmp.connect(p, core.now() + 2)
		end)
		if not c then return "no connection", err end
		local _ <close> = c
		c:send("query-status", nil, d)
		return c:wait_event({ "NEVER" }, d)
	end },
	{ "one-shot QMP reply", function(mode, d)
		local c, err = open(mode, function(p)
			return qmp.connect(p, core.now() + 2)
		end)
		if not c then return "no connection", err end
		local _ <close> = c
		c:send_line('{"execute": "query-status", "id": "nvq-oneshot"}', d)
		return oneshot.reply(c, d, function(kind, _, id)
			return kind == "reply" and (id == nil or id == '"nvq-oneshot"')
		end)
	end },
	{ "qmpbatch", function(mode, d)
		return open(mode, function(p) return qmpbatch.run({ p }, QUERY, d) end)
	end, batch_failed },
	{ "agent connect", function(mode, d)
		return open(mode, function(p) return qga.connect(p, d) end)
	end },
	{ "agent call", function(mode, d)
		local a, err = open(mode, function(p)
			return qga.connect(p, core.now() + 2)
		end)
		if not a then return "no connection", err end
		local _ <close> = a
		return a:call("guest-ping", nil, d)
	end },
	{ "one-shot agent reply", function(mode, d)
		local a, err = open(mode, function(p)
			return qga.connect(p, core.now() + 2)
		end)
		if not a then return "no connection", err end
		local _ <close> = a
		a:send_line('{"execute": "guest-ping"}', d)
		return oneshot.reply(a, d, function(kind) return kind == "reply" end)
	end },
}
local R = {}
for _, r in ipairs(READERS) do R[r[1]] = r end

local function hostile(mode, readers)
	for _, name in ipairs(readers) do
		local r = R[name]
		local bad = judge(function(d) return r[2](mode, d) end, FUZZ_WAIT,
			r[3])
		t.ok(bad == nil, ("%s against %s: nil, why by its deadline"):format(
			name, mode))
		if bad then t.diag("%s", bad) end
	end
end

local QMP_READERS = { "QMP call", "one-shot QMP reply", "qmpbatch" }
for _, mode in ipairs({ "qmp-wrongid", "qmp-nul", "qmp-nullines",
    "qmp-hugeline", "qmp-partial", "qmp-deep" }) do
	hostile(mode, QMP_READERS)
end
hostile("qmp-nogreet", { "QMP connect", "qmpbatch" })
hostile("qmp-otherid", { "qmpbatch" })
hostile("agent-ffstorm", { "agent connect" })
hostile("agent-fflines", { "agent connect" })
for _, mode in ipairs({ "agent-nul", "agent-hugeline", "agent-partial" }) do
	hostile(mode, { "agent call", "one-shot agent reply" })
end

-- Random streams ------------------------------------------------------------

t.diag("peers: fuzz seed %d (NVQ_FUZZ_SEED=%d repeats the streams)", SEED,
	SEED)
local PLAN = {
	{ "qmp-random", { "QMP connect", "qmpbatch" } },
	{ "qmp-random-synced", { "QMP call", "QMP wait_event",
		"one-shot QMP reply", "qmpbatch" } },
	{ "agent-random", { "agent connect" } },
	{ "agent-random-synced", { "agent call", "one-shot agent reply" } },
}
local t0 = core.now()
local ncalls, failed = 0, {}
for _ = 1, ROUNDS do
	for _, p in ipairs(PLAN) do
		local mode = p[1]
		for _, name in ipairs(p[2]) do
			local r = R[name]
			local conn = (nconn[mode] or 0) + 1
			local bad = judge(function(d) return r[2](mode, d) end,
				FUZZ_WAIT, r[3])
			ncalls = ncalls + 1
			if bad then
				failed[mode .. name] = true
				t.diag("%s against %s, connection %d, NVQ_FUZZ_SEED=%d: %s",
					name, mode, conn, SEED, bad)
			end
		end
	end
end
for _, p in ipairs(PLAN) do
	for _, name in ipairs(p[2]) do
		t.ok(not failed[p[1] .. name], ("%s against %d random %s streams: nil, " ..
			"why by its deadline, never raised"):format(name, ROUNDS, p[1]))
	end
end
t.diag("peers: %d calls on random streams in %.2fs", ncalls, core.now() - t0)

return t.done()
