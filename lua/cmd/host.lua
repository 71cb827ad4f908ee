-- cmd/host.lua: host [--json]: what this host offers and what is wrong,
-- one PASS/NOTE/WARN/FAIL line per check (hostcheck.lua); exit 1 on a
-- FAIL.
local hostcheck = require "host.check"
local jsonout = require "base.jsonout"
local util = require "base.util"

local COLOUR = { PASS = "green", NOTE = "blue", WARN = "yellow",
	FAIL = "red" }

return { run = function(_, opts)
	local list = hostcheck.check()
	if opts.json then
		local out = {}
		for i, c in ipairs(list) do
			out[i] = { check = c.check, level = c.level,
				detail = c.detail }
		end
		print(jsonout.encode(jsonout.array(out)))
	else
		for _, c in ipairs(list) do
			util.printf("%s  %s: %s\n",
				util.colour(COLOUR[c.level], c.level), c.check, c.detail)
		end
	end
	return hostcheck.worst(list) == "FAIL" and 1 or 0
end }
