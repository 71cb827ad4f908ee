-- topjson.lua: a frame from stats.frame as the JSON document of
-- "top --json" (schema: doc/json-schema.md).  Every field is always
-- there; what is unknown or does not apply is null.
local core = require "nvq.core"
local util = require "util"

local M = {}

M.VERSION = 1

-- lua-cjson 2.1 encodes an empty table as {}; arrays that may be empty
-- carry this marker, replaced by [] after encoding.
local EMPTY = "\1nvq-empty-array\1"

local function array(t)
	if #t == 0 then return EMPTY end
	return t
end

local function round(x, places)
	if x == nil then return nil end
	local m = 10 ^ (places or 0)
	local v = math.floor(x * m + 0.5) / m
	return math.tointeger(v) or v
end

local function vm(r, null)
	local function v(x) if x == nil then return null end return x end
	return {
		name = r.name,
		state = r.state,
		pid = r.pid,
		cpu_seconds = v(round(r.cpu_seconds, 2)),
		cpu_percent = v(round(r.cpu_percent, 1)),
		rss_bytes = v(r.rss),
		vcpus = v(r.vcpus),
		memory_mib = v(r.memory_mib),
		accel = v(r.accel),
		uptime_s = v(r.uptime and math.floor(r.uptime)),
		rate_basis = r.basis,
		config_error = v(r.config_error),
		disk = {
			rd_bytes = v(r.disk.rd),
			wr_bytes = v(r.disk.wr),
			rd_bytes_per_s = v(round(r.disk.rd_rate)),
			wr_bytes_per_s = v(round(r.disk.wr_rate)),
		},
		net = {
			interfaces = array(r.net.ifaces),
			rx_bytes = v(r.net.rx),
			tx_bytes = v(r.net.tx),
			rx_bytes_per_s = v(round(r.net.rx_rate)),
			tx_bytes_per_s = v(round(r.net.tx_rate)),
		},
	}
end

-- encode(frame) -> one line of JSON
function M.encode(f)
	local json = util.json()
	local vms = {}
	for i, r in ipairs(f.vms) do vms[i] = vm(r, json.null) end
	local doc = {
		version = M.VERSION,
		time = round(f.time, 3),
		host = core.hostname(),
		interval_s = f.interval and round(f.interval, 3) or json.null,
		running = f.running,
		configured = f.configured,
		vms = array(vms),
	}
	local marker = json.encode(EMPTY):gsub("%p", "%%%0")
	return (json.encode(doc):gsub(marker, "[]"))
end

return M
