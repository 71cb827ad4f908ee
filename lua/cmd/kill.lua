-- kill <vm>
local lifecycle = require "lifecycle"
local vmarg = require "vmarg"

return { run = function(pos)
	local v = vmarg.open(pos[1])
	v:lock()
	lifecycle.kill(v)
	return 0
end }
