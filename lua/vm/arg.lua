-- vm/arg.lua: turns a command's <vm> argument into a VM handle.  Like
-- the rest below the commands it returns nil, message (and "usage" when
-- the argument itself is wrong); the command decides what to do.
local config = require "conf.load"
local util = require "base.util"
local recover = require "vm.recover"
local vm = require "vm.handle"

local M = {}

-- The VM's config; for a running VM whose file has gone bad since it
-- started (not for start itself), the copy it was started with.
-- cfg | nil, message[, "usage"].
function M.config(name, mode)
	local okname, nwhy = config.check_name(name)
	if not okname then return nil, nwhy, "usage" end
	mode = mode or "list"
	local cfg, why = config.load(name, mode)
	if cfg or mode == "start" then return cfg, why end
	local v = vm.open(name, nil)
	local started = v:alive() and config.load_started(name, v.rt)
	if not started then return nil, why end
	util.warn("%s; using the config %s was started with", why, name)
	return started
end

-- open(name, mode): mode is config.load's ("start" is strict about
-- disks; "list" tolerates what does not stop a running VM).
-- VM handle | nil, message[, "usage"].
function M.open(name, mode)
	local cfg, why, kind = M.config(name, mode)
	if not cfg then return nil, why, kind end
	local v = vm.open(name, cfg)
	recover.recover(v)
	return v
end

-- pid of the running VM | nil, "VM is not running" or why nothing can
-- be told.
function M.running(v)
	local pid, why = v:alive()
	if pid then return pid end
	if vm.stopped(why) then return nil, v.name .. " is not running" end
	return nil, why
end

-- A positive whole number of seconds given on the command line:
-- n | nil, message, "usage".
function M.seconds(s, what)
	local n = util.whole(s)
	if not n or n < 1 or n > 86400 then
		return nil, string.format("%s must be a whole number of seconds " ..
			"(1-86400): %s", what, s), "usage"
	end
	return math.tointeger(n)
end

return M
