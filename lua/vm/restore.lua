-- vm/restore.lua: start a saved VM from its state: QEMU runs with the
-- same argv plus -incoming defer, is handed the state file's descriptor
-- (getfd: QEMU reads it itself), loads it, and the guest goes on where
-- it stopped.  The state goes only once the guest runs.
local core = require "nvq.core"
local savefile = require "vm.savefile"

local M = {}

local QMP_WAIT = 5	-- seconds for one QMP step
local POLL = 0.02	-- seconds between two looks at the migration
local FDNAME = "nvqrestore"

-- The saved state start must restore: files, sidecar | nil.
function M.pending(v)
	local f = savefile.files(v.name)
	local m = f and savefile.meta(f)
	if m then return f, m end
end

-- Before QEMU runs: nil when argv (as start builds it) and the disks
-- match the save, else why not and the fix.
function M.check(v, meta, argv)
	local why = savefile.mismatch(v.name, meta, argv, v.cfg)
	if why then
		return why .. "; the saved state is kept (start --fresh " ..
			"discards it and boots afresh)"
	end
end

local function version(v)
	local r = v:qmp_call("query-version", nil, core.now() + QMP_WAIT)
	local q = type(r) == "table" and type(r.qemu) == "table" and r.qemu
	if not q then return nil end
	return string.format("%s.%s.%s%s", q.major, q.minor, q.micro,
		r.package and r.package ~= "" and " " .. r.package or "")
end

-- Waits for the incoming migration: true | nil, why.
local function wait_loaded(v, deadline)
	while true do
		local r = v:qmp_call("query-migrate", nil,
			math.min(deadline, core.now() + QMP_WAIT))
		local st = type(r) == "table" and r.status
		if st == "completed" then return true end
		if st == "failed" or st == "cancelled" then
			return nil, "QEMU rejected the saved state" ..
				(r["error-desc"] and ": " .. r["error-desc"] or "")
		end
		if not v:alive() then
			return nil, "QEMU exited while loading the saved state"
		end
		if core.now() >= deadline then
			return nil, "the saved state did not load in time"
		end
		core.sleep(POLL)
	end
end

-- Once QEMU (-incoming defer) answers QMP: loads the state, resumes the
-- guest if it ran when saved, removes the state: true | nil, why (the
-- state kept; the caller ends QEMU).
function M.load(v, f, meta)
	local now = version(v)
	if meta.qemu and now and now ~= meta.qemu then
		return nil, string.format("the state was saved by QEMU %s, this " ..
			"is QEMU %s", meta.qemu, now)
	end
	local fd, ferr = core.openfile(f.state)
	if not fd then return nil, ferr end
	local c, cerr = v:qmp(core.now() + QMP_WAIT)
	if not c then
		core.fdclose(fd)
		return nil, cerr
	end
	local ok, why = c:call("getfd", { fdname = FDNAME },
		core.now() + QMP_WAIT, fd)
	core.fdclose(fd)
	if ok then
		ok, why = c:call("migrate-incoming", { uri = "fd:" .. FDNAME },
			core.now() + QMP_WAIT)
	end
	c:close()
	if not ok then return nil, "QEMU refused the state: " .. tostring(why) end
	local size = meta.size or 0
	ok, why = wait_loaded(v, core.now() + 60 + size / 20e6)
	if not ok then return nil, why end
	if meta.running ~= false then
		ok, why = v:qmp_call("cont", nil, core.now() + QMP_WAIT)
		if not ok then return nil, "cont: " .. tostring(why) end
	end
	savefile.discard(f)
	return true
end

return M
