-- vm/hibernate.lua: the guest saves itself (S4) at the agent's request
-- (guest-suspend-disk), for hosts where QEMU cannot save a VM (NVMM);
-- QEMU exits once the guest has powered off.
local core = require "nvq.core"
local poststop = require "vm.poststop"

local M = {}

local REFUSE_WAIT = 3	-- seconds for the agent to answer with a refusal

-- hibernate(v, deadline, ctx) -> true | nil, why (the guest runs on: the
-- caller shuts it down instead).  The caller holds the lock.
function M.hibernate(v, deadline, ctx)
	if not v:alive() then return nil, v.name .. " is not running" end
	local a, why = v:agent(math.min(deadline, core.now() + REFUSE_WAIT))
	if not a then return nil, "guest agent: " .. tostring(why) end
	-- No reply means it is under way; an error reply is a refusal.
	local r, cwhy, class = a:call("guest-suspend-disk", nil,
		math.min(deadline, core.now() + REFUSE_WAIT))
	if r == nil and class ~= nil then
		a:close()
		return nil, "the guest cannot hibernate: " .. tostring(cwhy)
	end
	local gone = v:wait_exit(deadline)
	a:close()
	if not gone then
		return nil, "the guest did not hibernate in time"
	end
	v:log("hibernated")
	poststop.fire(v, "hibernated", { context = ctx or "host-shutdown",
		deadline = deadline })
	v:clear_stale()
	return true
end

return M
