-- vm/running.lua: what a running VM runs with.  Its config file may have
-- been edited since it started, but QEMU keeps the CPUs, memory and
-- devices it was started with; the run directory keeps the config they
-- came from (conf.load's save_started).  list, status and top show
-- those values, and mark a VM whose file now asks for something else:
-- a change that waits for the next start.
local config = require "conf.load"

local M = {}

-- The keys that make the QEMU process (qemu/argv.lua reads them): a
-- change to one of these waits for a restart; the others (timeouts,
-- policies, BOOT_*) apply at the next command that reads them.
M.KEYS = { "QEMU_BIN", "ACCEL", "CPU", "NCPU", "MEMORY", "DISKS", "ISO",
	"ISO_BOOT", "NETWORK", "DISPLAY_OPT", "VNC", "VNC_PASSWORD_FILE",
	"CLOUD_INIT", "SERIAL", "GUEST_AGENT", "GUEST_AGENT_METHOD",
	"VIRTIO_RNG", "RTC_BASE", "EXTRA_ARGS" }

local function same(a, b)
	if a == b then return true end
	if type(a) ~= "table" or type(b) ~= "table" then return false end
	for k, v in pairs(a) do
		if not same(v, b[k]) then return false end
	end
	for k in pairs(b) do
		if a[k] == nil then return false end
	end
	return true
end

-- config(name, rt, cfg) -> shown, pending: for a running VM (the caller
-- knows), the config it was started with and the sorted list of M.KEYS
-- whose value the file (cfg, nil when it does not load) now changes;
-- cfg and an empty list when no copy was kept (a VM started by an
-- older nvqctl).
function M.config(name, rt, cfg)
	local started = config.load_started(name, rt)
	if not started then return cfg, {} end
	local pending = {}
	if cfg then
		for _, k in ipairs(M.KEYS) do
			if not same(started[k], cfg[k]) then
				pending[#pending + 1] = k
			end
		end
	end
	table.sort(pending)
	return started, pending
end

return M
