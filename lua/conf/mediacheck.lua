-- conf/mediacheck.lua: the checks of the install-media, display and
-- cloud-init keys (ISO, ISO_BOOT, VNC, VNC_PASSWORD_FILE, CLOUD_INIT,
-- CLOUD_INIT_SSH_KEYS).  conf/load declares the keys and calls these
-- with its own helpers (h.bad, h.warn, h.entries, h.yesno).
local core = require "nvq.core"

local match, sub = string.match, string.sub

local M = {}

local IMAGE_TYPES = { file = true, block = true }

-- A file the VM needs at start: missing there is an error naming the
-- line; elsewhere (dryrun, config) a warning.
local function must_exist(h, raw, o, k, cfg, mode, what)
	local s = core.stat(raw)
	local why = not s and "does not exist" or
		not IMAGE_TYPES[s.type] and "is not a file or device"
	if why and mode == "start" then
		h.bad(o, k, "%s %s %s", what, raw, why)
	elseif why and mode ~= "list" then
		h.warn(cfg, o, k, "%s %s %s", what, raw, why)
	end
end

-- "" is none (every key has a value in cfg).
function M.iso(h, raw, o, k, cfg, mode)
	if raw == "" then return raw end
	if sub(raw, 1, 1) ~= "/" then
		h.warn(cfg, o, k, "relative ISO path %s depends on the directory " ..
			"nvqctl runs in", raw)
	end
	must_exist(h, raw, o, k, cfg, mode, "ISO image")
	return raw
end

function M.iso_boot(h, raw, o, k, cfg)
	for _, v in ipairs({ "once", "always", "no" }) do
		if raw == v then
			-- Only with an ISO: the key alone changes nothing.
			return cfg.ISO ~= "" and raw or "no"
		end
	end
	h.bad(o, k, "'%s' is not once, always or no", raw)
end

-- QEMU's -vnc names TCP ports as display numbers from 5900.
local VNC_BASE = 5900

-- no | yes | ADDR:PORT | [IPV6]:PORT -> false | { kind = "unix" } |
-- { kind = "tcp", host, port, display }.
function M.vnc(h, raw, o, k, cfg)
	local l = raw:lower()
	local v
	if l == "no" then
		v = false
	elseif l == "yes" then
		v = { kind = "unix" }
	else
		local host, port = match(raw, "^%[([%x:.]+)%]:(%d+)$")
		local v6 = host ~= nil
		if not host then host, port = match(raw, "^([%w_.-]+):(%d+)$") end
		if not host then
			h.bad(o, k, "'%s' is not no, yes or ADDR:PORT (such as " ..
				"127.0.0.1:5901 or [::1]:5901)", raw)
		end
		local p = tonumber(port)
		if p < VNC_BASE or p > 65535 then
			h.bad(o, k, "port %s is out of range (%d to 65535: QEMU " ..
				"counts VNC ports from %d)", port, VNC_BASE, VNC_BASE)
		end
		v = { kind = "tcp", host = host, port = p, v6 = v6,
			display = p - VNC_BASE }
	end
	-- Two VNC servers, one of them on TCP without a password, is what
	-- this key exists to avoid.
	if v and match(cfg.DISPLAY_OPT, "^vnc") then
		h.bad(o, k, "VNC=%s and DISPLAY_OPT=%s both ask for a VNC " ..
			"server: keep one (VNC, with DISPLAY_OPT=none)", raw,
			cfg.DISPLAY_OPT)
	end
	cfg.vnc_origin = o
	return v
end

-- Readable by its owner alone, who is root (or whoever runs nvqctl):
-- anyone else able to read it could log in to the display.
local function private(st)
	return st.mode & 0x3f == 0 and (st.uid == 0 or st.uid == core.geteuid())
end

function M.vnc_password_file(h, raw, o, k, cfg, mode)
	local vnc, vo = cfg.VNC, cfg.vnc_origin
	cfg.vnc_origin = nil
	if raw == "" then
		if vnc and vnc.kind == "tcp" then
			h.bad(vo, "VNC", "a TCP listener needs a password: set " ..
				"VNC_PASSWORD_FILE (or VNC=yes, a socket)")
		end
		return raw
	end
	if sub(raw, 1, 1) ~= "/" then
		h.bad(o, k, "'%s' is not an absolute path", raw)
	end
	if not vnc then
		h.warn(cfg, o, k, "set, but VNC=no: no display uses it")
	end
	if mode == "list" then return raw end
	local st = core.stat(raw)
	local why = not st and "does not exist" or
		st.type ~= "file" and "is not a regular file" or
		not private(st) and string.format("is readable by others " ..
			"(mode %04o, uid %d): chmod 600 it, owned by root", st.mode,
			st.uid)
	if why and mode == "start" then
		h.bad(o, k, "%s %s", raw, why)
	elseif why then
		h.warn(cfg, o, k, "%s %s", raw, why)
	end
	return raw
end

-- One file per line; at start each must exist.
function M.ssh_keys(h, raw, o, k, cfg, mode)
	local list = {}
	for _, e in ipairs(h.entries(raw, o)) do
		if sub(e.text, 1, 1) ~= "/" then
			h.bad(e.o, k, "'%s' is not an absolute path", e.text)
		end
		local st = core.stat(e.text)
		local why = not st and "does not exist" or
			st.type ~= "file" and "is not a regular file"
		if why and mode == "start" then
			h.bad(e.o, k, "SSH key file %s %s", e.text, why)
		elseif why and mode ~= "list" then
			h.warn(cfg, e.o, k, "SSH key file %s %s", e.text, why)
		end
		list[#list + 1] = e.text
	end
	return list
end

return M
