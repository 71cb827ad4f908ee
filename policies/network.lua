-- network.lua: how a tap nvqctl opened for a bridge NIC joins its
-- bridge.  nvqctl opens the tap (it exists while QEMU holds it open, so
-- it vanishes with QEMU); everything after that is decided here.
--
-- Copy this file to $NVQCTL_CONFDIR/policies/network.lua to change it
-- (a VLAN, an MTU, another switch).  attach(vm, nic, opt) gets the VM
-- handle, nic = { index = from 0, tap = the interface name, bridge =,
-- mac = } and opt = { os = "NetBSD" or "Linux", deadline = absolute };
-- it returns true, or nil and why -- and then the start is refused,
-- before QEMU runs, and the tap is closed (it goes away).
local core = require "nvq.core"

local P = {
	mtu = nil,	-- a number sets the tap's MTU; nil keeps the bridge's
}

-- Runs argv; true, or nil and what it said.
local function run(argv, deadline)
	local r, err = core.run(argv, { stdout = "capture", stderr = "capture",
		deadline = deadline })
	if not r then return nil, table.concat(argv, " ") .. ": " .. err end
	if r.status == 0 then return true end
	local said = (r.stderr ~= "" and r.stderr or r.stdout):gsub("%s+$", "")
	return nil, table.concat(argv, " ") .. ": " .. (r.timedout and
		"did not finish in time" or said)
end

local ATTACH = {}

-- Linux: a bridge is a directory /sys/class/net/NAME/bridge.
function ATTACH.Linux(nic, deadline)
	if not core.stat("/sys/class/net/" .. nic.bridge .. "/bridge") then
		return nil, "bridge " .. nic.bridge .. " does not exist (make it " ..
			"with: ip link add " .. nic.bridge .. " type bridge)"
	end
	local argv = { "ip", "link", "set", "dev", nic.tap, "master",
		nic.bridge }
	if P.mtu then
		argv[#argv + 1] = "mtu"
		argv[#argv + 1] = tostring(P.mtu)
	end
	argv[#argv + 1] = "up"
	return run(argv, deadline)
end

-- NetBSD: bridge(4) through brconfig(8); the tap is brought up by
-- ifconfig(8).
function ATTACH.NetBSD(nic, deadline)
	if not run({ "ifconfig", nic.bridge }, deadline) then
		return nil, "bridge " .. nic.bridge .. " does not exist (make it " ..
			"with: ifconfig " .. nic.bridge .. " create up)"
	end
	local ok, why = run({ "brconfig", nic.bridge, "add", nic.tap },
		deadline)
	if not ok then return nil, why end
	local up = { "ifconfig", nic.tap }
	if P.mtu then
		up[#up + 1] = "mtu"
		up[#up + 1] = tostring(P.mtu)
	end
	up[#up + 1] = "up"
	return run(up, deadline)
end

function P.attach(vm, nic, opt)
	local f = ATTACH[opt.os]
	if not f then
		return nil, "the network policy does not know how to attach a " ..
			"tap on " .. tostring(opt.os)
	end
	return f(nic, opt.deadline)
end

return P
