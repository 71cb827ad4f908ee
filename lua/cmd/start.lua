-- start [--json] <vm>
local acted = require "cmd.acted"
local bootset = require "boot.set"
local lifecycle = require "vm.lifecycle"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos, opts)
	local t0 = acted.begin(opts)
	local v = util.check(vmarg.open(pos[1], "start"))
	local cycle = bootset.cycle(v.name)
	if cycle then util.warn("%s: %s", v.name, cycle) end
	util.check(v:lock())
	local pid, why, kind = lifecycle.start(v, { context = "manual",
		fresh = opts.fresh })
	return acted.result(v, { action = "start", t0 = t0, json = opts.json },
		pid and true, why, kind)
end }
