-- net/bridge.lua: facts about the host's bridges and its tap cloning
-- device, for "nvqctl host".  (Attaching is the network policy's.)
local core = require "nvq.core"

local M = {}

-- The cloning device a bridge NIC's tap comes from.
function M.clone_device()
	return core.uname().sysname == "NetBSD" and "/dev/tap" or "/dev/net/tun"
end

-- exists(name) -> true | nil, why.  Linux: /sys/class/net/NAME/bridge;
-- NetBSD: ifconfig(8) knows the interface (bridge(4) has no sysfs).
function M.exists(name)
	if core.uname().sysname == "NetBSD" then
		local r = core.run({ "ifconfig", name }, { stdout = "null",
			stderr = "null", deadline = core.now() + 5 })
		if r and r.status == 0 then return true end
		return nil, "no interface " .. name .. " (make it: ifconfig " ..
			name .. " create up)"
	end
	if core.stat("/sys/class/net/" .. name .. "/bridge") then return true end
	if core.stat("/sys/class/net/" .. name) then
		return nil, name .. " is an interface but not a bridge"
	end
	return nil, "no bridge " .. name .. " (make it: ip link add " .. name ..
		" type bridge)"
end

-- clone_check() -> true | nil, why: a tap can be made here now (one is
-- opened and closed at once: it goes with its descriptor).
function M.clone_check()
	local fd, why = core.tap_open()
	if not fd then
		local fix = core.uname().sysname == "NetBSD" and
			"the kernel needs pseudo-device tap" or "modprobe tun"
		return nil, string.format("%s: %s (%s)", M.clone_device(), why, fix)
	end
	core.fdclose(fd)
	return true
end

return M
