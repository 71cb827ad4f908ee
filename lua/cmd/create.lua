-- cmd/create.lua: writes a new VM config from the built-in example.
local config = require "conf.load"
local core = require "nvq.core"
local paths = require "base.paths"
local util = require "base.util"

local M = {}

-- mkdir -p: the config directory may not exist on a fresh install.
local function mkdirs(dir)
	local p = dir:sub(1, 1) == "/" and "" or "."
	for part in dir:gmatch("[^/]+") do
		p = p .. "/" .. part
		local st = core.stat(p)
		if not st then
			local ok, err = core.mkdir(p, "755")
			if not ok and not core.stat(p) then util.die("%s", err) end
		elseif st.type ~= "dir" then
			util.die("%s: not a directory", p)
		end
	end
end

-- The example's placeholder name is the word "example", never part of
-- another word (the example avoids "for example" for this reason).
function M.text(name)
	local text = require "core.example_conf"
	return (text:gsub("%f[%w_-]example%f[^%w_-]", name))
end

function M.run(pos)
	local name = pos[1]
	util.check(config.check_name(name))
	local path = paths.vmconf(name)
	if core.stat(path) then
		util.die("VM %s already exists (%s)", name, path)
	end
	mkdirs(paths.vmconfdir())
	local ok, err = util.write_file_new(path, M.text(name))
	if not ok and core.stat(path) then
		util.die("VM %s already exists (%s)", name, path)
	elseif not ok then
		util.die("%s", err)
	end
	util.printf("created %s\nedit it with: nvqctl config %s\n", path, name)
	return 0
end

return M
