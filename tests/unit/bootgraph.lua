-- bootgraph.lua: cases for lua/boot/graph.lua, run by bootgraph.t through
-- luarun, on configs loaded from real files (so lines are config's).
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local bootgraph = require "boot.graph"
local config = require "conf.load"
local core = require "nvq.core"
local paths = require "base.paths"

local CONF = paths.confdir()
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/vm", "755"))
local VM = CONF .. "/vm/"

-- Writes one file per VM (name -> text) and loads them all.
local function cfgs(files)
	for _, f in ipairs(core.readdir(CONF .. "/vm")) do
		if f:match("%.conf$") then os.remove(VM .. f) end
	end
	local out = {}
	for name, text in pairs(files) do
		local f = assert(io.open(VM .. name .. ".conf", "wb"))
		f:write(text)
		f:close()
	end
	for name in pairs(files) do out[name] = config.load(name, "list") end
	return out
end

local function check(files)
	local ok, msg = bootgraph.check(cfgs(files))
	return ok, msg
end

-- Accepted graphs ------------------------------------------------------------

t.is(bootgraph.check({}), true, "no VMs")
t.is(check({ a = "", b = "" }), true, "no relations")
t.is(check({ db = "", app = "BOOT_REQUIRES=db\n",
	web = 'BOOT_AFTER="app db"\nBOOT_REQUIRES=app\n' }), true,
	"a chain, and a VM both after and requiring the same one")
t.is(check({ a = "", b = "BOOT_AFTER=a\n", c = "BOOT_AFTER=a\n",
	d = 'BOOT_AFTER="b c"\n' }), true, "a diamond is no cycle")

-- Refused graphs -------------------------------------------------------------

local ok, msg = check({ web = "#\nBOOT_AFTER=web\n" })
t.is(ok, nil, "a VM after itself is refused")
t.is(msg, VM .. "web.conf:2: BOOT_AFTER: web waits for itself",
	"... naming file, line and key")
ok, msg = check({ web = 'BOOT_REQUIRES="\n  db\n  web"\n', db = "" })
t.is(msg, VM .. "web.conf:3: BOOT_REQUIRES: web waits for itself",
	"a VM requiring itself: the line of the name in a multi-line list")

ok, msg = check({ web = "\nBOOT_REQUIRES=databse\n", database = "" })
t.is(ok, nil, "an unknown name is refused")
t.is(msg, VM .. "web.conf:2: BOOT_REQUIRES: no such VM: databse (did you " ..
	"mean database?)", "... with a suggestion")
ok, msg = check({ web = "BOOT_AFTER=zzz\n", database = "" })
t.is(msg, VM .. "web.conf:1: BOOT_AFTER: no such VM: zzz",
	"an unknown name with nothing close")

ok, msg = check({ web = "BOOT_REQUIRES=app\n", app = "\n\nBOOT_AFTER=web\n" })
t.is(ok, nil, "a cycle of two is refused")
t.is(msg, VM .. "app.conf:3: BOOT_AFTER: cycle: app -> web -> app (web -> " ..
	"app at " .. VM .. "web.conf:1: BOOT_REQUIRES)",
	"... naming the file, line and the whole cycle, from its least name")

ok, msg = check({ a = "BOOT_AFTER=b\n", b = "BOOT_AFTER=c\n",
	c = 'BOOT_REQUIRES="x d"\n', d = "BOOT_AFTER=b\n", x = "" })
t.is(msg, VM .. "b.conf:1: BOOT_AFTER: cycle: b -> c -> d -> b (c -> d at " ..
	VM .. "c.conf:1: BOOT_REQUIRES; d -> b at " .. VM ..
	"d.conf:1: BOOT_AFTER)", "a cycle of three off a chain: only the cycle")

ok, msg = check({ a = "BOOT_AFTER=b\n", b = "BOOT_AFTER=a\n",
	c = "BOOT_AFTER=d\n", d = "BOOT_AFTER=c\n", e = "BOOT_AFTER=e\n",
	f = "BOOT_AFTER=nope\n" })
local lines = {}
for l in msg:gmatch("[^\n]+") do lines[#lines + 1] = l end
t.is(#lines, 4, "every problem is reported, one per line")
t.like(lines[1], "e.conf:1: BOOT_AFTER: e waits for itself", "1: self")
t.like(lines[2], "f.conf:1: BOOT_AFTER: no such VM: nope", "2: unknown")
t.like(lines[3], "a.conf:1: BOOT_AFTER: cycle: a -> b -> a", "3: cycle a")
t.like(lines[4], "c.conf:1: BOOT_AFTER: cycle: c -> d -> c", "4: cycle c")
local again = select(2, check({ f = "BOOT_AFTER=nope\n", e = "BOOT_AFTER=e\n",
	d = "BOOT_AFTER=c\n", c = "BOOT_AFTER=d\n", b = "BOOT_AFTER=a\n",
	a = "BOOT_AFTER=b\n" }))
t.is(again, msg, "the same configs give the same message")

-- A relation in nvqctl.conf would make every VM wait for the named ones,
-- those too: it is refused there, with its file and line.
local f = assert(io.open(CONF .. "/nvqctl.conf", "wb"))
f:write("#\n#\nBOOT_AFTER=base\n")
f:close()
f = assert(io.open(VM .. "base.conf", "wb"))
f:close()
ok, msg = config.load("base", "list")
t.is(ok, nil, "BOOT_AFTER in nvqctl.conf is refused")
t.like(msg, CONF .. "/nvqctl.conf:3: BOOT_AFTER: only in a VM's own file",
	"a BOOT_AFTER from nvqctl.conf: its own file and line")
os.remove(CONF .. "/nvqctl.conf")

-- A cfg made by hand (no boot_lines) still gives a message.
ok, msg = bootgraph.check({ a = { name = "a", file = "/x/a.conf",
	BOOT_AFTER = { "b" }, BOOT_REQUIRES = {} } })
t.is(msg, "/x/a.conf:0: BOOT_AFTER: no such VM: b", "a cfg without lines")

-- relations() and order() ----------------------------------------------------

local all = cfgs({ db = "BOOT_ORDER=10\n", cache = "BOOT_ORDER=10\n",
	app = 'BOOT_ORDER=20\nBOOT_REQUIRES=db\nBOOT_AFTER="cache ext"\n',
	web = "BOOT_ORDER=5\nBOOT_AFTER=app\n", ext = "", solo = "" })
local rel = bootgraph.relations(all, { "web", "app", "db", "cache", "solo" })
t.same(rel.app.after, { "cache", "db" }, "relations: after (sorted, " ..
	"both keys)")
t.same(rel.app.requires, { "db" }, "relations: requires")
t.same(rel.app.outside, { "ext" }, "relations: names not selected")
t.same(rel.db.dependants, { "app" }, "relations: dependants")
t.same(rel.app.dependants, { "web" }, "relations: dependants of app")
t.same(rel.solo.after, {}, "relations: a VM with none")
t.is(rel.ext, nil, "relations: only the selected VMs")
local rel2 = bootgraph.relations(all, { web = true, db = true })
t.same(rel2.web.outside, { "app" }, "relations: a set of names works too")
t.same(rel2.db.dependants, {}, "relations: web does not wait for db itself")

t.same(bootgraph.order(all, { "web", "app", "db", "cache", "solo" }),
	{ "cache", "db", "app", "web", "solo" },
	"order: dependencies first, then BOOT_ORDER, then name")
t.same(bootgraph.order(all, { "solo", "web" }), { "web", "solo" },
	"order: BOOT_ORDER among unrelated VMs")
local cyc = cfgs({ a = "BOOT_AFTER=b\n", b = "BOOT_AFTER=a\n", c = "" })
local o, omsg = bootgraph.order(cyc, { "a", "b", "c" })
t.is(o, nil, "order: a cycle gives nil")
t.like(omsg, "cycle", "order: ... and says cycle")
t.same(bootgraph.order(cyc, { "a", "c" }), { "a", "c" },
	"order: a cycle broken by the selection is no cycle")

-- cycle(): the cycle a single start warns of.
local cc = cfgs({ a = "BOOT_AFTER=b\n", b = "BOOT_REQUIRES=c\n",
	c = "BOOT_AFTER=a\n", d = "BOOT_AFTER=a\n" })
t.same(bootgraph.cycle(cc, "b"), { "b", "c", "a", "b" },
	"cycle: the cycle through b, back to b")
t.is(bootgraph.cycle(cc, "d"), nil, "cycle: d only waits for one: none")

return t.done()
