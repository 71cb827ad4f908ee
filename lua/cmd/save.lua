-- save <vm>: the guest's state to VM_DIR/<vm>, and QEMU stopped; the
-- next start restores it.
local save = require "vm.saver"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos)
	local v = util.check(vmarg.open(pos[1]))
	util.check(vmarg.running(v))
	util.check(v:lock())
	util.check(save.save(v, { context = "manual" }))
	return 0
end }
