-- top/tapstat.lua: byte counters of a VM's tap interfaces, as the guest
-- sees them.  QEMU 7.2 has no per-netdev byte counters over QMP
-- (query-stats knows the targets "vm" and "vcpu" only, and "info
-- network" prints no counters), so they come from the host's interface.
--
-- The host's tap is the far end of the guest's NIC: what the host
-- transmits on the tap the guest receives, and what the guest sends
-- arrives on the tap as received.  So the guest's rx is the tap's tx.
local core = require "nvq.core"

local M = {}

-- Linux: sysfs.  A field so the unit tests can point it at a fake tree.
M.sysfs = "/sys/class/net"

local function number(path)
	local f = io.open(path, "r")
	if not f then return nil end
	local v = f:read("n")
	f:close()
	return math.tointeger(v) or v
end

-- Whether this host gives interface counters at all.  NetBSD keeps them
-- in the kernel's if_data (getifaddrs(3)), which no core primitive reads
-- yet: there the columns show "-".
function M.available()
	if M.have == nil then M.have = core.stat(M.sysfs) ~= nil end
	return M.have
end

-- read(ifname) -> { rx = bytes, tx = bytes } from the guest's view |
-- nil when the counters cannot be read.
function M.read(ifname)
	if not M.available() then return nil end
	local dir = M.sysfs .. "/" .. ifname .. "/statistics/"
	local host_rx, host_tx = number(dir .. "rx_bytes"), number(dir .. "tx_bytes")
	if not host_rx or not host_tx then return nil end
	return { rx = host_tx, tx = host_rx }
end

return M
