-- reboot [--hard] [--json] <vm>: through the guest agent, or a QMP system_reset
-- with --hard.  A reboot through the agent waits for QEMU's RESET event,
-- so success means the guest really went down for a reboot.
local acted = require "cmd.acted"
local core = require "nvq.core"
local qmp = require "proto.qmpconn"
local util = require "base.util"
local vmarg = require "vm.arg"

local AGENT_SYNC = 3	-- seconds for the agent to answer
local RESET_WAIT = 60	-- seconds for the guest to reset after asking
local WATCH_WAIT = 0.5	-- seconds to get monitor.sock for watching

local function hard(v, t0, json)
	local ok, why = v:reset(core.now() + 2)
	if not ok then util.die("%s: system_reset: %s", v.name, why) end
	v:log("reset (hard) after %.2fs", core.now() - t0)
	return acted.done(v, { action = "reboot", how = "reset", t0 = t0,
		json = json, changed = true })
end

return { run = function(pos, opts)
	local t0 = acted.begin(opts)
	local v = util.check(vmarg.open(pos[1]))
	util.check(v:lock())
	util.check(vmarg.running(v))
	if opts.hard then return hard(v, t0, opts.json) end
	local function done()
		return acted.done(v, { action = "reboot", how = "agent", t0 = t0,
			json = opts.json, changed = true })
	end
	if not v.cfg.GUEST_AGENT then
		util.die("%s has no guest agent (GUEST_AGENT=no); " ..
			"use 'nvqctl reboot --hard %s' to reset it", v.name, v.name)
	end
	-- The reset is watched on monitor.sock: holding control.sock for the
	-- guest's whole reboot would leave status, list and top without QMP.
	-- A user's monitor holding it means no watching, not no reboot.
	local mon = qmp.connect(v.rt.monitor, core.now() + WATCH_WAIT)
	local ok, why = v:agent_shutdown("reboot", core.now() + AGENT_SYNC)
	if not ok then
		util.die("%s: the guest agent did not answer (%s); " ..
			"use 'nvqctl reboot --hard %s' to reset it", v.name, why, v.name)
	end
	if not mon then
		v:log("guest agent accepted the reboot (monitor.sock is busy: " ..
			"not waiting for the reset)")
		return done()
	end
	v:log("guest agent accepted the reboot")
	local ev, ewhy = mon:wait_event({ "RESET" }, core.now() + RESET_WAIT)
	mon:close()
	if not ev then
		util.die("%s: no reset within %ds (%s)", v.name, RESET_WAIT, ewhy)
	end
	v:log("rebooted by agent after %.2fs", core.now() - t0)
	return done()
end }
