-- kill [--json] <vm>
local acted = require "cmd.acted"
local config = require "conf.load"
local lifecycle = require "vm.lifecycle"
local util = require "base.util"
local vm = require "vm.handle"
local vmarg = require "vm.arg"

return { run = function(pos, opts)
	local t0 = acted.begin(opts)
	local name = pos[1]
	util.check(config.check_name(name))
	-- kill needs nothing from the config: a running VM whose config has
	-- since been broken or removed can still be ended, the way out.
	local v, why = vmarg.open(name)
	if not v then
		v = vm.open(name, nil)
		local pid, awhy = v:alive()
		if not pid then util.die("%s", vm.stopped(awhy) and why or awhy) end
		util.warn("%s; killing the running VM all the same", why)
	end
	util.check(v:lock())
	return acted.result(v, { action = "kill", t0 = t0, json = opts.json },
		lifecycle.kill(v))
end }
