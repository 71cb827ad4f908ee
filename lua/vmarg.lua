-- vmarg.lua: turns a command's <vm> argument into a VM handle.
local config = require "config"
local util = require "util"
local vm = require "vm"

local M = {}

-- open(name, mode): mode is config.load's ("start" is strict about
-- disks; "list" tolerates what does not stop a running VM).
function M.open(name, mode)
	config.check_name(name)
	return vm.open(name, config.load(name, mode or "list"))
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
