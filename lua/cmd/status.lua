-- status [--json] <vm>
local core = require "nvq.core"
local jsonout = require "base.jsonout"
local media = require "qemu.media"
local bridge = require "net.bridge"
local nic = require "net.nic"
local taps = require "net.taps"
local poststop = require "vm.poststop"
local running = require "vm.running"
local savefile = require "vm.savefile"
local util = require "base.util"
local vmarg = require "vm.arg"

local function collect(v)
	if not v:alive() then poststop.notice(v.name) end
	local state, pid = util.check(v:state())
	if state == "stopped" and savefile.saved(v.name) then state = "saved" end
	-- A running VM has what it was started with, whatever its file says.
	local shown, pending = v.cfg, {}
	if pid then shown, pending = running.config(v.name, v.rt, v.cfg) end
	local s = {
		name = v.name, state = state, pid = pid,
		vcpus = shown.NCPU, memory_mib = shown.MEMORY, accel = v:accel(),
		config = v.cfg.file, pending = pending, nets = shown.nets or {},
	}
	-- The taps nvqctl opened for bridge NICs, in NIC order.
	local opened = pid and taps.recorded(v.rt) or {}
	local k = 0
	for _, n in ipairs(s.nets) do
		if n.kind == "bridge" then
			k = k + 1
			n.tap = opened[k]
		end
		-- A tap's link, while QEMU holds it (a user NIC has none here).
		if pid and n.tap then n.link = bridge.link(n.tap) end
	end
	if pid then
		local ps = core.procstat(pid)
		if ps then
			s.uptime = math.floor(core.time() - ps.start)
			s.rss = ps.rss
			s.cpu_seconds = ps.cpu
		end
		s.sockets = { monitor = v.rt.monitor,
			serial = v.cfg.SERIAL and v.rt.serial or nil,
			agent = v.cfg.GUEST_AGENT and v.rt.agent or nil }
		-- Where the display listens: as started, not as the file says.
		if shown.VNC then
			s.vnc = { kind = shown.VNC.kind,
				listen = media.vnc_where(shown, v.rt),
				password = shown.VNC_PASSWORD_FILE ~= "" }
		end
	else
		local stale = v:stale_files()
		if #stale > 0 then s.stale_files = stale end
	end
	return s
end

local function show(s)
	util.printf("%s is %s\n", s.name,
		util.colour(util.state_colour(s.state), s.state))
	local function row(k, v) if v then util.printf("  %-9s %s\n", k .. ":", v) end end
	row("pid", s.pid)
	row("uptime", s.uptime and util.fmt_duration(s.uptime))
	row("vcpus", s.vcpus)
	row("memory", s.memory_mib .. "M")
	row("accel", s.accel)
	if #s.pending > 0 then
		row("pending", "the config file changes " ..
			table.concat(s.pending, ", ") .. " (restart to apply)")
	end
	row("rss", s.rss and util.fmt_bytes(s.rss))
	for i, n in ipairs(s.nets) do
		row("net" .. (i - 1), nic.describe(n) ..
			(n.link and ", link " .. n.link or ""))
	end
	if s.sockets then
		row("monitor", s.sockets.monitor)
		row("serial", s.sockets.serial)
		row("agent", s.sockets.agent)
	end
	if s.vnc then
		row("vnc", (s.vnc.kind == "unix" and "unix socket " or "tcp ") ..
			s.vnc.listen .. (s.vnc.password and ", password" or ""))
	end
	for _, f in ipairs(s.stale_files or {}) do row("stale", f) end
end

local function nics(nets)
	local out = {}
	for i, n in ipairs(nets) do
		local fwds = {}
		for j, f in ipairs(n.fwds or {}) do
			fwds[j] = { proto = f.proto, host_addr = f.addr,
				host_port = f.hport, guest_port = f.gport }
		end
		out[i] = { kind = n.kind, tap = jsonout.opt(n.tap),
			bridge = jsonout.opt(n.bridge), link = jsonout.opt(n.link),
			mac = n.mac,
			mac_derived = n.derived == true,
			forwards = jsonout.array(fwds) }
	end
	return out
end

-- The --json document: every field always there, null where unknown,
-- names and units as top's (doc/json-schema.md).
local function document(s)
	local opt = jsonout.opt
	local k = s.sockets
	return {
		name = s.name, state = s.state, pid = opt(s.pid),
		vcpus = s.vcpus, memory_mib = s.memory_mib, accel = s.accel,
		config = s.config, pending_change = jsonout.array(s.pending),
		uptime_s = opt(s.uptime), rss_bytes = opt(s.rss),
		cpu_seconds = opt(jsonout.round(s.cpu_seconds, 2)),
		sockets = k and { monitor = k.monitor, serial = opt(k.serial),
			agent = opt(k.agent) } or opt(nil),
		stale_files = jsonout.array(s.stale_files or {}),
		vnc = opt(s.vnc),
		nics = jsonout.array(nics(s.nets)),
	}
end

return { run = function(pos, opts)
	local s = collect(util.check(vmarg.open(pos[1])))
	if opts.json then
		print(jsonout.encode(document(s)))
	else
		show(s)
	end
	return 0
end }
