-- restart [--force] [--json] <vm> [timeout]: stop and start under one lock, so
-- no other command can slip in between.
local acted = require "cmd.acted"
local config = require "conf.load"
local lifecycle = require "vm.lifecycle"
local util = require "base.util"
local vm = require "vm.handle"
local vmarg = require "vm.arg"

return { run = function(pos, opts)
	local t0 = acted.begin(opts)
	local rung
	-- Validate the config for start first: never stop what won't start.
	local timeout = pos[2] and util.check(vmarg.seconds(pos[2], "timeout"))
	local v = util.check(vmarg.open(pos[1], "start"))
	util.check(v:lock())
	local pid, why = v:alive()
	if not pid and not vm.stopped(why) then util.die("%s", why) end
	if pid then
		rung = util.check(lifecycle.stop(v, { timeout = timeout, context = "manual",
			force = opts.force or v.cfg.SHUTDOWN_FORCE,
			ignore_veto = opts.force }))
	end
	v.cfg = util.check(config.load(v.name, "start"))
	util.check(lifecycle.start(v, { context = "manual" }))
	-- how: the rung that stopped it, null when it was not running.
	return acted.done(v, { action = "restart", t0 = t0, json = opts.json,
		changed = true, how = rung })
end }
