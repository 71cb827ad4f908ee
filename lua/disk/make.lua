-- disk/make.lua: a VM's directory in VM_DIR and the images in it, each
-- made without ever overwriting a file: the name is claimed first (a
-- hard link, which fails if it exists), then qemu-img fills it in.
local core = require "nvq.core"
local config = require "conf.load"
local img = require "disk.img"
local util = require "base.util"

local M = {}

local EXT = { raw = ".img", qcow2 = ".qcow2" }

-- VM_DIR/name, made (0700: disks hold the guests' data) with whatever
-- parent is missing; each directory made goes into undo.
function M.vmdir(name, undo)
	local dir, err = config.vm_dir(name)
	if not dir then return nil, err end
	local p = ""
	for part in dir:gmatch("[^/]+") do
		p = p .. "/" .. part
		local st = core.stat(p)
		if not st then
			local ok, merr = core.mkdir(p, p == dir and "0700" or "0755")
			if not ok then return nil, merr end
			undo:add(p)
		elseif st.type ~= "dir" then
			return nil, p .. ": not a directory"
		end
	end
	return dir
end

-- Claims path for us: nil, message when it exists.
local function claim(path, undo)
	local go, why = undo:go_on()
	if not go then return nil, why end
	if path:find(":", 1, true) then
		return nil, path .. ": a disk path in DISKS cannot hold ':'"
	end
	local ok, err = util.write_file_new(path, "", "0600")
	if not ok then
		if core.stat(path, true) then return nil, path .. ": file exists" end
		return nil, err
	end
	undo:add(path)
	return path
end

-- The first diskN name free in dir for fmt, N from first, none of
-- taken (the paths a config already lists).
function M.free_name(dir, fmt, first, taken)
	local n = first or 0
	while true do
		local p = dir .. "/disk" .. n .. EXT[fmt]
		if not core.stat(p, true) and not (taken and taken[p]) then
			return p, n
		end
		n = n + 1
	end
end

-- A new, empty image: { path, format, size }.
function M.new(path, fmt, bytes, undo)
	local ok, err = claim(path, undo)
	if not ok then return nil, err end
	ok, err = img.create(path, fmt, bytes)
	if ok then ok, err = undo:go_on() end
	if not ok then return nil, err end
	return { path = path, format = fmt, size = bytes }
end

-- The format of an existing image, as qemu-img reads it.
function M.format_of(path)
	local info, err = img.info(path)
	if not info then return nil, err end
	if type(info.format) ~= "string" then
		return nil, path .. ": qemu-img cannot tell its format"
	end
	return info.format
end

-- A copy of image (format sfmt) at path: raw stays raw, any other
-- format becomes qcow2.  progress: qemu-img convert -p.
function M.copy(image, sfmt, path, undo, progress)
	local ok, err = claim(path, undo)
	if not ok then return nil, err end
	local dfmt = sfmt == "raw" and "raw" or "qcow2"
	ok, err = img.convert(image, sfmt, path, dfmt, progress)
	if ok then ok, err = undo:go_on() end
	if not ok then return nil, err end
	return { path = path, format = dfmt, from = image }
end

-- A qcow2 overlay at path on image (format bfmt): reads go to image,
-- writes stay in the overlay.
function M.overlay(image, bfmt, path, undo)
	local ok, err = claim(path, undo)
	if not ok then return nil, err end
	ok, err = img.overlay(path, image, bfmt)
	if ok then ok, err = undo:go_on() end
	if not ok then return nil, err end
	return { path = path, format = "qcow2", backing = image }
end

M.EXT = EXT

return M
