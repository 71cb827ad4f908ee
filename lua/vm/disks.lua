-- vm/disks.lua: a VM's disks after create: one grown (qemu-img resize
-- when stopped, QMP block_resize on its drive when running), one added
-- (made in VM_DIR/VM, then listed in DISKS of the VM's file, every other
-- byte of the file kept).
local config = require "conf.load"
local core = require "nvq.core"
local edit = require "conf.edit"
local img = require "disk.img"
local make = require "disk.make"
local size = require "disk.size"
local undo = require "disk.undo"
local util = require "base.util"
local vm = require "vm.handle"

local M = {}

-- The disk that which names: its path as DISKS lists it, its file name,
-- or hdN (QEMU's drive id): disk, index | nil, message.
function M.find(cfg, which)
	local hd = tonumber(tostring(which):match("^hd(%d+)$"))
	for i, d in ipairs(cfg.disks) do
		if d.path == which or d.path:match("([^/]+)$") == which or
		    hd == i - 1 then
			return d, i
		end
	end
	return nil, string.format("%s has no disk %s (DISKS lists: %s)",
		cfg.name, tostring(which), #cfg.disks == 0 and "none" or
		table.concat((function()
			local l = {}
			for _, d in ipairs(cfg.disks) do l[#l + 1] = d.path end
			return l
		end)(), ", "))
end

-- resize(v, which, bytes) -> "live" | "stopped" | nil, message.  Grows
-- only: shrinking a disk loses what the guest wrote at its end.
function M.resize(v, which, bytes)
	local d, i = M.find(v.cfg, which)
	if not d then return nil, i end
	if d.readonly then return nil, d.path .. " is read-only (:ro)" end
	local st = core.stat(d.path)
	if not st or st.type ~= "file" then
		return nil, d.path .. ": only an image file can be resized"
	end
	local pid, why = v:alive()
	if not pid and not vm.stopped(why) then return nil, why end
	local info, err = img.info(d.path, d.format, pid ~= nil)
	if not info then return nil, err end
	local now = info["virtual-size"]
	if type(now) == "number" and bytes < now then
		return nil, string.format("%s is %s: a disk is only grown (%s " ..
			"would cut off its end)", d.path, size.human(now),
			size.human(bytes))
	end
	if pid then
		local r, qerr = v:qmp_call("block_resize", { device = "hd" .. (i - 1),
			size = bytes }, core.now() + 30)
		if r == nil then return nil, "block_resize: " .. tostring(qerr) end
		return "live"
	end
	local ok, rerr = img.resize(d.path, d.format, bytes)
	if not ok then return nil, rerr end
	return "stopped"
end

-- add(name, bytes, fmt) -> path | nil, message.  The new image and the
-- edited file, or neither.
function M.add(name, bytes, fmt)
	local cfg, err = config.load(name, "check")
	if not cfg then return nil, err end
	local src, rerr = util.read_file(cfg.file)
	if not src then return nil, rerr end
	local u = undo.new()
	local dir, derr = make.vmdir(name, u)
	if not dir then
		u:rollback()
		return nil, derr
	end
	local taken, list = {}, {}
	for _, d in ipairs(cfg.disks) do
		taken[d.path] = true
		list[#list + 1] = d.text
	end
	local path = make.free_name(dir, fmt, #cfg.disks, taken)
	list[#list + 1] = path .. ":" .. fmt
	local text, why = edit.add_entry(src, cfg.file, "DISKS",
		list[#list], list)
	if text then text, why = edit.settle(text, name, cfg.file) end
	local ok = text ~= nil
	if ok then ok, why = make.new(path, fmt, bytes, u) end
	if ok then
		local st = core.stat(cfg.file)
		ok, why = util.write_file_atomic(cfg.file, text,
			st and string.format("%04o", st.mode & 4095))
	end
	if not ok then
		u:rollback()
		return nil, why
	end
	u:commit()
	return path
end

return M
