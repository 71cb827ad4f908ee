-- disk/undo.lua: what a command made, so that a failure removes exactly
-- that and nothing else (create, clone and disk add are all-or-nothing).
local core = require "nvq.core"

local M = {}

local U = {}
U.__index = U

-- From now on ^C, TERM and HUP only set a flag (a qemu-img on the
-- terminal still gets ^C and fails): the command removes what it made
-- and ends, instead of dying with half a VM on disk.
function M.new()
	core.catch_signals({ "INT", "TERM", "HUP" })
	return setmetatable({ made = {} }, U)
end

-- nil, "interrupted" once a signal came; else true.
function U:go_on()
	local sig = core.caught()
	if sig then return nil, "interrupted by SIG" .. sig end
	return true
end

-- path was made by us (a file, or a directory that was not there).
function U:add(path) self.made[#self.made + 1] = path end

-- Removes what was made, newest first: files, then their directory
-- (remove(3) takes an empty directory, and leaves one that is not).
function U:rollback()
	for i = #self.made, 1, -1 do os.remove(self.made[i]) end
	self.made = {}
end

-- Keeps everything: the command succeeded.
function U:commit() self.made = {} end

return M
