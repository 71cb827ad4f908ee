-- kill <vm>
local config = require "config"
local lifecycle = require "lifecycle"
local util = require "util"
local vm = require "vm"
local vmarg = require "vmarg"

return { run = function(pos)
	local name = pos[1]
	config.check_name(name)
	-- kill needs nothing from the config: a running VM whose config has
	-- since been broken or removed can still be ended, the way out.
	local ok, v = pcall(vmarg.open, name)
	if not ok then
		local e = v
		v = vm.open(name, nil)
		if not util.is_failure(e) or not v:alive() then error(e, 0) end
		util.warn("%s; killing the running VM all the same", e.msg)
	end
	v:lock()
	lifecycle.kill(v)
	return 0
end }
