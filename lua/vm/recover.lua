-- vm/recover.lua: a save cut off halfway (nvqctl killed) leaves the
-- guest paused in QEMU and a part file: the next command that looks at
-- the VM resumes the guest and removes the file.  A part file is never
-- restored.
local core = require "nvq.core"
local savefile = require "vm.savefile"
local util = require "base.util"

local M = {}

local QMP_WAIT = 5	-- seconds for one QMP step

-- recover(v): a save cut off (nvqctl killed) leaves the guest paused and
-- a part file.  Unless a command holding the lock may still be saving
-- it, the migration is cancelled, the guest runs on and the part file
-- goes: true when something was recovered.
function M.recover(v)
	local f = savefile.files(v.name)
	if not f or not core.stat(f.part) then return false end
	local lk = v.lk
	if not lk then
		lk = core.lock(v.rt.lock, core.now())
		if not lk then return false end	-- a save may be running
	end
	if not core.stat(f.part) then return false end
	local pid = v:alive()
	local resumed = false
	if pid then
		v:qmp_call("migrate_cancel", nil, core.now() + QMP_WAIT)
		local st = v:qmp_call("query-status", nil, core.now() + QMP_WAIT)
		local s = type(st) == "table" and st.status
		-- After the cancel the migration ends within a moment.
		local until_ = core.now() + QMP_WAIT
		while s == "finish-migrate" and core.now() < until_ do
			core.sleep(0.05)
			st = v:qmp_call("query-status", nil, core.now() + QMP_WAIT)
			s = type(st) == "table" and st.status
		end
		if s == "paused" or s == "postmigrate" or s == "finish-migrate" then
			resumed = v:qmp_call("cont", nil, core.now() + QMP_WAIT) ~= nil
		end
	end
	os.remove(f.part)
	util.warn("%s: an interrupted save was undone%s; its partial state " ..
		"file was removed", v.name, resumed and ", the guest runs again" or
		"")
	if lk ~= v.lk then lk:unlock() end
	return true
end

return M
