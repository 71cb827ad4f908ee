-- vm/cloner.lua: a new VM from an existing one: its config with new disk
-- paths and no MAC written for a NIC (the new name derives new ones),
-- and its disks copied (qemu-img convert) or overlaid (qcow2 backed by
-- SRC's disk).  All or nothing, as create.
local config = require "conf.load"
local core = require "nvq.core"
local edit = require "conf.edit"
local make = require "disk.make"
local nic = require "net.nic"
local paths = require "base.paths"
local undo = require "disk.undo"
local util = require "base.util"
local vm = require "vm.handle"

local M = {}

-- A running SRC may be cloned only when QEMU opened every disk
-- read-only: a copy of a disk being written is not a disk.
local function check_running(v)
	local pid, why = v:alive()
	if not pid and not vm.stopped(why) then return nil, why end
	if not pid then return true end
	for _, d in ipairs(v.cfg.disks) do
		if not d.readonly then
			return nil, string.format("%s is running and may write to %s; " ..
				"stop it first (a clone of a running VM needs every disk " ..
				"read-only, :ro in DISKS)", v.name, d.path)
		end
	end
	return true
end

-- Where each of SRC's disks goes in dir: its own file name, unless two
-- have the same one.
local function targets(cfg, dir, linked)
	local out, used = {}, {}
	for i, d in ipairs(cfg.disks) do
		local fmt = linked and "qcow2" or d.format
		local base = d.path:match("([^/]+)$")
		if linked then base = base:gsub("%.[^.]*$", "") .. ".qcow2" end
		if used[base] or base:find(":", 1, true) then
			base = "disk" .. (i - 1) .. make.EXT[fmt]
		end
		used[base] = true
		out[i] = { path = dir .. "/" .. base, format = fmt, src = d }
	end
	return out
end

-- A DISKS entry for t, with SRC's cache mode but writable: DST's disks
-- are its own (SRC's read-only disks are what lets a running template
-- be cloned).
local function entry(t)
	return t.path .. ":" .. t.format ..
		(t.src.cache and ":" .. t.src.cache or "")
end

-- SRC's NETWORK lines without the MACs written in them; the notes say
-- what the two VMs still share (a tap, a forwarded host port).
local function networks(cfg, notes)
	local list, dropped = {}, false
	for l in (cfg.NETWORK .. "\n"):gmatch("([^\n]*)\n") do
		local t = l:match("^%s*(.-)%s*$")
		if t ~= "" then
			local n = nic.parse(t)
			if n and n.mac then
				t = t:sub(1, #t - #n.mac - 1)
				dropped = true
			end
			if n and n.kind == "tap" then
				notes[#notes + 1] = string.format("tap %s is in both " ..
					"configs: only one of them can run", n.tap)
			elseif n and n.fwds and #n.fwds > 0 then
				notes[#notes + 1] = string.format("%s forwards the same " ..
					"host ports: only one of them can run", t)
			end
			list[#list + 1] = t
		end
	end
	return list, dropped
end

-- The new config's text, made from SRC's file.
local function text_of(cfg, dst, file, disks, notes)
	local src = assert(util.read_file(cfg.file))
	local list = {}
	for _, t in ipairs(disks) do list[#list + 1] = entry(t) end
	local text, err = edit.set(src, file, "DISKS", edit.list(list))
	if not text then return nil, err end
	local nets, dropped = networks(cfg, notes)
	if dropped then
		notes[#notes + 1] = "the MACs written in NETWORK were dropped: " ..
			dst .. " derives its own"
		text, err = edit.set(text, file, "NETWORK", edit.list(nets))
	end
	return text, err
end

-- clone(src, dst, {linked, progress}) -> { config, vm_dir, disks, notes }
-- | nil, message[, "usage"].
function M.clone(src, dst, o)
	local ok, why = config.check_name(dst)
	if not ok then return nil, why, "usage" end
	local cfg, err = config.load(src, "check")
	if not cfg then return nil, err end
	local v = vm.open(src, cfg)
	-- Held to the end: SRC cannot be started while its disks are read.
	ok, err = v:lock()
	if ok then ok, err = check_running(v) end
	if not ok then return nil, err end
	local file = paths.vmconf(dst)
	if core.stat(file) then
		return nil, string.format("VM %s already exists (%s)", dst, file)
	end
	local dir, derr = config.vm_dir(dst)
	if not dir then return nil, derr end
	local disks, notes = targets(cfg, dir, o.linked), {}
	for _, t in ipairs(disks) do
		if t.src.readonly then
			notes[#notes + 1] = string.format("%s is writable in %s " ..
				"(%s in %s)", t.path, dst, t.src.path .. " is read-only", src)
		end
	end
	local text, terr = text_of(cfg, dst, file, disks, notes)
	if not text then return nil, terr end
	local cerr
	text, cerr = edit.settle(text, dst, file)
	if not text then return nil, cerr end
	local u = undo.new()
	ok, err = M.make(dst, disks, o, u)
	if ok then ok, err = u:go_on() end
	if ok then ok, err = util.write_file_new(file, text) end
	if not ok then
		u:rollback()
		return nil, err
	end
	u:commit()
	return { config = file, vm_dir = #disks > 0 and dir or nil,
		disks = disks, notes = notes }
end

function M.make(dst, disks, o, u)
	if #disks == 0 then return true end
	local dir, err = make.vmdir(dst, u)
	if not dir then return nil, err end
	for _, t in ipairs(disks) do
		local s = core.realpath(t.src.path) or t.src.path
		local ok, merr
		if o.linked then
			ok, merr = make.overlay(s, t.src.format, t.path, u)
			t.backing = s
		else
			ok, merr = make.copy(s, t.src.format, t.path, u, o.progress)
			t.from = s
		end
		if not ok then return nil, merr end
	end
	return true
end

return M
