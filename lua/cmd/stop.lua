-- stop [--force] <vm> [timeout]
local lifecycle = require "lifecycle"
local util = require "util"
local vmarg = require "vmarg"

return { run = function(pos, opts)
	local timeout = pos[2] and util.check(vmarg.seconds(pos[2], "timeout"))
	local v = util.check(vmarg.open(pos[1]))
	util.check(v:lock())
	util.check(lifecycle.stop(v, { timeout = timeout, context = "manual",
		force = opts.force or v.cfg.SHUTDOWN_FORCE }))
	return 0
end }
