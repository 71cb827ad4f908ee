-- vm/snapshots.lua: a VM's snapshots, whether it runs or not.  Stopped:
-- qemu-img on each qcow2 disk (disk/snap).  Running: QEMU's savevm,
-- loadvm and delvm (the guest's memory and devices too), through QMP's
-- human-monitor-command, which waits for the job to finish.  savevm
-- honours migration blockers, and NVMM registers one: such a VM is
-- snapshotted stopped.
local core = require "nvq.core"
local snap = require "disk.snap"
local vm = require "vm.handle"

local M = {}

local LIVE = 600	-- seconds savevm/loadvm may take (the guest's RAM)
local HMP = { create = "savevm", revert = "loadvm", delete = "delvm" }

-- NVMM's blocker is "NVMM: Migration not supported"
-- (target/i386/nvmm/nvmm-all.c); a device may register one too.
local function stop_hint(accel, qemu_said)
	local why = (accel == "nvmm" or (qemu_said or ""):find("^NVMM")) and
		"with accelerator " .. accel or "in this VM"
	return string.format("live snapshots are not possible %s%s; stop " ..
		"the VM and snapshot it stopped", why, qemu_said and
		" (QEMU: " .. qemu_said .. ")" or "")
end

-- QMP's view of the disks' snapshots: per path, by name.
local function live_list(v, disks)
	local r, err = v:qmp_call("query-block", nil, core.now() + 10)
	if not r then return nil, err end
	local per = {}
	for _, d in ipairs(disks) do per[d.path] = {} end
	for i, d in ipairs(v.cfg.disks) do
		for _, b in ipairs(r) do
			if type(b) == "table" and b.device == "hd" .. (i - 1) and
			    type(b.inserted) == "table" and per[d.path] then
				per[d.path] = snap.of_info(b.inserted.image)
			end
		end
	end
	return per
end

-- The disks a snapshot covers and whether the VM runs.
local function prepare(v)
	local disks, err = snap.disks(v.cfg)
	if not disks then return nil, err end
	local pid, why = v:alive()
	if not pid and not vm.stopped(why) then return nil, why end
	return disks, pid ~= nil
end

-- list(v) -> { snapshot... } (disk/snap.merge's) | nil, message.
function M.list(v)
	local disks, live = prepare(v)
	if not disks then return nil, live end
	local per, err
	if live then per, err = live_list(v, disks)
	else per, err = snap.list(disks) end
	if not per then return nil, err end
	return snap.merge(disks, per)
end

local function live(v, disks, op, name)
	local accel = v:accel()
	if op ~= "delete" and accel == "nvmm" then
		return nil, stop_hint(accel)
	end
	local per, err = live_list(v, disks)
	if not per then return nil, err end
	local n = 0
	for _, d in ipairs(disks) do
		if per[d.path][name] then n = n + 1 end
	end
	if op == "create" and n > 0 then
		return nil, "a snapshot named " .. name .. " exists"
	elseif op ~= "create" and n == 0 then
		return nil, "no snapshot named " .. name
	end
	local r, cerr = v:qmp_call("human-monitor-command",
		{ ["command-line"] = HMP[op] .. " " .. name }, core.now() + LIVE)
	if r == nil then return nil, cerr end
	local said = type(r) == "string" and r:gsub("%s+$", "") or ""
	if said == "" then return true end
	said = said:gsub("^Error: ", "")
	-- A migration blocker (NVMM's, or a device's) refuses savevm.
	if said:find("[Mm]igration") or said:find("blocker") then
		return nil, stop_hint(accel, said)
	end
	return nil, HMP[op] .. ": " .. said
end

-- apply(v, op, name): op "create" | "revert" | "delete"; true, "live"
-- or "stopped" | nil, message.  The caller holds the VM's lock.
function M.apply(v, op, name)
	if not snap.valid_name(name) then
		return nil, string.format("'%s' is not a snapshot name (letters, " ..
			"digits, '_', '.' and '-', not a number)", tostring(name)),
			"usage"
	end
	local disks, running = prepare(v)
	if not disks then return nil, running end
	if running then
		local ok, err = live(v, disks, op, name)
		if not ok then return nil, err end
		return true, "live"
	end
	local ok, err = snap.apply(disks, op, name)
	if not ok then return nil, err end
	return true, "stopped"
end

return M
