-- examples.lua: cases for examples/hooks/*.lua, run by examples.t.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local config = require "conf.load"
local core = require "nvq.core"
local hooks = require "ulua.phases"
local paths = require "base.paths"
local vm = require "vm.handle"

local TMP = assert(os.getenv("TESTTMP"))
local EX = assert(os.getenv("EXAMPLES"))
local CONF = paths.confdir()
local LOG = TMP .. "/argv.log"
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/vm", "755") and
	core.mkdir(CONF .. "/hooks", "755"))

local function write(path, text)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end

local function read(path)
	local f = io.open(path, "rb")
	if not f then return "" end
	local s = f:read("a")
	f:close()
	return s
end

-- A VM "ex" with the given config text and the example as its hook.
local function setup(conf, example, as)
	write(CONF .. "/vm/ex.conf", conf)
	os.remove(CONF .. "/hooks/ex.lua")
	os.remove(CONF .. "/hooks/all.lua")
	write(CONF .. "/hooks/" .. (as or "ex") .. ".lua",
		read(EX .. "/hooks/" .. example))
	os.remove(LOG)
	local cfg = assert(config.load("ex", "start"))
	return vm.open("ex", cfg)
end

-- Quiet: the hooks' progress lines would be taken for TAP.
local out = io.stdout
local function quietly(fn)
	local f = assert(io.open("/dev/null", "w"))
	io.output(f)
	require("ulua.runner").out = f
	local r = table.pack(fn())
	require("ulua.runner").out = nil
	io.output(out)
	f:close()
	return table.unpack(r, 1, r.n)
end

-- tap-bridge.lua --------------------------------------------------------

local v = setup("NETWORK=\"\n  tap3\n  tap4:52:54:00:12:34:56\n\"\n",
	"tap-bridge.lua")
local ok, why = quietly(function()
	return hooks.run(v, "pre_start", { context = "manual" })
end)
t.ok(ok, "tap-bridge: pre_start succeeds" .. (why and ": " .. why or ""))
t.is(read(LOG), table.concat({
	"ifconfig tap3", "ifconfig tap3 create up", "brconfig bridge0 add tap3",
	"ifconfig tap4", "ifconfig tap4 create up", "brconfig bridge0 add tap4",
	"" }, "\n"), "tap-bridge: each tap created, up, added to bridge0")
os.remove(LOG)
quietly(function()
	return hooks.run(v, "post_stop", { reason = "acpi", context = "manual" })
end)
t.is(read(LOG), table.concat({
	"brconfig bridge0 delete tap3", "ifconfig tap3 destroy",
	"brconfig bridge0 delete tap4", "ifconfig tap4 destroy", "" }, "\n"),
	"tap-bridge: post_stop takes them out and destroys them")

-- logger.lua ------------------------------------------------------------

v = setup("", "logger.lua", "all")
quietly(function()
	return hooks.run(v, "post_stop", { reason = "exited", context = "boot" })
end)
t.is(read(LOG), "logger -t nvqctl -p daemon.warning ex stopped (exited, boot)\n",
	"logger: post_stop logs the reason and context, a warning for exited")

-- qcow2-snapshot.lua: qemu-img for real -----------------------------------

local img = TMP .. "/disk.qcow2"
local r = core.run({ "qemu-img", "create", "-q", "-f", "qcow2", img, "16M" },
	{ deadline = core.now() + 30 })
if not (r and r.status == 0) then
	t.ok(false, "qemu-img create (is qemu-utils installed?)")
	return t.done()
end
local raw = TMP .. "/other.img"
write(raw, "")
v = setup(string.format("DISKS=\"\n  %s:qcow2\n  %s\n\"\n", img, raw),
	"qcow2-snapshot.lua")
local function snapshots()
	local l = core.run({ "qemu-img", "snapshot", "-l", img },
		{ stdout = "capture", deadline = core.now() + 30 })
	local names = {}
	for n in l.stdout:gmatch("(nvqctl%-%d+%-%d+)") do names[#names + 1] = n end
	return names
end
ok, why = quietly(function()
	return hooks.run(v, "pre_start", { context = "manual" })
end)
t.ok(ok, "qcow2-snapshot: pre_start succeeds" .. (why and ": " .. why or ""))
local s = snapshots()
t.ok(#s == 1 and s[1]:match("^nvqctl%-%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d$"),
	"qcow2-snapshot: one snapshot named nvqctl-YYYYMMDD-HHMMSS (" ..
	tostring(s[1]) .. ")")
-- Older snapshots beyond KEEP = 3 are pruned; names are per second.
for _, n in ipairs({ "nvqctl-20000101-000001", "nvqctl-20000101-000002",
	"nvqctl-20000101-000003" }) do
	core.run({ "qemu-img", "snapshot", "-c", n, img },
		{ deadline = core.now() + 30 })
end
core.sleep(1.1)
quietly(function() return hooks.run(v, "pre_start", { context = "manual" }) end)
s = snapshots()
table.sort(s)
t.is(#s, 3, "qcow2-snapshot: only the newest 3 are kept")
t.ok(s[1] == "nvqctl-20000101-000003" and s[2]:sub(1, 11) ~= "nvqctl-2000",
	"qcow2-snapshot: the oldest went first")
write(img, "not a qcow2 image")
ok, why = quietly(function()
	return hooks.run(v, "pre_start", { context = "manual" })
end)
t.ok(not ok and why:find("qemu-img snapshot -c", 1, true),
	"qcow2-snapshot: a failed snapshot vetoes the start: " .. tostring(why))

return t.done()
