-- tap-bridge.lua: NetBSD networking for a VM: before QEMU starts, each
-- tap interface of NETWORK is created, brought up and added to a bridge;
-- once QEMU is gone (however it ended) it is taken out and destroyed.
--
-- Install as $NVQCTL_CONFDIR/hooks/VM.lua for one VM, or as hooks/all.lua
-- for every VM (mode 0644, owned by root).  See nvqctl-lua(7).
local core = require "nvq.core"

local BRIDGE = "bridge0"	-- the bridge every tap joins; it must exist

-- Runs argv, true or nil and a message naming the command.
local function sh(ev, argv)
	local r, err = core.run(argv, { stderr = "capture",
		deadline = ev.deadline })
	if not r then return nil, err end
	if r.timedout then
		return nil, table.concat(argv, " ") .. ": timed out"
	end
	if r.status ~= 0 then
		return nil, string.format("%s: exit %s: %s", table.concat(argv, " "),
			tostring(r.status or "signal " .. tostring(r.signal)),
			(r.stderr:gsub("%s+$", "")))
	end
	return true
end

local H = {}

function H.pre_start(vm, ev)
	for _, n in ipairs(vm.cfg.nets) do
		-- A tap left over from a run that crashed is reused.
		local exists = core.run({ "ifconfig", n.tap }, { stdout = "null",
			stderr = "null", deadline = ev.deadline })
		if not (exists and exists.status == 0) then
			local ok, why = sh(ev, { "ifconfig", n.tap, "create", "up" })
			if not ok then return false, why end
		else
			local ok, why = sh(ev, { "ifconfig", n.tap, "up" })
			if not ok then return false, why end
		end
		local ok, why = sh(ev, { "brconfig", BRIDGE, "add", n.tap })
		if not ok then return false, why end
		vm:log("%s up on %s", n.tap, BRIDGE)
	end
end

-- Also after a failed start (reason "start-failed"): undo what
-- pre_start did.  Errors here are warnings; go on with the next tap.
function H.post_stop(vm, ev)
	for _, n in ipairs(vm.cfg.nets) do
		sh(ev, { "brconfig", BRIDGE, "delete", n.tap })
		local ok, why = sh(ev, { "ifconfig", n.tap, "destroy" })
		if not ok then vm:log("%s", why) end
	end
end

return H
