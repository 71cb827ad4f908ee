-- start <vm>
local lifecycle = require "lifecycle"
local vmarg = require "vmarg"

return { run = function(pos)
	local v = vmarg.open(pos[1], "start")
	v:lock()
	lifecycle.start(v)
	return 0
end }
