-- reboot [--hard] <vm>: through the guest agent, or a QMP system_reset
-- with --hard.  Either way it waits for QEMU's RESET event, so success
-- means the guest really went down for a reboot.
local core = require "nvq.core"
local util = require "util"
local vmarg = require "vmarg"

local AGENT_SYNC = 3	-- seconds for the agent to answer
local RESET_WAIT = 60	-- seconds for the guest to reset after asking

return { run = function(pos, opts)
	local v = vmarg.open(pos[1])
	v:lock()
	local pid = v:alive()
	if not pid then util.die("%s is not running", v.name) end
	local t0 = core.now()
	local mon, err = v:qmp()
	if not mon then util.die("%s: QMP: %s", v.name, err) end
	if opts.hard then
		local ok, why = mon:call("system_reset", nil, core.now() + 2)
		if not ok then util.die("%s: system_reset: %s", v.name, why) end
		v:log("reset (hard) after %.2fs", core.now() - t0)
		return 0
	end
	if not v.cfg.GUEST_AGENT then
		util.die("%s has no guest agent (GUEST_AGENT=no); " ..
			"use 'nvqctl reboot --hard %s' to reset it", v.name, v.name)
	end
	local ok, why = v:agent_shutdown("reboot", core.now() + AGENT_SYNC)
	if not ok then
		util.die("%s: the guest agent did not answer (%s); " ..
			"use 'nvqctl reboot --hard %s' to reset it", v.name, why, v.name)
	end
	v:log("guest agent accepted the reboot")
	local ev, ewhy = mon:wait_event({ "RESET" }, core.now() + RESET_WAIT)
	mon:close()
	if not ev then
		util.die("%s: no reset within %ds (%s)", v.name, RESET_WAIT, ewhy)
	end
	v:log("rebooted by agent after %.2fs", core.now() - t0)
	return 0
end }
