-- start <vm>
local bootset = require "boot.set"
local lifecycle = require "vm.lifecycle"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos, opts)
	local v = util.check(vmarg.open(pos[1], "start"))
	local cycle = bootset.cycle(v.name)
	if cycle then util.warn("%s: %s", v.name, cycle) end
	util.check(v:lock())
	util.check(lifecycle.start(v, { context = "manual",
		fresh = opts.fresh }))
	return 0
end }
