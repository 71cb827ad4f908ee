-- disk/snap.lua: snapshots of a stopped VM's disks, with qemu-img
-- snapshot on each qcow2 disk.  One snapshot spans every disk QEMU
-- writes to: all of them get it, or none.
local img = require "disk.img"

local M = {}

-- Not a number: QEMU takes a number for a snapshot's id, not its name.
function M.valid_name(s)
	return type(s) == "string" and #s >= 1 and #s <= 64 and
		not s:find("[^%w_.-]") and not s:find("^%d+$") and
		s:sub(1, 1) ~= "-"
end

-- The disks a snapshot covers: every disk QEMU may write to (a
-- read-only one cannot change, and QEMU's savevm skips it too).  A
-- writable raw disk cannot hold one: nil, message naming it.
function M.disks(cfg)
	local out = {}
	for _, d in ipairs(cfg.disks) do
		if not d.readonly then
			if d.format ~= "qcow2" then
				return nil, string.format("disk %s is %s: snapshots need " ..
					"qcow2 disks (or the disk read-only, :ro)", d.path,
					d.format)
			end
			out[#out + 1] = d
		end
	end
	if #out == 0 then return nil, cfg.name .. " has no disk to snapshot" end
	return out
end

-- The snapshots of one image: { name = { name, date, vm_state_size,
-- vm_clock } } from qemu-img info (or QMP's query-block image).
function M.of_info(info)
	local out = {}
	for _, s in ipairs(type(info) == "table" and info.snapshots or {}) do
		if type(s) == "table" and type(s.name) == "string" then
			out[s.name] = { name = s.name, date = s["date-sec"],
				vm_state_size = s["vm-state-size"],
				vm_clock = s["vm-clock-sec"] }
		end
	end
	return out
end

-- Per disk path, its snapshots by name.  share: -U (QEMU holds them).
function M.list(disks, share)
	local out = {}
	for _, d in ipairs(disks) do
		local info, err = img.info(d.path, d.format, share)
		if not info then return nil, err end
		out[d.path] = M.of_info(info)
	end
	return out
end

-- One snapshot per name across disks: { name, date, vm_state_size,
-- vm_clock, disks = {paths} }, sorted by date then name.
function M.merge(disks, per)
	local by, order = {}, {}
	for _, d in ipairs(disks) do
		for n, s in pairs(per[d.path] or {}) do
			if not by[n] then
				by[n] = { name = n, date = s.date, vm_clock = s.vm_clock,
					vm_state_size = s.vm_state_size, disks = {} }
				order[#order + 1] = by[n]
			end
			local b = by[n]
			b.disks[#b.disks + 1] = d.path
			if (s.vm_state_size or 0) > (b.vm_state_size or 0) then
				b.vm_state_size = s.vm_state_size
			end
		end
	end
	table.sort(order, function(a, b)
		if (a.date or 0) ~= (b.date or 0) then
			return (a.date or 0) < (b.date or 0)
		end
		return a.name < b.name
	end)
	return order
end

local function has(per, disks, name)
	local n = 0
	for _, d in ipairs(disks) do
		if per[d.path][name] then n = n + 1 end
	end
	return n
end

-- op: "create", "revert", "delete"; true | nil, message.
function M.apply(disks, op, name)
	local per, err = M.list(disks)
	if not per then return nil, err end
	local n = has(per, disks, name)
	if op == "create" and n > 0 then
		return nil, "a snapshot named " .. name .. " exists"
	elseif op == "revert" and n < #disks then
		return nil, n == 0 and "no snapshot named " .. name or
			"snapshot " .. name .. " is not on every disk"
	elseif op == "delete" and n == 0 then
		return nil, "no snapshot named " .. name
	end
	local flag = ({ create = "-c", revert = "-a", delete = "-d" })[op]
	local done = {}
	for _, d in ipairs(disks) do
		if op ~= "delete" or per[d.path][name] then
			local ok, serr = img.snapshot(flag, d.path, name)
			if not ok then
				-- A snapshot on some disks only is no snapshot.
				for _, p in ipairs(op == "create" and done or {}) do
					img.snapshot("-d", p, name)
				end
				return nil, serr
			end
			done[#done + 1] = d.path
		end
	end
	return true
end

return M
