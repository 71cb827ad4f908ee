-- stop [--force] <vm> [timeout]
local lifecycle = require "vm.lifecycle"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos, opts)
	local timeout = pos[2] and util.check(vmarg.seconds(pos[2], "timeout"))
	local v = util.check(vmarg.open(pos[1]))
	util.check(v:lock())
	util.check(lifecycle.stop(v, { timeout = timeout, context = "manual",
		force = opts.force or v.cfg.SHUTDOWN_FORCE, ignore_veto = opts.force }))
	return 0
end }
