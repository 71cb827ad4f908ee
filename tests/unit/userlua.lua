-- userlua.lua: cases for lua/ulua/runner.lua (run by userlua.t): what user
-- code sees, that its child is stopped at its time and memory limits
-- whatever it does, how its errors read and which files are refused
-- when nvqctl runs as root.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
io.stdout:setvbuf("line")
local core = require "nvq.core"
local paths = require "base.paths"
local userlua = require "ulua.runner"

local CONF = paths.confdir()
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/policies", "755"))
local ROOT = core.geteuid() == 0

local function write(path, text, mode)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
	core.chmod(path, mode or "0644")
	return path
end

local n = 0
-- Loads text as a user file and runs its top level under a limit of
-- secs: returns what userlua.call returns, and the file's path.
local function run(text, secs, ...)
	n = n + 1
	local f = write(CONF .. "/policies/case" .. n .. ".lua", text)
	local chunk, why = userlua.load_file(f)
	if not chunk then return nil, why, "load", f end
	local r = table.pack(userlua.call(chunk, core.now() + (secs or 2), f, ...))
	r[#r + 1] = f
	return table.unpack(r)
end

-- Environment -------------------------------------------------------------

local ok, v, err, kind
ok, v = run("return { os.exit, io.popen, os.execute, dofile, " ..
	"loadfile, debug.sethook, n = 1 }")
t.ok(ok and next(v) == "n", "no os.exit, io.popen, " ..
	"os.execute, dofile, loadfile or debug.sethook")
ok, v = run("return { os.time ~= nil, string.format('%d', 3), " ..
	"table.concat({1,2}), math.maxinteger ~= nil, io.open ~= nil, " ..
	"utf8.char(65), coroutine.create ~= nil }")
t.same(ok and v, { true, "3", "12", true, true, "A", true },
	"the standard libraries are there")
local _, err = run("return require 'vm'")
t.like(err, "module 'vm' is not available to hooks and policies", "nvqctl's " ..
	"internal modules are not")
ok, v = run("local c = require 'nvq.core'; return { c.lock == nil, " ..
	"c.setenv == nil, type(c.run), type(c.now), type(c.wait_exit) }")
t.same(ok and v, { true, true, "function", "function", "function" },
	"nvq.core: the documented functions only")
ok, v = run("x = 1; return string")
t.ok(ok and rawget(_G, "x") == nil and v ~= string,
	"globals and library tables are the file's own")
_, err = run("string.format = nil; error('x')")
t.is(string.format("%d", 1), "1", "a user changing its string table " ..
	"changes nothing of nvqctl's")

-- Errors --------------------------------------------------------------------

local kind, f
ok, err, kind, f = run("local x = 1\nerror('boom')\n")
t.is(err, f .. ":2: boom", "an error reads file:line: message")
t.is(kind, "error", "its kind is error")
ok, err, kind, f = run("error({})")
t.like(err, f .. ": table:", "an error value with no position gets the file")
ok, err, kind, f = run("local t = nil\nreturn t.x")
t.like(err, f .. ":2: attempt to index", "a runtime error: file:line")
ok, err, kind, f = run("return (")
t.is(kind, "load", "a syntax error is found when loading")
t.like(err, f .. ":1:", "a syntax error: file:line")

-- SPIN stands for a loop: 5 s of CPU, so a case that fails does not
-- hang.
local SPIN = "function() local e = os.clock() + 5 while os.clock() < e do end end"
local t0, dt
ok, v = run("return { io.read, io.input, io.stdin, n = 1 }")
t.ok(ok and next(v) == "n", "no io.read, io.input or io.stdin")
_, err = run("for l in io.lines() do end")
t.like(err, "io.lines needs a file name", "io.lines does not read " ..
	"standard input")
ok, v = run("local n = 0 for l in io.lines('" .. CONF ..
	"/policies/case1.lua') do n = n + 1 end return n")
t.is(v, 1, "but reads a file")
_, err = run("return debug.getinfo(1, 'f')")
t.like(err, "only the options S and l", "debug.getinfo hands out no function")
ok, v = run("\nreturn debug.getinfo(1).currentline")
t.is(v, 2, "but tells where code is")

-- Shared metatables.
ok = run("getmetatable('').__index.format = " .. SPIN ..
	"; getmetatable('').__index = {}")
t0 = core.now()
v = string.format("%d", 1)
t.ok(v == "1" and core.now() - t0 < 1 and ("x"):upper() == "X",
	"the string metatable user code sees is not nvqctl's")
ok, v = run("return { ('x'):upper(), getmetatable('').__index.upper('y'), " ..
	"getmetatable(io.stdout) }")
t.same(ok and v, { "X", "Y" }, "strings work as usual; a file's metatable " ..
	"is not handed out")

-- nvqctl reads what user code returned without running it.
assert(core.mkdir(CONF .. "/hooks", "755"))
local hooks = require "ulua.phases"
local hv = { name = "hk", cfg = { HOOK_TIMEOUT = 0.5 } }
write(hooks.vm_file("hk"), "return setmetatable({}, { __index = " .. SPIN ..
	", __pairs = " .. SPIN .. " })")
t0 = core.now()
ok = hooks.run(hv, "pre_start", {})
dt = core.now() - t0
t.ok(ok and dt < 3, string.format("a hook module's __index is not run " ..
	"(%.2fs)", dt))
t0 = core.now()
hooks.check("hk")
dt = core.now() - t0
t.ok(dt < 3, string.format("nor its __pairs by nvqctl hooks (%.2fs)", dt))
write(hooks.vm_file("hk"), "return { pre_start = function() return false, " ..
	"setmetatable({}, { __tostring = " .. SPIN .. " }) end }")
t0 = core.now()
ok, err = hooks.run(hv, "pre_start", {})
dt = core.now() - t0
t.ok(not ok and dt < 3, string.format("nor a veto reason's __tostring " ..
	"(%.2fs)", dt))
t.like(err, "pre_start says no: table: 0x", "the veto still reads")
os.remove(hooks.vm_file("hk"))
write(userlua.policy_file("spin"), "return setmetatable({}, { __index = " ..
	SPIN .. " })")
t0 = core.now()
ok, err = require("vm.lifecycle").run_policy(hv, "spin", "stop",
	core.now() + 0.5, {})
dt = core.now() - t0
t.ok(not ok and dt < 3, string.format("nor a policy module's __index " ..
	"(%.2fs)", dt))
t.like(err, "does not export stop()", "the policy is refused")
os.remove(userlua.policy_file("spin"))

write(hooks.vm_file("hk"), "return { pre_start = function() return nil, " ..
	"'no disk' end }")
ok, err, kind = hooks.run(hv, "pre_start", {})
t.ok(not ok and kind == "veto", "pre_start returning nil, why vetoes")
t.like(err, "hk.lua:1: pre_start says no: no disk", "with its reason")
write(hooks.vm_file("hk"), "return { pre_start = function() return nil end }")
t.ok(hooks.run(hv, "pre_start", {}), "a bare nil (no reason) does not")
os.remove(hooks.vm_file("hk"))

-- Limits: each call in a child -------------------------------------------

-- Runs text's top level as a user file in a child (runner.isolated),
-- as a hook phase is: seconds taken, then what isolated returned.
local function iso(text, secs, memory)
	n = n + 1
	local f = write(CONF .. "/policies/case" .. n .. ".lua", text)
	local limit = core.now() + secs
	local t0 = core.now()
	local r = table.pack(userlua.isolated({ limit = limit, where = f,
		memory = memory, stdout_to_stderr = true, body = function(note)
			local chunk, why = userlua.load_file(f)
			if not chunk then return nil, why, "load" end
			note(f .. ":1")
			return userlua.call(chunk, limit, f)
		end }))
	return core.now() - t0, table.unpack(r, 1, r.n)
end

dt, ok, err, kind = iso("while true do pcall(function() while true do " ..
	"end end) end", 0.5)
t.ok(not ok and kind == "limit" and dt < 0.8, string.format(
	"a loop inside its own pcall is stopped at its limit (%.2fs)", dt))
t.like(err, ".lua:1: still running past its time limit; stopped",
	"and says so, file:line")
local fifo = os.getenv("TESTTMP") .. "/fifo"
os.execute("mkfifo " .. fifo)
dt, ok, err, kind = iso("io.open('" .. fifo .. "', 'r')", 1)
t.ok(not ok and kind == "limit" and dt >= 0.95 and dt < 1.3, string.format(
	"io.open of a FIFO nobody writes: stopped at the limit, in C (%.2fs)",
	dt))
dt, ok, err, kind = iso([[return ("x"):rep(40):match(("x*"):rep(40) .. "y")]],
	1)
t.ok(not ok and kind == "limit" and dt >= 0.95 and dt < 1.3, string.format(
	"a pattern that backtracks for minutes: stopped at the limit (%.2fs)",
	dt))
dt, ok, err, kind = iso([[
local t = {}
local i = 0
while true do i = i + 1; t[i] = { i, tostring(i) } end]], 30, 16)
t.ok(not ok and kind == "memory" and dt < 10, string.format(
	"a table grown without end is stopped at the memory cap (%.2fs)", dt))
t.like(err, ".lua: out of memory: past its cap of 16 MiB " ..
	"(LUA_MEMORY); stopped", "saying so")
dt, ok, err = iso([[return #("x"):rep(64 * 1048576)]], 5, 16)
t.like(err, "out of memory: past its cap of 16 MiB", "one string past " ..
	"the cap: the same")
dt, ok, v = iso([[return #("x"):rep(8 * 1048576)]], 5, 16)
t.is(v, 8 * 1048576, "under the cap, memory is there")
dt = iso([[
local c = require "nvq.core"
local r = c.run({ "sleep", "1000" })
return r.timedout]], 0.5)
t.ok(dt < 0.8, string.format("a program run by user code is killed at the " ..
	"limit (%.2fs)", dt))
local bg = os.getenv("TESTTMP") .. "/bg.pid"
dt = iso([[
local c = require "nvq.core"
c.run({ "/bin/sh", "-c", "sleep 1000 & echo $! >]] .. bg .. [[; wait" })]], 0.5)
local bgpid = tonumber(io.open(bg):read("a"))
t.ok(dt < 0.8 and bgpid and core.wait_exit(bgpid, core.now() + 2),
	string.format("its children are killed with it (its process group) " ..
	"(%.2fs)", dt))
local r = table.pack(iso("return 7, 'x', nil, false, 2.5, {}", 2))
t.ok(r.n == 8 and r[2] == true and r[3] == 7 and r[4] == "x" and
	r[5] == nil and r[6] == false and r[7] == 2.5 and
	tostring(r[8]):find("^table: "), "what the code returns comes back")
-- Each value the parent keeps costs it up to a report's MAX_TEXT, past
-- the child's LUA_MEMORY: 20000 values of 16 KB were 300 MB in nvqctl.
dt, ok, err, kind = iso([[
local s, t = ("x"):rep(16000), {}
for i = 1, 20000 do t[i] = s end
return table.unpack(t)]], 20, 8)
t.ok(ok == nil and kind == "error" and dt < 5 and
	collectgarbage("count") < 64 * 1024, string.format("a call returning " ..
	"20000 values is refused (%.2fs, parent holds %d KB)", dt,
	collectgarbage("count") // 1))
t.like(err, "values (at most 16 are taken)", "saying so")
dt, ok, v = iso("return select(2, io.stdout:close())", 2)
t.is(v, "cannot close standard file", "code cannot close its standard " ..
	"output")
dt, ok, err, kind = iso("error('boom')", 2)
t.like(err, ".lua:1: boom", "an error reads file:line")

-- The parent's locks stay held: fcntl locks are the process's own.
do
	local lockf = os.getenv("TESTTMP") .. "/held.lock"
	local lk = assert(core.lock(lockf, core.now() + 1))
	iso("return 1", 2)
	local probe = write(os.getenv("TESTTMP") .. "/probe.lua",
		"local c = require 'nvq.core' print(c.lock('" .. lockf ..
		"', c.now() + 0.2) and 'got' or 'held')")
	local r = core.run({ os.getenv("LUARUN"), probe }, { stdout = "capture",
		deadline = core.now() + 5 })
	t.is(r and r.stdout, "held\n", "a lock the parent holds is still held " ..
		"after a child ran")
	lk:unlock()
end

-- Killed with SIGKILL mid-call, the parent leaves no child behind: the
-- child's lifeline ends it (and its program) within a moment.
do
	local pidf = os.getenv("TESTTMP") .. "/orphan.pid"
	local script = os.getenv("TESTTMP") .. "/parent.lua"
	local f = assert(io.open(script, "w"))
	f:write(string.format([[
local core = require "nvq.core"
local userlua = require "ulua.runner"
userlua.isolated({ limit = core.now() + 60, where = "x", body = function()
	local f = io.open(%q, "w")
	f:write(core.getpid(), "\n")
	f:close()
	while true do end
end })]], pidf))
	f:close()
	local r = core.run({ "/bin/sh", "-c", "'" .. (os.getenv("LUARUN") or "") ..
		"' " .. script .. " & p=$!; sleep 1; kill -9 $p" },
		{ deadline = core.now() + 10 })
	local cpid = tonumber(io.open(pidf):read("a"))
	local t0 = core.now()
	t.ok(r and cpid and core.wait_exit(cpid, core.now() + 2), string.format(
		"parent killed with SIGKILL: its child ends too (%.2fs)",
		core.now() - t0))
end

-- The read-only handle ------------------------------------------------------

local fake = { name = "w", pid = 42, cfg = { NCPU = 2, disks = { { path = "/a" } } } }
local h = userlua.handle(fake)
t.is(h.cfg.disks[1].path, "/a", "vm.cfg reads through")
t.ok(not pcall(function() h.cfg.NCPU = 3 end), "vm.cfg cannot be written")
t.ok(not pcall(function() h.cfg.disks[1].path = "/b" end),
	"nor anything inside it")
t.is(fake.cfg.NCPU, 2, "the config is unchanged")
t.is(h.name .. h.pid, "w42", "name and pid")
t.ok(h.lock == nil and h.rt == nil, "internal methods and fields are not there")

-- Permissions -------------------------------------------------------------

if ROOT then
	local p = write(CONF .. "/policies/gw.lua", "return {}", "0664")
	local c, why = userlua.load_file(p)
	t.ok(c == nil, "root: a group-writable file is refused")
	t.like(why, "writable by group (mode 0664; fix: chmod go-w " .. p .. ")",
		"naming the file and the chmod that fixes it")
	core.chmod(p, "0644")
	os.execute("chown 65534 " .. p)
	c, why = userlua.load_file(p)
	t.like(why, "owned by uid 65534, not root (fix: chown root " .. p .. ")",
		"a file not owned by root: the chown")
	os.execute("chown 0 " .. p)
	core.chmod(CONF .. "/policies", "0777")
	c, why = userlua.load_file(p)
	t.like(why, "directory " .. CONF .. "/policies is writable by group " ..
		"and others (mode 0777; fix: chmod go-w " .. CONF .. "/policies)",
		"a writable directory on the way down from the config directory")
	core.chmod(CONF .. "/policies", "0755")
	core.chmod(CONF, "0775")
	c, why = userlua.load_file(p)
	t.like(why, "directory " .. CONF .. " is writable by group",
		"the config directory itself")
	core.chmod(CONF, "0755")
	t.ok(userlua.load_file(p) ~= nil, "a root-owned 0644 file is run")
	-- Above the config directory, up to /: TESTTMP is CONF's parent.
	local up = os.getenv("TESTTMP")
	local mode = string.format("%04o", core.stat(up).mode)
	core.chmod(up, "0777")
	c, why = userlua.load_file(p)
	t.like(why, "directory " .. up .. " is writable by group and others",
		"a writable directory above the config directory")
	core.chmod(up, "1777")
	t.ok(userlua.load_file(p) ~= nil, "unless it is sticky (as /tmp)")
	os.execute("chown 65534 " .. up)
	c, why = userlua.load_file(p)
	t.like(why, "directory " .. up .. " is owned by uid 65534",
		"one not owned by root")
	os.execute("chown 0 " .. up)
	core.chmod(up, mode)
	-- A symlink into a directory nobody (uid 65534) owns, whose target
	-- is swapped by rename while 300 hook calls load it: never does the
	-- swapped-in code run (checked, then opened by name, it did).
	local dir = os.getenv("TESTTMP") .. "/swap"
	assert(core.mkdir(dir, "755"))
	local marker = os.getenv("TESTTMP") .. "/evil-ran"
	write(dir .. "/h.lua", "return { pre_start = function() end }")
	write(dir .. "/evil.lua", "io.open('" .. marker .. "', 'a'):write('x') " ..
		"return { pre_start = function() end }")
	os.execute("chown 65534 " .. dir .. " " .. dir .. "/evil.lua")
	assert(core.mkdir(CONF .. "/hooks", "755") or core.stat(CONF .. "/hooks"))
	os.execute("ln -s " .. dir .. "/h.lua " .. CONF .. "/hooks/race.lua")
	local swapper = assert(io.popen("cd " .. dir .. " && while :; do " ..
		"mv h.lua good.tmp; mv evil.lua h.lua; mv h.lua evil.lua; " ..
		"mv good.tmp h.lua; done >/dev/null 2>&1 & echo $!"))
	local spid = tonumber(swapper:read("l"))
	swapper:close()
	local rv = { name = "race", cfg = { HOOK_TIMEOUT = 5 } }
	local refused = 0
	for _ = 1, 300 do
		-- Refused, or found missing in the middle of a swap.
		if not hooks.run(rv, "pre_start", {}) then refused = refused + 1 end
	end
	core.kill(spid, "KILL")
	core.wait_exit(spid, core.now() + 2)
	-- An mv the loop had started finishes on its own.
	core.sleep(0.2)
	if not core.stat(dir .. "/h.lua") then
		write(dir .. "/h.lua", "return { pre_start = function() end }")
	end
	t.ok(not core.stat(marker), "a target swapped by rename during 300 " ..
		"hook calls: the swapped code never ran")
	t.is(refused, 300, "every call refused: the target's directory is " ..
		"not root's")
	local _, hwhy = hooks.run(rv, "pre_start", {})
	t.like(hwhy, "directory " .. dir .. " is owned by uid 65534", "saying so")
	os.remove(CONF .. "/hooks/race.lua")
	-- A root-owned symlink on the way, in a directory nobody owns: that
	-- user could rename another root-owned symlink over it.
	local hop = os.getenv("TESTTMP") .. "/hop"
	local safe = os.getenv("TESTTMP") .. "/safe"
	assert(core.mkdir(hop, "755") and core.mkdir(safe, "755"))
	write(safe .. "/real.lua", "return {}")
	os.execute("ln -s " .. safe .. "/real.lua " .. hop .. "/link.lua")
	os.execute("chown 65534 " .. hop)
	os.execute("ln -s " .. hop .. "/link.lua " .. CONF .. "/hooks/hop.lua")
	c, why = userlua.load_file(CONF .. "/hooks/hop.lua")
	t.like(why, "directory " .. hop .. " is owned by uid 65534",
		"a symlink followed in a directory another user owns is refused")
	os.execute("chown 0 " .. hop)
	t.ok(userlua.load_file(CONF .. "/hooks/hop.lua") ~= nil,
		"the same chain, all root's: it runs")
	os.remove(CONF .. "/hooks/hop.lua")
else
	t.diag("not root: permission cases skipped")
end

-- nvqctl hooks: the top level runs, changing nothing.
userlua.checking = true
local victim = write(os.getenv("TESTTMP") .. "/victim", "x")
for _, code in ipairs({ "io.open('" .. victim .. "', 'w')",
	"io.open('" .. victim .. "', 'a+')", "os.remove('" .. victim .. "')",
	"os.rename('" .. victim .. "', '" .. victim .. "2')",
	"require('nvq.core').kill(" .. core.getpid() .. ", 'TERM')" }) do
	_, err = run(code)
	t.like(err, "while hooks are only checked", "checking refuses " .. code)
end
ok = run("return io.open('" .. victim .. "', 'r'):read('a')")
userlua.checking = nil
t.ok(ok and io.open(victim):read("a") == "x", "but reads files; the " ..
	"file is unchanged")
ok = run("io.open('" .. victim .. "', 'w'):close(); return 1")
t.ok(ok and io.open(victim):read("a") == "", "writes work when not checking")

-- Policies --------------------------------------------------------------------

local builtin = userlua.builtin_source("shutdown")
t.like(builtin, "function P.stop(vm, opt)", "the built-in source is kept")
write(userlua.policy_file("shutdown"), builtin)
local mod, where = userlua.load_policy("shutdown", core.now() + 2)
t.ok(type(mod) == "table" and type(mod.stop) == "function" and
	where == userlua.policy_file("shutdown"),
	"the built-in source loads as an override")
mod, where = userlua.load_policy("shutdown", core.now() + 2, true)
t.is(where, "policies/shutdown.lua", "builtin = true ignores the override")
t.same(userlua.builtin_policies(), { "boot", "network", "shutdown" }, "built-in policies listed")
mod, err = userlua.load_policy("nosuch", core.now() + 2)
t.like(err, "no policy named nosuch", "an unknown policy")

return t.done()
