-- stop [--force] [--json] <vm> [timeout]
local acted = require "cmd.acted"
local lifecycle = require "vm.lifecycle"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos, opts)
	local t0 = acted.begin(opts)
	local timeout = pos[2] and util.check(vmarg.seconds(pos[2], "timeout"))
	local v = util.check(vmarg.open(pos[1]))
	util.check(v:lock())
	return acted.result(v, { action = "stop", t0 = t0, json = opts.json },
		lifecycle.stop(v, { timeout = timeout, context = "manual",
		force = opts.force or v.cfg.SHUTDOWN_FORCE,
		ignore_veto = opts.force }))
end }
