-- disk/size.lua: disk sizes as a person types them (512M, 20G, 1T).
local M = {}

local UNIT = { [""] = 1, K = 1 << 10, M = 1 << 20, G = 1 << 30,
	T = 1 << 40 }
local MAX = 64 << 40	-- qcow2's own limit

-- bytes | nil, message, "usage".  A number alone is bytes; K, M, G, T
-- are powers of 1024.  A guest counts 512-byte sectors, so the size
-- must be a whole number of them: what it sees is what was asked for.
function M.parse(s)
	local num, unit = tostring(s):match("^(%d+)([KkMmGgTt]?)$")
	local n = num and #num <= 15 and math.tointeger(tonumber(num))
	if not n or n <= 0 then
		return nil, string.format("'%s' is not a size (such as 512M, " ..
			"20G, 1T)", tostring(s)), "usage"
	end
	local u = UNIT[unit:upper()]
	if n > MAX // u then
		return nil, string.format("%s is larger than 64T", s), "usage"
	end
	n = n * u
	if n % 512 ~= 0 then
		return nil, string.format("%s is not a multiple of 512 bytes", s),
			"usage"
	end
	return n
end

-- SIZE[:FORMAT] (create --disk, disk add): bytes, format | nil, message,
-- "usage".  raw unless qcow2 is asked for.
function M.spec(s)
	local sz, fmt = tostring(s):match("^([^:]*):?(.*)$")
	if fmt == "" then fmt = "raw" end
	if fmt ~= "raw" and fmt ~= "qcow2" then
		return nil, string.format("'%s': the format is raw or qcow2", s),
			"usage"
	end
	local n, err, kind = M.parse(sz)
	if not n then return nil, err, kind end
	return n, fmt
end

-- 21474836480 -> "20G", for messages.
function M.human(n)
	n = math.tointeger(n) or n
	for _, u in ipairs({ "T", "G", "M", "K" }) do
		if n % UNIT[u] == 0 then return (n // UNIT[u]) .. u end
	end
	return tostring(n)
end

return M
