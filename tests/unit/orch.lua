-- orch.lua (test): the built-in boot policy driven through orchsim's
-- simulated API (what --dry-run uses): every start takes its whole
-- BOOT_READY_TIMEOUT (0 for "started"), every stop its whole timeout,
-- so the times at which VMs are acted on show the policy's decisions.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local bootrun = require "boot.run"
local orchsim = require "boot.sim"
local t = require "tap"

local function vm(name, o)
	o = o or {}
	local ready = o.ready and { kind = o.ready, spec = o.ready } or
		{ kind = "started", spec = "started" }
	return { name = name, cfg = { name = name, BOOT_ORDER = o.order or 100,
		BOOT_AFTER = o.after or {}, BOOT_REQUIRES = o.requires or {},
		BOOT_READY = ready, BOOT_READY_TIMEOUT = o.timeout or 10,
		BOOT_DELAY = o.delay or 0, SHUTDOWN_TIMEOUT = o.stop or 120,
		SHUTDOWN_FORCE = false }, running = o.running }
end

-- A sink for the progress lines.
local function sink()
	local s = { text = "" }
	function s:write(...)
		for _, x in ipairs({ ... }) do self.text = self.text .. x end
	end
	function s:flush() end
	return s
end

-- Runs fn of the built-in policy over the simulated clock; returns the
-- seconds at which each VM was acted on, the output and the run.
local function sim(fn, vms, global, extra)
	local api, run = orchsim.new(vms, { global = global })
	local out = sink()
	run.out = out
	local opt = extra or {}
	if fn == "stopall" then
		opt.deadline = api.now() + (opt.timeout or 300)
		api.deadline = opt.deadline
	end
	local ok, why = bootrun.policy(fn, api, vms, opt, math.huge)
	t.ok(ok, fn .. " ran: " .. tostring(why))
	local at = {}
	for _, v in ipairs(vms) do
		local r = run.rec[v.name]
		at[v.name] = r.t0 and math.floor(r.t0 - run.t0 + 0.5)
	end
	return at, out.text, run, math.floor(api.elapsed() + 0.5)
end

local g4 = { BOOT_PARALLEL = 4, HOST_SHUTDOWN_TIMEOUT = 300,
	HOST_SHUTDOWN_FORCE = true }

-- Waves by BOOT_ORDER; a VM waiting for a later-ordered VM moves after it.
local waves = bootrun.waves({ vm("a", { order = 10, after = { "c" } }),
	vm("b", { order = 10 }), vm("c", { order = 50 }), vm("d") })
t.is(#waves, 3, "waves: three")
t.same({ waves[1][1].name }, { "b" }, "waves: b alone in the first")
t.same({ waves[2][1].name, waves[2][2].name }, { "a", "c" },
	"waves: a raised to c's wave, given order kept")
t.is(waves[2].order, 50, "waves: the raised wave's order")
local rev = bootrun.waves({ vm("a", { order = 10 }), vm("b", { order = 20 }) },
	true)
t.is(rev[1][1].name, "b", "waves reversed: the last order stops first")
rev = bootrun.waves({ vm("a"), vm("b") }, true)
t.same({ rev[1][1].name, rev[1][2].name }, { "b", "a" },
	"waves reversed: ties in the reverse of the order given")

-- Waves are barriers; a wave's VMs start together.
local at, out, _, total = sim("startall", { vm("db", { order = 10,
	ready = "agent", timeout = 30 }), vm("web", { order = 20 }),
	vm("app", { order = 20 }) }, g4)
t.is(at.db, 0, "start: db at once")
t.is(at.web, 30, "start: web once db is ready (worst case 30s)")
t.is(at.app, 30, "start: app with web, same wave")
t.is(total, 30, "start: worst case 30s")
t.like(out, "wave 1 (BOOT_ORDER 10): db", "start: wave line")

-- BOOT_PARALLEL: at most N being started (until ready) at once.
local four = {}
for i = 1, 4 do four[i] = vm("p" .. i, { ready = "agent", timeout = 10 }) end
at = sim("startall", four, { BOOT_PARALLEL = 2 })
t.same({ at.p1, at.p2, at.p3, at.p4 }, { 0, 0, 10, 10 },
	"BOOT_PARALLEL=2: two, then two more")

-- BOOT_AFTER inside one wave, with BOOT_DELAY after readiness.
at = sim("startall", { vm("dep", { after = { "base" } }),
	vm("base", { ready = "agent", timeout = 20, delay = 5 }),
	vm("free") }, g4)
t.is(at.base, 0, "after: base at once")
t.is(at.free, 0, "after: an unrelated VM does not wait")
t.is(at.dep, 25, "after: dep after base's readiness and its BOOT_DELAY")

-- BOOT_DELAY also holds the next wave.
at = sim("startall", { vm("x", { order = 1, delay = 7 }),
	vm("y", { order = 2 }) }, g4)
t.is(at.y, 7, "delay: the next wave waits for it")

-- A required VM outside the list that does not run: skipped.
local _, _, run = sim("startall", { vm("needs", { requires = { "ghost" } }) },
	g4)
t.like(run.rec.needs.result,
	"skipped: requires ghost, which is not running",
	"requires: a required VM outside the set that does not run")

-- stopall: reverse waves, dependants first, timeouts cut to the deadline
-- minus the reserve for the forced rungs.
at, out, _, total = sim("stopall", { vm("db", { order = 10, stop = 30 }),
	vm("web", { order = 20, requires = { "db" }, stop = 20 }),
	vm("cache", { order = 20, stop = 50 }) }, g4, { timeout = 100 })
t.is(at.web, 0, "stop: web (last wave) first")
t.is(at.cache, 0, "stop: cache with web")
t.is(at.db, 59, "stop: db once its wave before is done (forcings included)")
t.is(total, 98, "stop: worst case 98s")
t.like(out, "db: would stop through its shutdown policy (up to 30s, " ..
	"then forced: up to 39s)", "stop: db's own timeout fits, then forcing")
at, out = sim("stopall", { vm("slow", { stop = 600 }) }, g4,
	{ timeout = 60 })
t.like(out, "slow: would stop through its shutdown policy (up to 50s,",
	"stop: a long SHUTDOWN_TIMEOUT cut to the deadline minus 10s")
at, out = sim("stopall", { vm("slow", { stop = 600 }) }, g4,
	{ timeout = 15 })
t.like(out, "(up to 10s, then forced: up to 19s)",
	"stop: a short deadline keeps a third for forcing")
t.ok(not out:find("deadline: forcing", 1, true),
	"stop: a VM being forced at the deadline is not forced again")
at, out = sim("stopall", { vm("slow", { stop = 600 }) },
	{ HOST_SHUTDOWN_FORCE = false }, { timeout = 60 })
t.like(out, "slow: would stop through its shutdown policy (up to 50s)\n",
	"stop: HOST_SHUTDOWN_FORCE=no: no forcing after the ladder")

-- The summary JSON of a dry run.
local json
_, _, run = sim("startall", { vm("j") }, g4)
run.command = "startall"
json = bootrun.json(run, true)
t.like(json, '"name":"j"', "json: the VM")
t.like(json, '"dry_run":true', "json: dry run marked")
_, _, run = sim("startall", {}, g4)
t.like(bootrun.json(run, true), '"vms":[]', "json: no VM is an empty array")

t.done()
