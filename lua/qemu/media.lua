-- qemu/media.lua: the QEMU options of an installer ISO, its boot order,
-- the VNC display and the cloud-init seed; and which kind of seed this
-- host builds (an ISO9660 image with makefs on NetBSD, else a directory
-- QEMU's vvfat presents as a FAT disk).
local core = require "nvq.core"

local M = {}

local function esc(s)
	return (s:gsub(",", ",,"))
end

local MAKEFS = "/usr/sbin/makefs"

-- "iso" where NetBSD's base makefs(8) can write an ISO9660 image (the
-- format most guests' cloud-init reads), else "vvfat" (QEMU alone).
function M.seed_route()
	if core.uname().sysname == "NetBSD" and core.access(MAKEFS, "x") then
		return "iso", MAKEFS
	end
	return "vvfat"
end

-- Where a VM's seed lives: { route, dir = VM_DIR/name, path = the
-- directory (vvfat) or image (iso) QEMU reads, stamp }.
function M.seed_place(cfg)
	local route, tool = M.seed_route()
	local dir = cfg.VM_DIR .. "/" .. cfg.name
	return { route = route, tool = tool, dir = dir,
		path = dir .. (route == "iso" and "/cidata.iso" or "/cidata"),
		stamp = dir .. "/cidata.stamp" }
end

-- A CD-ROM on the machine's IDE bus: -boot's d is the first of them.
local function cdrom(add, id, file)
	add("-drive", "if=none,id=" .. id .. ",media=cdrom,readonly=on," ..
		"format=raw,file=" .. esc(file))
	add("-device", "ide-cd,drive=" .. id)
end

-- The -vnc value: a socket in the run directory or ADDR:DISPLAY; with a
-- password file, password=on (QEMU then refuses every client until
-- set_password has given it one over QMP, after start).
function M.vnc_value(cfg, rt)
	local v = cfg.VNC
	local s
	if v.kind == "unix" then
		s = "unix:" .. esc(rt.vnc)
	else
		local host = v.v6 and "[" .. v.host .. "]" or v.host
		s = host .. ":" .. v.display
	end
	if cfg.VNC_PASSWORD_FILE ~= "" then s = s .. ",password=on" end
	return s
end

-- Where a VNC display listens, for people: "unix socket PATH" or
-- "ADDR:PORT"; nil without one.
function M.vnc_where(cfg, rt)
	local v = cfg.VNC
	if not v then return nil end
	if v.kind == "unix" then return rt.vnc end
	return (v.v6 and "[" .. v.host .. "]" or v.host) .. ":" .. v.port
end

-- add(...) appends words to the argv being built.
function M.options(cfg, rt, add)
	if cfg.ISO ~= "" then
		cdrom(add, "cd0", cfg.ISO)
		-- once: the installer's reboot then comes up from disk.
		if cfg.ISO_BOOT == "once" then
			add("-boot", "once=d")
		elseif cfg.ISO_BOOT == "always" then
			add("-boot", "order=dc")
		end
	end
	if cfg.CLOUD_INIT then
		local seed = M.seed_place(cfg)
		if seed.route == "iso" then
			cdrom(add, "cidata", seed.path)
		else
			add("-drive", "if=none,id=cidata,format=raw,readonly=on," ..
				"file.driver=vvfat,file.dir=" .. esc(seed.path) ..
				",file.label=cidata")
			add("-device", "virtio-blk-pci,drive=cidata")
		end
	end
	if cfg.VNC then add("-vnc", M.vnc_value(cfg, rt)) end
end

return M
