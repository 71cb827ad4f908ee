-- start <vm>
local lifecycle = require "lifecycle"
local util = require "util"
local vmarg = require "vmarg"

return { run = function(pos)
	local v = util.check(vmarg.open(pos[1], "start"))
	util.check(v:lock())
	util.check(lifecycle.start(v, { context = "manual" }))
	return 0
end }
