-- task.lua: cases for core/l_task.c: a forked child reports over a
-- close-on-exec pipe, the parent reads without blocking, reaps without
-- blocking, and sees how the child ended.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local core = require "nvq.core"
local t = require "tap"

local r, w = core.pipe()
t.ok(type(r) == "number" and type(w) == "number", "pipe: two descriptors")
local none, why = core.fdread(r)
t.ok(none == nil and why == "again", "fdread: nothing yet is \"again\", not a wait")

-- Output buffered before a fork is written once, not again by the child.
local tmp = os.tmpname()
local f = assert(io.open(tmp, "w"))
f:setvbuf("full")
f:write("once\n")
local cpid = core.fork()
if cpid == 0 then core._exit(0) end
repeat until core.waitpid(cpid)
f:close()
local fr = assert(io.open(tmp))
t.is(fr:read("a"), "once\n", "fork: buffered output written once")
fr:close()
os.remove(tmp)

local pid = core.fork()
if pid == 0 then
	core.fdclose(r)
	core.write_fd(w, "hello\n")
	core.sleep(0.2)
	core.write_fd(w, "bye\n")
	core._exit(7)
end
core.fdclose(w)
t.ok(pid > 0, "fork: the parent gets the child's pid")
t.is(core.waitpid(pid), nil, "waitpid: nil while the child runs")
local got = core.poll({ r }, core.now() + 5)
t.ok(got[1], "poll: the report pipe is readable")
t.is(core.fdread(r), "hello\n", "fdread: the first report")
local t0 = core.now()
got = core.poll({ r }, core.now() + 5)
t.ok(got[1] and core.now() - t0 >= 0.1, "poll waits for the next report")
local rest = ""
repeat
	local d = core.fdread(r)
	if d and d ~= "" then rest = rest .. d end
	if d == nil then core.poll({ r }, core.now() + 1) end
until d == ""
t.is(rest, "bye\n", "fdread: then the rest, then \"\" at EOF")
local st
local dl = core.now() + 5
repeat st = core.waitpid(pid) until st or core.now() > dl
t.is(st and st.status, 7, "waitpid: the exit status given to _exit")
core.fdclose(r)

-- A child killed by a signal.
pid = core.fork()
if pid == 0 then
	core.sleep(30)
	core._exit(0)
end
core.kill(pid, "KILL")
dl = core.now() + 5
repeat st = core.waitpid(pid) until st or core.now() > dl
t.is(st and st.signal, 9, "waitpid: the signal that ended it")

-- The pipe is close-on-exec: a program run by the child never holds it,
-- so EOF comes when the child itself is gone.
r, w = core.pipe()
pid = core.fork()
if pid == 0 then
	core.fdclose(r)
	core.run({ "/bin/sh", "-c", "sleep 3 &" }, { stdout = "null",
		stderr = "null", deadline = core.now() + 5 })
	core._exit(0)
end
core.fdclose(w)
t0 = core.now()
core.poll({ r }, core.now() + 5)
t.is(core.fdread(r), "", "EOF as soon as the child exits")
t.ok(core.now() - t0 < 2, "not held open by the program it ran")
core.fdclose(r)
repeat st = core.waitpid(pid) until st

-- Started with SIGCHLD ignored (kept across exec), the kernel would reap
-- the tasks itself: fork must undo that, so their status is still seen.
do
	local script = os.tmpname()
	local sf = assert(io.open(script, "w"))
	sf:write([[
local core = require "nvq.core"
local pid = core.fork()
if pid == 0 then core._exit(5) end
local st, dl = nil, core.now() + 5
repeat st = core.waitpid(pid) until st or core.now() > dl
io.write(st and st.status and ("status " .. st.status) or "lost", "\n")
]])
	sf:close()
	local res = core.run({ "perl", "-e",
		'$SIG{CHLD} = "IGNORE"; exec @ARGV or die', os.getenv("LUARUN"),
		script }, { stdout = "capture", deadline = core.now() + 10 })
	os.remove(script)
	t.is(res and res.stdout, "status 5\n",
		"fork under an ignored SIGCHLD: the task's exit status seen")
end
t.done()
