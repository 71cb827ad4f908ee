-- vm/recover.lua: a save cut off halfway (nvqctl killed) leaves the
-- guest paused in QEMU and a part file: the next command that looks at
-- the VM resumes the guest and removes the file.  A part file is never
-- restored.
local core = require "nvq.core"
local savefile = require "vm.savefile"
local util = require "base.util"

local M = {}

local QMP_WAIT = 5	-- seconds for one QMP step

-- QEMU gone: the save may have been cut off after the sidecar was
-- written (it is written only once the stream is complete, synced and
-- QEMU has ended) and before the rename: then it is complete.
local function complete(f)
	local ok, m = pcall(util.json().decode, util.read_file(f.meta) or "")
	local st = core.stat(f.part)
	return ok and type(m) == "table" and st ~= nil and m.size == st.size
		and os.rename(f.part, f.state) ~= nil
end

-- The guest paused by the save runs on: whether it does.
local function resume(v)
	v:qmp_call("migrate_cancel", nil, core.now() + QMP_WAIT)
	-- Until QEMU has let go of the stream: a save right after would
	-- be refused.
	savefile.settle(v, QMP_WAIT)
	local st = v:qmp_call("query-status", nil, core.now() + QMP_WAIT)
	local s = type(st) == "table" and st.status
	-- After the cancel the migration ends within a moment.
	local until_ = core.now() + QMP_WAIT
	while s == "finish-migrate" and core.now() < until_ do
		core.sleep(0.05)
		st = v:qmp_call("query-status", nil, core.now() + QMP_WAIT)
		s = type(st) == "table" and st.status
	end
	if s == "paused" or s == "postmigrate" then
		return v:qmp_call("cont", nil, core.now() + QMP_WAIT) ~= nil
	end
	return s == "running"
end

local function undo(v, f)
	if v:alive() then
		local resumed = resume(v)
		os.remove(f.part)
		util.warn("%s: an interrupted save was undone%s; its partial " ..
			"state file was removed", v.name, resumed and
			", the guest runs again" or "")
	elseif complete(f) then
		util.warn("%s: a save cut off after QEMU had ended was " ..
			"completed; start restores it", v.name)
	else
		os.remove(f.part)
		if not core.stat(f.state) then os.remove(f.meta) end
		util.warn("%s: a save was cut off after QEMU had ended and " ..
			"before its state was kept: the guest's memory is lost; its " ..
			"partial state file was removed", v.name)
	end
end

-- recover(v): a save cut off (nvqctl killed) leaves the guest paused and
-- a part file.  Unless a command holding the lock may still be saving
-- it, the migration is cancelled, the guest runs on and the part file
-- goes: true when something was recovered.
function M.recover(v)
	local f = savefile.files(v.name)
	if not f or not core.stat(f.part) then return false end
	local lk, why = v.lk, nil
	if not lk then lk, why = core.lock(v.rt.lock, core.now()) end
	-- Busy: a save may be running.  No run directory (a host that
	-- crashed mid-save, its run directory emptied at boot): no QEMU.
	if not lk and (why == "timeout" or core.stat(v.rt.dir)) then
		return false
	end
	local found = core.stat(f.part) ~= nil
	if found then undo(v, f) end
	if lk and lk ~= v.lk then lk:unlock() end
	return found
end

return M
