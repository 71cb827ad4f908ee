-- top/stats.lua: what top shows, in two steps.  sample() reads the counters
-- of every running VM once: CPU time and RSS from the operating system,
-- run state and disk bytes over QMP (all VMs at once, one deadline),
-- tap bytes from the host.  frame(prev, cur) turns two samples into
-- rates.  Nothing here prints.
local core = require "nvq.core"
local config = require "conf.load"
local paths = require "base.paths"
local poststop = require "vm.poststop"
local qmpbatch = require "proto.qmpbatch"
local running = require "vm.running"
local tapstat = require "top.tapstat"
local nettaps = require "net.taps"
local vm = require "vm.handle"

local M = {}

-- Seconds all the running VMs together have to answer QMP: one that
-- does not answer costs the frame this much and no more.
local QMP_WAIT = 0.5

local QUERIES = {
	{ execute = "query-status" },
	{ execute = "query-blockstats" },
	-- The tap names QEMU really opened (EXTRA_ARGS may add some, and the
	-- config may have been edited since the start).
	{ execute = "human-monitor-command",
		arguments = { ["command-line"] = "info network" } },
}

local function blockstats(r)
	if not r or type(r.ok) ~= "table" then return nil end
	local rd, wr = 0, 0
	for _, dev in ipairs(r.ok) do
		local s = type(dev) == "table" and dev.stats
		-- lua-cjson decodes every number as a float.
		local r = type(s) == "table" and math.tointeger(s.rd_bytes)
		local w = type(s) == "table" and math.tointeger(s.wr_bytes)
		if not r or not w then return nil end
		rd, wr = rd + r, wr + w
	end
	return { rd = rd, wr = wr }
end

-- Tap names from "info network": " \ net0: index=0,type=tap,ifname=tap0,..."
local function hmp_taps(r)
	if not r or type(r.ok) ~= "string" then return nil end
	local taps = {}
	for line in r.ok:gmatch("[^\r\n]+") do
		local ifname = line:find("type=tap", 1, true)
			and line:match("ifname=([%w_.-]+)")
		if ifname then taps[#taps + 1] = ifname end
	end
	return taps
end

local function config_taps(cfg)
	local taps = {}
	-- A user-mode NIC has no host interface to count.
	for _, n in ipairs(cfg and cfg.nets or {}) do
		if n.tap then taps[#taps + 1] = n.tap end
	end
	return taps
end

-- Sums the taps' counters; nil when any of them cannot be read.
local function net(taps)
	local sum = { ifaces = taps, rx = 0, tx = 0 }
	if #taps == 0 then return sum end
	for _, t in ipairs(taps) do
		local c = tapstat.read(t)
		if not c then
			sum.rx, sum.tx = nil, nil
			return sum
		end
		sum.rx, sum.tx = sum.rx + c.rx, sum.tx + c.tx
	end
	return sum
end

local function load_config(name)
	if not core.stat(paths.vmconf(name)) then return nil end
	return config.load(name, "list")
end

-- One VM whose QEMU runs: what the operating system says about it.
local function process(name, pid)
	local e = { name = name, pid = pid }
	e.cfg, e.config_error = load_config(name)
	-- The accelerator this QEMU was started with (auto may say
	-- otherwise now).
	local v = vm.open(name, e.cfg or {})
	v.pid = pid
	e.accel = v:accel()
	-- What it runs with, whatever its file says now.
	e.shown, e.pending = running.config(name, v.rt, e.cfg)
	e.t = core.now()
	local ps = core.procstat(pid)
	if ps then
		e.cpu, e.rss, e.start = ps.cpu, ps.rss, ps.start
	end
	return e
end

-- What QMP said about one VM.
local function answers(e, job)
	local st = job.replies[1]
	st = st and type(st.ok) == "table" and st.ok.status
	e.state = type(st) == "string" and st or "unresponsive"
	e.disk = blockstats(job.replies[2])
	local taps = hmp_taps(job.replies[3]) or config_taps(e.cfg)
	-- QEMU names a tap it was handed by descriptor only as fd=N: the
	-- names of those nvqctl opened are in the run directory.
	local seen = {}
	for _, t in ipairs(taps) do seen[t] = true end
	for _, t in ipairs(nettaps.recorded(paths.runtime(e.name))) do
		if not seen[t] then taps[#taps + 1] = t end
	end
	e.net = (#taps == 0 or tapstat.available()) and net(taps)
		or { ifaces = taps, unsupported = true }
end

-- sample() -> { time = epoch, configured = n, vms = { entry, ... } }
-- for the VMs that run (hold their pidfile lock) right now; nil, why
-- when a pidfile cannot be looked at (not root?): never "none run".
function M.sample()
	local all, configured = paths.vm_names_and_running()
	local vms, socks, pidfiles = {}, {}, {}
	for _, name in ipairs(all) do
		local rt = paths.runtime(name)
		local pid, why = vm.alive(name, rt.pidfile)
		if not pid and not vm.stopped(why) then return nil, why end
		if not pid then poststop.notice(name) end
		if pid then
			vms[#vms + 1] = process(name, pid)
			socks[#socks + 1] = paths.qmp_socket(rt)
			pidfiles[#pidfiles + 1] = rt.pidfile
		end
	end
	local jobs = qmpbatch.run(socks, QUERIES, core.now() + QMP_WAIT,
		pidfiles)
	for i, e in ipairs(vms) do answers(e, jobs[i]) end
	return { time = core.time(), t = core.now(), configured = configured,
		vms = vms }
end

-- Per second from two readings, or nil: a counter that went back (a
-- QEMU restarted under the same name) gives no rate.
local function rate(new, old, dt)
	if new == nil or old == nil or dt == nil or dt <= 0 or new < old then
		return nil
	end
	return (new - old) / dt
end

local function same_process(a, b)
	return a and b and a.pid == b.pid and a.start == b.start
end

-- One row of a frame: counters, and rates over the interval when the
-- previous sample saw the same process, else averages since its start.
local function row(e, old, now_epoch)
	local cfg = e.shown or e.cfg or {}
	local uptime = e.start and math.max(now_epoch - e.start, 0)
	local r = { name = e.name, state = e.state, pid = e.pid,
		cpu_seconds = e.cpu, rss = e.rss, uptime = uptime,
		vcpus = cfg.NCPU, memory_mib = cfg.MEMORY, accel = e.accel or cfg.accel,
		config_error = e.config_error, pending = e.pending or {},
		disk = { rd = e.disk and e.disk.rd, wr = e.disk and e.disk.wr },
		net = { ifaces = e.net.ifaces, unsupported = e.net.unsupported,
			rx = e.net.rx, tx = e.net.tx } }
	local base, dt
	if same_process(e, old) then
		r.basis, base, dt = "interval", old, e.t - old.t
	else
		r.basis, dt = "since_start", uptime
		base = { cpu = 0, disk = { rd = 0, wr = 0 },
			net = { rx = 0, tx = 0 } }
	end
	local c = rate(e.cpu, base.cpu, dt)
	r.cpu_percent = c and c * 100
	local bd, bn = base.disk or {}, base.net or {}
	r.disk.rd_rate = rate(r.disk.rd, bd.rd, dt)
	r.disk.wr_rate = rate(r.disk.wr, bd.wr, dt)
	r.net.rx_rate = rate(r.net.rx, bn.rx, dt)
	r.net.tx_rate = rate(r.net.tx, bn.tx, dt)
	return r
end

-- frame(prev | nil, cur) -> { time, interval | nil, running, configured,
-- vms = { row, ... } }
function M.frame(prev, cur)
	local before = {}
	for _, e in ipairs(prev and prev.vms or {}) do before[e.name] = e end
	local f = { time = cur.time, interval = prev and cur.t - prev.t,
		running = #cur.vms, configured = cur.configured, vms = {} }
	for i, e in ipairs(cur.vms) do
		f.vms[i] = row(e, before[e.name], cur.time)
	end
	return f
end

return M
