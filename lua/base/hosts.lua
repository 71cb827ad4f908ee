-- base/hosts.lua: host names as -H, NVQCTL_HOSTS and HOSTS (nvqctl.conf)
-- take them, [user@]host, checked in one place.
local M = {}

-- No leading "-" (ssh would take it for an option), no blank or shell
-- character: the name also ends up in an environment variable's name.
function M.valid(h)
	if type(h) ~= "string" or #h > 255 then return false end
	local host = h:match("^[%w_.-]+@(.*)$") or h
	return host:find("^[%w_][%w_.:-]*$") ~= nil
end

-- "a,b c" -> { "a", "b", "c" } (commas or blanks separate, repeats
-- dropped) | nil, why.
function M.split(s, what)
	local out, seen = {}, {}
	for h in tostring(s):gmatch("[^,%s]+") do
		if not M.valid(h) then
			return nil, string.format("%s: '%s' is not a host " ..
				"([user@]host)", what, h)
		end
		if not seen[h] then out[#out + 1] = h end
		seen[h] = true
	end
	if #out == 0 then return nil, what .. ": no host named" end
	return out
end

return M
