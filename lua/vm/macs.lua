-- vm/macs.lua: MACs that two configured VMs share.  Within one file a
-- repeated MAC is a config error; across files each VM is fine alone and
-- only the pair is wrong, so "nvqctl host" reports it (FAIL) and start
-- and config warn.
local config = require "conf.load"
local paths = require "base.paths"

local M = {}

-- Every configured VM's NICs: mac -> { "vm/x.conf:3 (x)", ... }.  A VM
-- whose config does not load has no MACs to compare (host says why).
local function owners(extra)
	local by = {}
	local function add(cfg)
		for _, n in ipairs(cfg.nets or {}) do
			local l = n.mac:lower()
			by[l] = by[l] or {}
			local where = string.format("%s:%d", cfg.file, n.line or 0)
			if n.derived then where = where .. " (derived)" end
			by[l][#by[l] + 1] = { vm = cfg.name, where = where }
		end
	end
	for _, name in ipairs(paths.vm_names()) do
		if not (extra and extra.name == name) then
			local cfg = config.load(name, "list")
			if cfg then add(cfg) end
		end
	end
	if extra then add(extra) end
	return by
end

local function text(mac, list)
	local t = {}
	for _, o in ipairs(list) do t[#t + 1] = o.vm .. " at " .. o.where end
	return string.format("MAC %s is used by %s", mac, table.concat(t,
		" and by "))
end

-- all() -> list of messages, one per shared MAC, sorted.
function M.all()
	local out = {}
	for mac, list in pairs(owners()) do
		if #list > 1 then out[#out + 1] = text(mac, list) end
	end
	table.sort(out)
	return out
end

-- of(cfg) -> the messages for the MACs cfg shares with another VM
-- (cfg may be an edited copy not yet saved).
function M.of(cfg)
	local out = {}
	for mac, list in pairs(owners(cfg)) do
		local mine = false
		for _, o in ipairs(list) do mine = mine or o.vm == cfg.name end
		if #list > 1 and mine then out[#out + 1] = text(mac, list) end
	end
	table.sort(out)
	return out
end

return M
