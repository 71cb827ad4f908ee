-- stop [--force] <vm> [timeout]
local lifecycle = require "lifecycle"
local vmarg = require "vmarg"

return { run = function(pos, opts)
	local v = vmarg.open(pos[1])
	local timeout = pos[2] and vmarg.seconds(pos[2], "timeout")
		or v.cfg.SHUTDOWN_TIMEOUT
	v:lock()
	lifecycle.stop(v, timeout, opts.force or v.cfg.SHUTDOWN_FORCE)
	return 0
end }
