-- cmd/disk.lua: nvqctl disk VM resize DISK SIZE | disk VM add SIZE[:FORMAT].
local arg = require "vm.arg"
local disks = require "vm.disks"
local size = require "disk.size"
local util = require "base.util"
local vm = require "vm.handle"

local M = {}

function M.run(pos)
	local name, op = pos[1], pos[2]
	if op == "resize" then
		if #pos ~= 4 then
			util.usage_error("disk: resize needs a disk and a size")
		end
		local bytes = util.check(size.parse(pos[4]))
		local v = util.check(arg.open(name, "list"))
		util.check(v:lock())
		local how = util.check(disks.resize(v, pos[3], bytes))
		util.printf("%s: %s is now %s (%s)\n", name, pos[3],
			size.human(bytes), how)
	elseif op == "add" then
		if #pos ~= 3 then util.usage_error("disk: add needs a size") end
		local bytes, fmt = util.check(size.spec(pos[3]))
		local v = vm.open(name, nil)
		util.check(v:lock())
		local path = util.check(disks.add(name, bytes, fmt))
		util.printf("%s: added %s (%s, %s)%s\n", name, path, fmt,
			size.human(bytes), v:alive() and
			"; the running guest sees it after a restart" or "")
	else
		util.usage_error("disk: unknown action %s (resize or add)",
			tostring(op))
	end
	return 0
end

return M
