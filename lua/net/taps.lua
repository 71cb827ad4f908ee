-- net/taps.lua: the taps of a VM's bridge NICs.  nvqctl opens each one
-- through the clone device (core.tap_open): it lives while a descriptor
-- to it is open, QEMU inherits the descriptor, and so no tap outlives its
-- VM.  The network policy (policies/network.lua) attaches it.
local core = require "nvq.core"
local userlua = require "ulua.runner"

local M = {}

local ATTACH_TIME = 10	-- seconds the policy may take for one tap

local function close_all(opened)
	for _, o in ipairs(opened) do core.fdclose(o.fd) end
end

-- attach(handle, n, i) -> true | nil, why: the network policy on one tap.
local function attach(handle, n, i)
	local limit = core.now() + ATTACH_TIME
	local policy, where = userlua.load_policy("network", limit)
	if not policy then return nil, where end
	local f = type(policy) == "table" and rawget(policy, "attach")
	if type(f) ~= "function" then
		return nil, where .. ": the network policy has no attach function"
	end
	local res = table.pack(userlua.call(f, limit, where, handle,
		{ index = i - 1, tap = n.tap, bridge = n.bridge, mac = n.mac },
		{ os = core.uname().sysname, deadline = limit }))
	if not res[1] then return nil, res[2] end
	if res[2] == true then return true end
	local why = res[3]
	return nil, type(why) == "string" and why or
		"the network policy refused without saying why"
end

-- open(v) -> list of { fd, name } (in NIC order, bridge NICs only; each
-- NIC's .tap and .fd set) | nil, why -- and then nothing is left open.
function M.open(v)
	local opened = {}
	local handle
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
			handle = handle or userlua.handle(v)
			local ok, why = attach(handle, n, i)
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
