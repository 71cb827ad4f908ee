-- top.lua: cases for top's pieces that need no QEMU (tapstat, the rates
-- of stats.frame, topview, topjson), run by top.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local cjson = require "cjson"
local stats = require "top.stats"
local tapstat = require "top.tapstat"
local topjson = require "top.json"
local topview = require "top.screen"

local TMP = os.getenv("TESTTMP")

-- tapstat: the guest receives what the host's tap transmits.
local function fake_tap(name, rx, tx)
	local dir = TMP .. "/net/" .. name .. "/statistics"
	assert(os.execute("mkdir -p '" .. dir .. "'"))
	for k, v in pairs({ rx_bytes = rx, tx_bytes = tx }) do
		local f = assert(io.open(dir .. "/" .. k, "w"))
		f:write(v, "\n")
		f:close()
	end
end
tapstat.sysfs, tapstat.have = TMP .. "/net", nil
fake_tap("tap7", 1000, 250)
local c = tapstat.read("tap7")
t.is(c and c.rx, 250, "tapstat: guest rx is the tap's tx_bytes")
t.is(c and c.tx, 1000, "tapstat: guest tx is the tap's rx_bytes")
t.is(c and math.type(c.rx), "integer", "tapstat: counters are integers")
t.is(tapstat.read("nosuch"), nil, "tapstat: a missing interface gives nil")
tapstat.sysfs, tapstat.have = TMP .. "/nosysfs", nil
t.is(tapstat.available(), false, "tapstat: no counters without sysfs")

-- stats.frame: two synthetic samples.
local function entry(o)
	local e = { name = o.name or "v", pid = o.pid or 100, start = 1000,
		t = o.t, cpu = o.cpu, rss = 4096, state = "running",
		cfg = { NCPU = 2, MEMORY = 512, accel = "tcg" },
		disk = o.disk, net = o.net or { ifaces = {}, rx = 0, tx = 0 } }
	return e
end
local s1 = { time = 1100, t = 50, configured = 3, vms = {
	entry { t = 50, cpu = 10, disk = { rd = 1000, wr = 500 },
		net = { ifaces = { "tap0" }, rx = 100, tx = 200 } } } }
local f1 = stats.frame(nil, s1)
local r = f1.vms[1]
t.is(f1.interval, nil, "frame 1: no interval")
t.is(r.basis, "since_start", "frame 1: rates since the start")
t.is(r.uptime, 100, "frame 1: uptime from the start time")
t.is(r.cpu_percent, 10, "frame 1: %CPU is CPU time over uptime")
t.is(r.disk.rd_rate, 10, "frame 1: disk read rate since start")
t.is(r.net.tx_rate, 2, "frame 1: net tx rate since start")

local s2 = { time = 1102, t = 52, configured = 3, vms = {
	entry { t = 52, cpu = 11, disk = { rd = 3000, wr = 400 },
		net = { ifaces = { "tap0" }, rx = 300, tx = 200 } } } }
r = stats.frame(s1, s2).vms[1]
t.is(stats.frame(s1, s2).interval, 2, "frame 2: the interval")
t.is(r.basis, "interval", "frame 2: rates over the interval")
t.is(r.cpu_percent, 50, "frame 2: %CPU over the interval")
t.is(r.disk.rd_rate, 1000, "frame 2: read rate over the interval")
t.is(r.disk.wr_rate, nil, "frame 2: a counter that went back has no rate")
t.is(r.net.rx_rate, 100, "frame 2: rx rate over the interval")

local s3 = { time = 1104, t = 54, configured = 3, vms = {
	entry { t = 54, pid = 101, cpu = 1, disk = nil } } }
r = stats.frame(s2, s3).vms[1]
t.is(r.basis, "since_start", "a new process under the same name: since start")
t.is(r.disk.rd, nil, "no QMP answer: no disk counters")
t.is(r.disk.rd_rate, nil, "no QMP answer: no disk rate")

-- topview: "?" for what was not fetched, "-" for what does not apply.
local v = topview.new()
local lines = v:render(stats.frame(nil, s3))
t.like(lines[1], "VMs: 1 running / 3 configured", "view: header counts")
t.like(lines[1], "averages since", "view: header says how rates are made")
t.like(lines[2], "NAME STATE", "view: column header")
local cells = {}
for w in lines[3]:gmatch("%S+") do cells[#cells + 1] = w end
t.same(cells, { "v", "running", "101", "1.0", "4.0K", "2", "512M", "tcg",
	"?", "?", "-", "-", "1:44" }, "view: a row, ? and - where due")
lines = v:render(stats.frame(s1, s2), { cols = 20 })
t.ok(#lines[3] <= 20, "view: lines cut to the terminal width")
lines = v:render({ time = 0, running = 0, configured = 0, vms = {} })
t.like(lines[3], "no VM is running", "view: says when nothing runs")
local many = { time = 0, configured = 9, running = 9, vms = {} }
for i = 1, 9 do
	many.vms[i] = stats.frame(nil, { time = 1100, t = 0, configured = 9,
		vms = { entry { name = "v" .. i, t = 0, cpu = 1 } } }).vms[1]
end
lines = v:render(many, { rows = 6 })
t.is(#lines, 6, "view: no more lines than the terminal has rows")
t.like(lines[6], "(6 more not shown)", "view: says what did not fit")

-- topjson: every field there, null when unknown, [] when empty.
local text = topjson.encode(stats.frame(nil, s3))
local doc = cjson.decode(text)
t.is(doc.version, 1, "json: schema version")
t.is(doc.interval_s, cjson.null, "json: first frame has a null interval")
t.is(doc.configured, 3, "json: configured")
local j = doc.vms[1]
t.is(j.disk.rd_bytes, cjson.null, "json: unknown disk bytes are null")
t.is(j.rate_basis, "since_start", "json: rate basis")
t.like(text, '"interfaces":[]', "json: no interfaces is an empty array")
t.is(j.memory_mib, 512, "json: memory_mib")
t.like(topjson.encode({ time = 0, running = 0, configured = 0, vms = {} }),
	'"vms":[]', "json: no VMs is an empty array")

return t.done()
