-- busy.lua: connects refused by a live QEMU are retried until the
-- deadline; refused by a dead one, they fail at once.  The QEMU is a
-- lock holder (a luarun child holding the pidfile lock, as QEMU does)
-- and lateqmp.pl, which refuses connects until it starts listening.
-- Run by busy.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local qmpbatch = require "proto.qmpbatch"
local vm = require "vm.handle"

local TMP = assert(os.getenv("TESTTMP"))
local LUARUN = assert(os.getenv("LUARUN"))
local PEER = assert(os.getenv("PEER"))
local SLACK = 1

local v = vm.open("busy", { name = "busy" })
v:make_rundir()
local sock = v.rt.control

local holder_lua = TMP .. "/holder.lua"
do
	local f = assert(io.open(holder_lua, "w"))
	f:write([[
local core = require "nvq.core"
local f = assert(io.open(arg[1], "w"))
f:write(core.getpid(), "\n")
f:close()
local lk = assert(core.lock(arg[1], core.now() + 5))
core.sleep(30)
]])
	f:close()
end

-- Starts argv in the background; its PID.
local function background(argv)
	local q = {}
	for i, a in ipairs(argv) do q[i] = "'" .. a .. "'" end
	local r = assert(core.run({ "/bin/sh", "-c", table.concat(q, " ") ..
		" >/dev/null 2>&1 & echo $!" }, { stdout = "capture",
		deadline = core.now() + 5 }))
	return assert(tonumber(r.stdout:match("^(%d+)")))
end

local function wait_for(cond)
	local until_ = core.now() + 5
	while not cond() and core.now() < until_ do core.sleep(0.01) end
	return cond()
end

-- A peer bound at once, listening after delay seconds.
local function peer(delay)
	os.remove(sock)
	local pid = background({ "perl", PEER, sock, tostring(delay) })
	assert(wait_for(function() return core.stat(sock) end), "peer bound")
	return pid
end

local holder = background({ LUARUN, holder_lua, v.rt.pidfile })
assert(wait_for(function() return core.alive(v.rt.pidfile) == holder end))
v:alive()

-- The refusal itself, as core.connect reports it.
local p = peer(30)
local _, err, code = core.connect(sock, core.now() + 1)
t.is(code, "ECONNREFUSED", "a bound socket nobody listens on: " ..
	"connect says ECONNREFUSED (" .. tostring(err) .. ")")
core.kill(p, "KILL")

-- Alive (the lock is held): retried until QEMU listens.
p = peer(0.6)
local t0 = core.now()
local r, why = v:qmp_call("query-status", nil, t0 + 5)
local took = core.now() - t0
t.ok(type(r) == "table" and r.status == "running",
	"vm:qmp while alive: refused, retried, answered (" ..
	tostring(why) .. ")")
t.ok(took >= 0.5 and took < 0.6 + SLACK,
	string.format("... once the peer listened (%.2fs)", took))
core.kill(p, "KILL")

p = peer(0.6)
t0 = core.now()
local jobs = qmpbatch.run({ sock }, { { execute = "query-status" } },
	t0 + 5, { v.rt.pidfile })
took = core.now() - t0
local rep = jobs[1].replies[1]
t.ok(rep and rep.ok and rep.ok.status == "running",
	"qmpbatch while alive: refused, retried, answered (" ..
	tostring(jobs[1].err) .. ")")
t.ok(took >= 0.5 and took < 0.6 + SLACK,
	string.format("... once the peer listened (%.2fs)", took))

-- Refused until the deadline: given up on by the deadline.
t0 = core.now()
os.remove(sock)
core.kill(p, "KILL")
p = peer(30)
r, why = v:qmp_call("query-status", nil, core.now() + 0.5)
took = core.now() - t0
t.ok(r == nil and took < 0.5 + SLACK,
	string.format("vm:qmp refused until its deadline: nil by then " ..
	"(%.2fs, %s)", took, tostring(why)))
t0 = core.now()
jobs = qmpbatch.run({ sock }, { { execute = "query-status" } },
	t0 + 0.5, { v.rt.pidfile })
took = core.now() - t0
t.ok(jobs[1].err and not jobs[1].replies[1] and took >= 0.4 and
	took < 0.5 + SLACK, string.format("qmpbatch refused until its " ..
	"deadline: an error by then (%.2fs, %s)", took,
	tostring(jobs[1].err)))
core.kill(p, "KILL")

-- Dead (nobody holds the lock): a refusal is final, at once.
core.kill(holder, "KILL")
core.wait_exit(holder, core.now() + 5)
assert(wait_for(function() return core.alive(v.rt.pidfile) == nil end))
p = peer(0.6)
t0 = core.now()
r, why = v:qmp_call("query-status", nil, t0 + 5)
took = core.now() - t0
t.ok(r == nil and took < 0.3, string.format("vm:qmp with the lock " ..
	"free: refused at once (%.2fs, %s)", took, tostring(why)))
t0 = core.now()
jobs = qmpbatch.run({ sock }, { { execute = "query-status" } }, t0 + 5,
	{ v.rt.pidfile })
took = core.now() - t0
t.ok(jobs[1].err and jobs[1].err ~= "timeout" and took < 0.3,
	string.format("qmpbatch with the lock free: refused at once " ..
	"(%.2fs, %s)", took, tostring(jobs[1].err)))
jobs = qmpbatch.run({ sock }, { { execute = "query-status" } },
	core.now() + 5)
t.ok(jobs[1].err and jobs[1].err ~= "timeout",
	"qmpbatch with no pidfile given: refused at once")
core.kill(p, "KILL")

return t.done()
