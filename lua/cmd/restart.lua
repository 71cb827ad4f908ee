-- restart [--force] <vm> [timeout]: stop and start under one lock, so
-- no other command can slip in between.
local config = require "config"
local lifecycle = require "lifecycle"
local vmarg = require "vmarg"

return { run = function(pos, opts)
	-- Validate the config for start first: never stop what won't start.
	local v = vmarg.open(pos[1], "start")
	local timeout = pos[2] and vmarg.seconds(pos[2], "timeout")
		or v.cfg.SHUTDOWN_TIMEOUT
	v:lock()
	if v:alive() then
		lifecycle.stop(v, timeout, opts.force or v.cfg.SHUTDOWN_FORCE)
	end
	v.cfg = config.load(v.name, "start")
	lifecycle.start(v)
	return 0
end }
