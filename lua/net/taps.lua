-- net/taps.lua: the taps of a VM's bridge NICs.  nvqctl opens each one
-- through the clone device (core.tap_open): it lives while a descriptor
-- to it is open, QEMU inherits the descriptor, and so no tap outlives its
-- VM.  The network policy (policies/network.lua, called by the caller's
-- attach) puts it into its bridge.
local core = require "nvq.core"

local M = {}

local function close_all(opened)
	for _, o in ipairs(opened) do core.fdclose(o.fd) end
end

-- open(v, attach) -> list of { fd, name } (in NIC order, bridge NICs
-- only; each NIC's .tap and .fd set) | nil, why -- and then nothing is
-- left open.  attach(nic) puts a tap where it belongs (the network
-- policy): true | nil, why.
function M.open(v, attach)
	local opened = {}
	for i, n in ipairs(v.cfg.nets or {}) do
		if n.kind == "bridge" then
			local fd, name = core.tap_open()
			if not fd then
				close_all(opened)
				return nil, string.format("%s: net%d: cannot open a tap: %s",
					v.name, i - 1, name)
			end
			opened[#opened + 1] = { fd = fd, name = name }
			n.fd, n.tap = fd, name
			local ok, why = attach({ index = i - 1, tap = name,
				bridge = n.bridge, mac = n.mac })
			if not ok then
				close_all(opened)
				return nil, string.format("%s: net%d: tap %s into bridge " ..
					"%s: %s", v.name, i - 1, name, n.bridge, why)
			end
		end
	end
	return opened
end

M.close = close_all

-- record(v, opened): the names of the taps a running QEMU holds, in the
-- run directory, for status and top (QEMU reports such a tap as fd=N).
function M.record(v, opened)
	if #opened == 0 then return end
	local names = {}
	for i, o in ipairs(opened) do names[i] = o.name end
	local f = io.open(v.rt.taps, "w")
	if f then
		f:write(table.concat(names, "\n"), "\n")
		f:close()
	end
end

-- recorded(rt) -> the tap names a running VM's QEMU holds, or {}.
function M.recorded(rt)
	local out = {}
	local f = io.open(rt.taps)
	if not f then return out end
	for l in f:lines() do
		if l:match("^[%w_.-]+$") then out[#out + 1] = l end
	end
	f:close()
	return out
end

return M
