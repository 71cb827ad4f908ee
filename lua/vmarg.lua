-- vmarg.lua: turns a command's <vm> argument into a VM handle.
local config = require "config"
local util = require "util"
local vm = require "vm"

local M = {}

-- open(name, mode): mode is config.load's ("start" is strict about
-- disks; "list" tolerates what does not stop a running VM).
function M.open(name, mode)
	return vm.open(name, M.config(name, mode))
end

-- The VM's config; for a running VM whose file has gone bad since it
-- started (not for start itself), the copy it was started with.
function M.config(name, mode)
	config.check_name(name)
	mode = mode or "list"
	local ok, cfg = pcall(config.load, name, mode)
	if ok then return cfg end
	if mode == "start" or not util.is_failure(cfg) then error(cfg, 0) end
	local v = vm.open(name, nil)
	local started = v:alive() and config.load_started(name, v.rt)
	if not started then error(cfg, 0) end
	util.warn("%s; using the config %s was started with", cfg.msg, name)
	return started
end

-- A positive whole number of seconds given on the command line.
function M.seconds(s, what)
	local n = tonumber(s)
	if not n or n ~= math.floor(n) or n < 1 or n > 86400 then
		util.usage_error("%s must be a whole number of seconds (1-86400): %s",
			what, s)
	end
	return math.tointeger(n)
end

return M
