-- disk/undo.lua: what a command made, so that a failure removes exactly
-- that and nothing else (create, clone and disk add are all-or-nothing).
local M = {}

local U = {}
U.__index = U

function M.new() return setmetatable({ made = {} }, U) end

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
