-- vm/saver.lua: save a running VM's state to VM_DIR/NAME and stop it, as
-- libvirt's managedsave does: pause, migrate to a descriptor QEMU writes
-- itself (QMP getfd: no pipe, no cat), sync, quit.
local core = require "nvq.core"
local config = require "conf.load"
local force = require "vm.force"
local hooks = require "ulua.phases"
local poststop = require "vm.poststop"
local qemuargv = require "qemu.argv"
local savefile = require "vm.savefile"
local util = require "base.util"

local M = {}

local QMP_WAIT = 5		-- seconds for one QMP step of a save
local POLL = 0.1		-- seconds between two looks at the migration
local MARGIN = 64 * 1048576	-- bytes of room beyond the guest's RAM
local FDNAME = "nvqsave"

-- Whether QEMU would refuse to migrate, asked before anything is
-- paused: nil when it would not, else the reason (QEMU's words, such as
-- "NVMM: Migration not supported").  QEMU 6.0+ lists its blockers in
-- query-migrate's blocked-reasons.
function M.blocker(v, deadline)
	deadline = deadline or core.now() + QMP_WAIT
	if v:accel() == "nvmm" then return "NVMM: Migration not supported" end
	local st, r = savefile.settle(v, math.max(0, deadline - core.now()))
	if not st then return "QMP does not answer" end
	local reasons = r["blocked-reasons"]
	if type(reasons) == "table" and #reasons > 0 then
		return table.concat(reasons, "; ")
	end
	if st ~= "none" and st ~= "completed" and st ~= "failed" and
	    st ~= "cancelled" then
		return "a migration is under way (" .. st .. ")"
	end
end

-- Room for the state: RAM plus a margin, on the file system of dir.
local function room(v, dir)
	local need = v.cfg.MEMORY * 1048576 + MARGIN
	local fs, why = core.statvfs(dir)
	if not fs then return nil, why end
	if fs.avail < need then
		return nil, string.format("%s: not enough room in %s for the " ..
			"saved state: %s free, %s needed (RAM and a margin); free " ..
			"some, or set VM_DIR elsewhere", v.name, dir,
			util.fmt_bytes(fs.avail), util.fmt_bytes(need))
	end
	return true
end

-- What the save has written so far, on a terminal.
local function progress(v, r, fd, t0, tty)
	if not tty then return end
	local ram = type(r.ram) == "table" and r.ram or {}
	local total, left = tonumber(ram.total), tonumber(ram.remaining)
	local pct = total and total > 0 and left and
		math.floor(100 * (total - left) / total) or 0
	local st = core.fstat(fd)
	local dt = math.max(core.now() - t0, 1e-3)
	io.stderr:write(string.format("\r%s: saving: %3d%% %7.1f MB/s", v.name,
		pct, st and st.size / dt / 1e6 or 0))
	io.stderr:flush()
end

-- Waits for QEMU's migration to end: "completed" | nil, why.
local function wait_migration(v, fd, t0, deadline)
	local tty = core.isatty(2)
	while true do
		local r = v:qmp_call("query-migrate", nil,
			math.min(deadline, core.now() + QMP_WAIT))
		local st = type(r) == "table" and r.status
		if st == "completed" then
			if tty then io.stderr:write("\n") end
			return st
		elseif st == "failed" or st == "cancelled" then
			if tty then io.stderr:write("\n") end
			return nil, "the migration " .. st ..
				(r["error-desc"] and ": " .. r["error-desc"] or "")
		end
		if st then progress(v, r, fd, t0, tty) end
		if core.now() >= deadline then
			if tty then io.stderr:write("\n") end
			return nil, "the save did not complete in time"
		end
		core.sleep(math.min(POLL, math.max(0, deadline - core.now())))
	end
end

-- The guest runs again after a save that failed once it was paused.
local function undo(v, f, fd, was_running)
	v:qmp_call("migrate_cancel", nil, core.now() + QMP_WAIT)
	savefile.settle(v, QMP_WAIT)
	if was_running then v:qmp_call("cont", nil, core.now() + QMP_WAIT) end
	if fd then core.fdclose(fd) end
	os.remove(f.part)
end

-- Pauses the guest and streams its state into the part file: fd,
-- whether it was running | nil, why.  Undone on any failure.
local function stream(v, f, deadline)
	local st = v:qmp_call("query-status", nil, core.now() + QMP_WAIT)
	local was_running = type(st) == "table" and st.running == true
	os.remove(f.part)
	local fd, ferr = core.createfile(f.part, "600")
	if not fd then return nil, ferr end
	local c, cerr = v:qmp(core.now() + QMP_WAIT)
	if not c then
		undo(v, f, fd, false)
		return nil, cerr
	end
	-- Test-only: NVQCTL_SAVE_BANDWIDTH (bytes/s) slows a save down so a
	-- test can interrupt it; a real save is never throttled.
	local bw = math.tointeger(tonumber(os.getenv("NVQCTL_SAVE_BANDWIDTH")
		or "")) or 1 << 40
	local steps = {
		{ "migrate-set-parameters", { ["max-bandwidth"] = bw } },
		{ "stop" },
		{ "getfd", { fdname = FDNAME }, fd },
		{ "migrate", { uri = "fd:" .. FDNAME } },
	}
	for _, s in ipairs(steps) do
		local ok, why = c:call(s[1], s[2], math.min(deadline,
			core.now() + QMP_WAIT), s[3])
		if ok == nil then
			c:close()
			undo(v, f, fd, was_running)
			return nil, string.format("QEMU refused %s: %s", s[1],
				tostring(why))
		end
	end
	c:close()
	return fd, was_running
end

-- The state's sidecar, once QEMU has exited: its disks as they are now.
local function meta_of(v, cfg, version, was_running, size)
	local argv = savefile.stable_argv(qemuargv.build(cfg))
	return { qemu = version, argv = argv, argv_hash = savefile.hash(argv),
		disks = savefile.disks(cfg), running = was_running, size = size,
		memory = cfg.MEMORY, saved_at = core.time() }
end

local function qemu_version(v)
	local r = v:qmp_call("query-version", nil, core.now() + QMP_WAIT)
	local q = type(r) == "table" and type(r.qemu) == "table" and r.qemu
	if not q then return nil end
	return string.format("%s.%s.%s%s", q.major, q.minor, q.micro,
		r.package and r.package ~= "" and " " .. r.package or "")
end

-- Ends QEMU once its state is on disk: true | nil, why.
local function quit(v)
	local ok = v:quit(core.now() + QMP_WAIT)
	if ok and v:wait_exit(core.now() + QMP_WAIT) then return true end
	local rung, why = force.force(v, core.now())
	if not rung then return nil, why end
	return true
end

-- save(v, opt) -> size in bytes | nil, why.  The caller holds the
-- lock.  opt: context, deadline (absolute: a stopall's).
function M.save(v, opt)
	opt = opt or {}
	local ctx = opt.context or "manual"
	local t0 = core.now()
	local pid, why = v:alive()
	if not pid then return nil, why or v.name .. " is not running" end
	local f, ferr = savefile.files(v.name)
	if not f then return nil, ferr end
	local blocked = M.blocker(v)
	if blocked then
		return nil, string.format("%s: QEMU cannot save this VM: %s",
			v.name, blocked)
	end
	local made, merr = savefile.make_dir(f)
	if not made then return nil, v.name .. ": " .. merr end
	local ok, rwhy = room(v, f.dir)
	if not ok then return nil, rwhy end
	local hok, hwhy, kind = hooks.run(v, "pre_stop", { context = ctx,
		reason = "saved", deadline = opt.deadline })
	if not hok then
		if kind == "veto" and ctx == "manual" then
			return nil, string.format("%s: not saving: %s", v.name, hwhy)
		end
		util.warn("%s: pre_stop: %s; saving all the same", v.name, hwhy)
	end
	-- The config QEMU runs with (the file may have been edited since).
	local cfg = config.load_started(v.name, v.rt) or v.cfg
	local version = qemu_version(v)
	local deadline = opt.deadline or
		t0 + 120 + v.cfg.MEMORY / 16
	local fd, was_running = stream(v, f, deadline)
	if not fd then return nil, v.name .. ": " .. was_running end
	local done, werr = wait_migration(v, fd, t0, deadline)
	local synced, serr = done and core.fsync(fd)
	if not synced then
		undo(v, f, fd, was_running)
		return nil, string.format("%s: save failed, the guest runs on: %s",
			v.name, werr or serr)
	end
	local size = core.fstat(fd).size
	core.fdclose(fd)
	ok, why = quit(v)
	if not ok then return nil, v.name .. ": " .. why end
	ok, why = savefile.write_meta(f, meta_of(v, cfg, version, was_running,
		size))
	if ok then ok, why = os.rename(f.part, f.state) end
	if not ok then
		os.remove(f.part)
		return nil, string.format("%s: QEMU has ended but its state " ..
			"could not be kept: %s", v.name, why)
	end
	local dfd = core.openfile(f.dir)
	if dfd then
		core.fsync(dfd)
		core.fdclose(dfd)
	end
	poststop.fire(v, "saved", { context = ctx, deadline = opt.deadline })
	v:clear_stale()
	v:log("saved (%s) after %.2fs", util.fmt_bytes(size), core.now() - t0)
	return size
end

return M
