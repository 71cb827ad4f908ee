-- proc.lua: core.run against real children: its deadline holds however
-- the child treats its output, captured output is whole, a process group
-- dies at the deadline, and misuse (numbers in argv, a NaN or infinite
-- deadline) is a Lua error.  Run by proc.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"

local TMP = assert(os.getenv("TESTTMP"))
local LUARUN = assert(os.getenv("LUARUN"))
local SLACK = 1	-- seconds a bound may be missed by on a busy machine

local leftovers = {}	-- PIDs of background sleeps, killed at the end

local function timed(argv, opt)
	local t0 = core.now()
	local r, err = core.run(argv, opt)
	return r, core.now() - t0, err
end

local function sh(script) return { "/bin/sh", "-c", script } end

-- The deadline holds while output is captured.
for _, cap in ipairs({ "stderr", "stdout", "both" }) do
	local opt = { deadline = core.now() + 0.5 }
	if cap == "both" then
		opt.stdout, opt.stderr = "capture", "capture"
	else
		opt[cap] = "capture"
	end
	local r, took = timed({ "/bin/sleep", "3" }, opt)
	t.ok(r and r.timedout, "sleep 3, " .. cap .. " captured, 0.5s " ..
		"deadline: timed out")
	t.ok(r and r.status == nil, "... and no exit status")
	t.ok(took < 0.5 + SLACK, string.format("... returned in %.2fs", took))
end

-- A process the child leaves behind holding the pipes (QEMU's
-- -daemonize child, a hook's "cmd &") does not hold run: it returns when
-- the child is reaped, with what the child wrote.
for _, dl in ipairs({ true, false }) do
	local what = dl and "10s deadline" or "no deadline"
	local r, took = timed(sh("echo out; echo err >&2; sleep 4 & " ..
		"echo $!; exit 3"), { stdout = "capture", stderr = "capture",
		deadline = dl and core.now() + 10 or nil })
	t.ok(r and r.status == 3 and not r.timedout,
		"sh leaving 'sleep 4 &' on the pipes (" .. what .. "): exit 3")
	t.ok(took < SLACK, string.format("... returned in %.2fs, not 4s", took))
	local out = r and r.stdout or ""
	t.ok(out:match("^out\n%d+\n$"), "... stdout whole")
	t.is(r and r.stderr, "err\n", "... stderr whole")
	leftovers[#leftovers + 1] = tonumber(out:match("\n(%d+)\n"))
end

-- Output is drained to its end, whatever the timing of the exit.
local want = string.rep("0123456789\n", 5000):sub(1, 50000)
local short = 0
for _ = 1, 20 do
	local r = core.run(sh("yes 0123456789 | head -c 50000; " ..
		"yes 0123456789 | head -c 50000 >&2"),
		{ stdout = "capture", stderr = "capture",
		deadline = core.now() + 10 })
	if not (r and r.status == 0 and r.stdout == want and
	    r.stderr == want) then
		short = short + 1
		t.diag("got %d/%d bytes", r and #r.stdout or -1,
			r and #r.stderr or -1)
	end
end
t.is(short, 0, "50 000 bytes on each of stdout and stderr captured " ..
	"whole, 20 runs out of 20")

-- Beyond the cap, output is read and dropped: the child never blocks.
do
	local r, took = timed({ "head", "-c", "3000000", "/dev/zero" },
		{ stdout = "capture", deadline = core.now() + 10 })
	t.ok(r and r.status == 0, "3 MB of output: the child exits 0")
	t.is(r and #r.stdout, 1024 * 1024, "... 1 MiB of it kept")
	t.ok(took < 5, string.format("... in %.2fs", took))
end

-- A deadline already past: the child is killed, and said to be.
do
	local r, took = timed({ "/bin/sleep", "5" }, { stderr = "capture",
		deadline = core.now() - 1 })
	t.ok(r and r.timedout and r.status == nil, "deadline in the past: " ..
		"timed out")
	t.ok(took < SLACK, string.format("... at once (%.2fs)", took))
end

-- A child that exits just around its deadline is reported either as
-- killed (timedout) or with its own status, never as both or neither.
do
	local bad = 0
	for i = 1, 30 do
		local r = core.run(sh("sleep 4 & exit 5"), { stderr = "capture",
			deadline = core.now() + (i % 6) * 0.002 })
		if not r or (r.timedout and r.status) or
		    (not r.timedout and r.status ~= 5) then
			bad = bad + 1
		end
	end
	t.is(bad, 0, "exits around the deadline: timedout xor exit 5")
end

-- pgroup: the whole group dies at the deadline, grandchildren too.
local function grandchild(pgroup)
	local r, took = timed(sh("sleep 1000 & echo $!; wait"),
		{ stdout = "capture", pgroup = pgroup,
		deadline = core.now() + 0.5 })
	local pid = tonumber(r and r.stdout:match("^(%d+)\n"))
	return r, took, pid
end
do
	local r, took, pid = grandchild(true)
	t.ok(r and r.timedout, "pgroup: timed out at the deadline")
	t.ok(took < 0.5 + SLACK, string.format("... in %.2fs", took))
	t.ok(pid and core.wait_exit(pid, core.now() + 2),
		"... and the grandchild 'sleep 1000' is gone")
	r, took, pid = grandchild(false)
	t.ok(r and r.timedout and took < 0.5 + SLACK,
		"without pgroup: timed out too")
	t.ok(pid and not core.wait_exit(pid, core.now() + 0.3),
		"... but the grandchild lives on (only the child is killed)")
	leftovers[#leftovers + 1] = pid
end

-- The child's group: its own with pgroup.
do
	local r = core.run(sh("ps -o pgid= -p $$; echo $$"),
		{ stdout = "capture", pgroup = true, deadline = core.now() + 5 })
	local pgid, pid = (r and r.stdout or ""):match("^%s*(%d+)\n(%d+)\n$")
	if pgid then
		t.is(pgid, pid, "pgroup: the child leads its own process group")
	else
		t.ok(true, "# SKIP no ps(1) -o pgid")
	end
end

-- Misuse is a Lua error, before anything runs.
local function raises(fn, want, desc)
	local ok, err = pcall(fn)
	t.ok(not ok and tostring(err):find(want, 1, true), desc)
	if ok then t.diag("did not raise") else t.diag("%s", tostring(err)) end
end
local marker = TMP .. "/ran"
raises(function() return core.run({ "/bin/sh", "-c", "touch " .. marker,
	42 }) end, "argv[4] is a number, not a string",
	"a number in argv: raised")
raises(function() return core.run({ "/bin/echo", {} }) end,
	"argv[2] is a table", "a table in argv: raised")
t.ok(not core.stat(marker), "... and nothing ran")
for name, v in pairs({ NaN = 0 / 0, infinite = math.huge,
	["minus infinite"] = -math.huge }) do
	raises(function() return core.run({ "/bin/true" },
		{ deadline = v }) end, "deadline is not finite",
		"run: " .. name .. " deadline raised")
	raises(function() return core.wait_exit(core.getpid(), v) end,
		"deadline is not finite", "wait_exit: " .. name .. " deadline raised")
	raises(function() return core.lock(TMP .. "/lk", v) end,
		"deadline is not finite", "lock: " .. name .. " deadline raised")
	raises(function() return core.connect(TMP .. "/no.sock", v) end,
		"deadline is not finite", "connect: " .. name .. " deadline raised")
	raises(function() return core.sleep(v) end, "not a finite",
		"sleep: " .. name .. " raised")
end
raises(function() return core.run({ "/bin/true" }, { deadline = "soon" }) end,
	"deadline is not a number", "run: a string deadline raised")

-- Started with SIGCHLD ignored (kept across exec), the kernel would reap
-- run's children itself: run must still see how they ended, and by its
-- deadline.
do
	local script = TMP .. "/nochld.lua"
	local f = assert(io.open(script, "w"))
	f:write([[
local core = require "nvq.core"
local r = core.run({ "/bin/sh", "-c", "exit 3" }, { stderr = "capture",
	deadline = core.now() + 5 })
io.write(r and r.status and ("status " .. r.status) or "lost", "\n")
]])
	f:close()
	local r, took = timed({ "perl", "-e",
		'$SIG{CHLD} = "IGNORE"; exec @ARGV or die', LUARUN, script },
		{ stdout = "capture", deadline = core.now() + 10 })
	t.is(r and r.stdout, "status 3\n",
		"run under an ignored SIGCHLD: the child's exit status seen")
	t.ok(took < 5, string.format("... in %.2fs", took))
end

-- A program that cannot be run is an error value, not a hang.
do
	local r, took, err = timed({ TMP .. "/nonexistent" },
		{ stderr = "capture", deadline = core.now() + 5 })
	t.ok(r == nil and err and err:find("nonexistent", 1, true),
		"a missing program: nil, message")
	t.ok(took < SLACK, "... at once")
end

for _, pid in ipairs(leftovers) do core.kill(pid, "KILL") end
return t.done()
