-- mux.lua: cases for lua/remote/mux.lua, run by mux.t against the fake
-- masters of fakemux.pl.  "started" tells the caller whether falling
-- back to a new ssh could run the command twice.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local mux = require "remote.mux"

local TMP = assert(os.getenv("TESTTMP"))
local function run(mode, secs)
	local t0 = core.now()
	local r, why, started = mux.run(TMP .. "/" .. mode, "nvqctl list",
		core.now() + (secs or 3))
	return r, why, started, core.now() - t0
end

local r, why, started = run("exit3")
t.is(r and r.status, 3, "exit3: the session's exit status")
t.is(r and r.stdout .. r.stderr, "", "exit3: no output, its pipes at EOF")

r = run("noexit")
t.like(r and r.fail or "", "without an exit status",
	"noexit: a session that ended without a status is a failure")

r, why, started = run("refuse")
t.ok(r == nil and started == false, "refuse: nothing started")
t.is(why, "ssh master: no more sessions", "refuse: the master's reason")

r, why, started = run("v3")
t.ok(r == nil and started == false, "v3: nothing started")
t.like(why, "another multiplexing version", "v3: said so")

r, why, started = run("huge")
t.ok(r == nil and started == false, "huge packet length: nothing started")

local took
r, why, started, took = run("hang", 0.5)
t.ok(r == nil and started == false and why == "timeout",
	"hang: a master that never answers is a timeout, nothing started")
t.ok(took < 1.5, string.format("hang: within the deadline (%.2fs)", took))

r, why, started = run("none")
t.ok(r == nil and started == false, "no socket: nothing started")

return t.done()
