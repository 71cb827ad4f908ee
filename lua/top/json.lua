-- top/json.lua: a frame from stats.frame as the JSON document of
-- "top --json" (schema: doc/json-schema.md).  Every field is always
-- there; what is unknown or does not apply is null.
local core = require "nvq.core"
local jsonout = require "base.jsonout"

local M = {}

M.VERSION = 1

local array, opt, round = jsonout.array, jsonout.opt, jsonout.round

local function vm(r)
	return {
		name = r.name,
		state = r.state,
		pid = r.pid,
		cpu_seconds = opt(round(r.cpu_seconds, 2)),
		cpu_percent = opt(round(r.cpu_percent, 1)),
		rss_bytes = opt(r.rss),
		vcpus = opt(r.vcpus),
		memory_mib = opt(r.memory_mib),
		accel = opt(r.accel),
		uptime_s = opt(r.uptime and math.floor(r.uptime)),
		rate_basis = r.basis,
		config_error = opt(r.config_error),
		pending_change = array(r.pending or {}),
		disk = {
			rd_bytes = opt(r.disk.rd),
			wr_bytes = opt(r.disk.wr),
			rd_bytes_per_s = opt(round(r.disk.rd_rate)),
			wr_bytes_per_s = opt(round(r.disk.wr_rate)),
		},
		net = {
			interfaces = array(r.net.ifaces),
			rx_bytes = opt(r.net.rx),
			tx_bytes = opt(r.net.tx),
			rx_bytes_per_s = opt(round(r.net.rx_rate)),
			tx_bytes_per_s = opt(round(r.net.tx_rate)),
		},
	}
end

-- encode(frame) -> one line of JSON
function M.encode(f)
	local vms = {}
	for i, r in ipairs(f.vms) do vms[i] = vm(r) end
	return jsonout.encode({
		version = M.VERSION,
		time = round(f.time, 3),
		host = core.hostname(),
		interval_s = opt(round(f.interval, 3)),
		running = f.running,
		configured = f.configured,
		vms = array(vms),
	})
end

return M
