-- peers.lua: the QMP and agent clients against fake peers that
-- misbehave (fakepeer.pl, started by peers.t): every call ends by its
-- deadline however the peer talks, and a malformed reply is an error
-- value, never a Lua error.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local oneshot = require "oneshot"
local qga = require "qga"
local qmp = require "qmp"

local DIR = assert(os.getenv("TESTTMP"))
local WAIT = 0.5	-- the deadline each call is given
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

return t.done()
