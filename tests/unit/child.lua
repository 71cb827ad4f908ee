-- child.lua: base/child.lua, the one mechanism for nvqctl's children:
-- reports in linear time and bounded, errors reported, a group killed.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local child = require "base.child"
local core = require "nvq.core"

-- Reads a child's reports until EOF or the deadline; also the CPU time
-- the parent spent reading them (what a busy machine does not inflate).
local function collect(c, deadline)
	local out, cpu = {}, 0
	while c.fd and core.now() < deadline do
		child.poll({ c }, deadline)
		local c0 = os.clock()
		for _, r in ipairs(c:read()) do out[#out + 1] = r end
		cpu = cpu + os.clock() - c0
	end
	return out, cpu
end

local c = child.spawn(function(send)
	send("log", "a\tb\nc\\d")
	send("done", "")
end)
local r = collect(c, core.now() + 5)
t.is(#r, 2, "two reports")
t.is(r[1].kind, "log", "kind")
t.is(r[1].text, "a\tb\nc\\d", "tabs, newlines and backslashes come through")
t.is(r[2].kind, "done", "the last report")
t.ok(c.eof, "EOF seen")
t.is(c:reap(2).status, 0, "the child exits 0")

-- A 1 MB report line: read in linear time, cut to MAX_TEXT, said so.
local big = string.rep("x", 1024 * 1024)
c = child.spawn(function(send) send("ready", big) end)
local took
r, took = collect(c, core.now() + 5)
t.is(#r, 1, "one report from a 1 MB line")
t.ok(#r[1].text < child.MAX_TEXT + 64, "its text is cut to MAX_TEXT (" ..
	#r[1].text .. " bytes)")
-- The line is "ready<TAB>" and the megabyte.
local cutmsg = string.format("[%d bytes cut]", #"ready\t" + 1024 * 1024 -
	child.MAX_TEXT)
t.ok(r[1].text:sub(-#cutmsg) == cutmsg, "the cut is said: " .. cutmsg)
t.ok(took < 0.1, string.format("a 1 MB line is read in %.3f s of CPU " ..
	"(< 0.1 s)", took))
c:kill(0)

-- 8 MB in many writes with no newline at all, then one: still linear.
c = child.spawn(function(send)
	send("x", string.rep("y", 8 * 1024 * 1024))
end)
r, took = collect(c, core.now() + 10)
t.is(#r, 1, "8 MB line: one report")
t.ok(took < 1, string.format("8 MB line: %.3f s of CPU", took))
c:kill(0)

-- An error in the body is the last report.
c = child.spawn(function() error("boom", 0) end)
r = collect(c, core.now() + 5)
t.is(r[#r] and r[#r].kind, "error", "an error is reported")
t.is(r[#r] and r[#r].text, "boom", "with its message")

-- kill() ends the child and what it runs in its group, within the wait.
c = child.spawn(function(send)
	local rr = core.run({ "sh", "-c", "echo $$; exec sleep 30" },
		{ stdout = "capture", deadline = core.now() + 0.5 })
	send("log", "ran")
	core.sleep(30)
end)
core.sleep(0.2)
local t0 = core.now()
c:kill(0)
t.ok(core.now() - t0 < 1, "kill(0) returns at once")
t.ok(c.exit and c.exit.signal == 9, "the child was killed by SIGKILL")
t.ok(c.fd == nil, "its pipe is closed")

-- A child in a group of its own: killpg reaches a grandchild.
local pidfile = os.getenv("TESTTMP") .. "/grandchild.pid"
c = child.spawn(function()
	core.run({ "sh", "-c", "sleep 30 & echo $! > " .. pidfile .. "; wait" },
		{ deadline = core.now() + 60 })
end)
local gpid
local d = core.now() + 5
while not gpid and core.now() < d do
	local f = io.open(pidfile)
	gpid = f and tonumber(f:read("a"):match("%d+\n"))
	if f then f:close() end
	if not gpid then core.sleep(0.02) end
end
t.ok(gpid, "the grandchild's pid")
c:kill(0)
t.ok(gpid and core.wait_exit(gpid, core.now() + 2),
	"the grandchild is gone with the group")
return t.done()
