-- net/bridge.lua: facts about the host's bridges, taps and tap cloning
-- device, for "nvqctl host" and status.  (Attaching is the network
-- policy's.)
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

-- link(name) -> "up" (administratively up, carrier on), "down", or nil
-- when the interface cannot be looked at.  Linux: IFF_UP (0x1) in
-- /sys/class/net/NAME/flags and its carrier file (sysfs flags never
-- carry IFF_RUNNING); NetBSD: the flags ifconfig(8) prints
-- (<UP,BROADCAST,RUNNING,...>).
function M.link(name)
	if core.uname().sysname == "NetBSD" then
		local r = core.run({ "ifconfig", name }, { stdout = "capture",
			stderr = "null", deadline = core.now() + 5 })
		local flags = r and r.status == 0 and r.stdout:match("<([^>]*)>")
		if not flags then return nil end
		flags = "," .. flags .. ","
		return (flags:find(",UP,", 1, true) and
			flags:find(",RUNNING,", 1, true)) and "up" or "down"
	end
	local function read(what)
		local f = io.open("/sys/class/net/" .. name .. "/" .. what)
		if not f then return nil end
		local v = f:read("l")
		f:close()
		return v
	end
	local flags = tonumber(read("flags") or "")
	if not flags then return nil end
	-- carrier cannot be read while the interface is down.
	return (flags & 1) == 1 and read("carrier") == "1" and "up" or "down"
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
