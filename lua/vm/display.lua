-- vm/display.lua: a running VM's VNC display: the password given to
-- QEMU over QMP once it runs (never on its command line, where ps would
-- show it), and how to reach the display.
local core = require "nvq.core"
local media = require "qemu.media"

local format = string.format

local M = {}

-- RFB's VNC authentication (DES) uses the first 8 bytes and drops the
-- rest; a longer password would be weaker than it looks.
local MAX_PASSWORD = 8

-- The password in file: its first line.  nil, message when it cannot be
-- read or does not fit VNC authentication.
function M.read_password(file)
	local f, err = io.open(file, "rb")
	if not f then return nil, err end
	local s = f:read(4096) or ""
	f:close()
	local pw = s:match("^([^\r\n]*)")
	if pw == "" then
		return nil, file .. ": empty password"
	elseif #pw > MAX_PASSWORD then
		return nil, format("%s: VNC passwords are at most %d bytes (VNC " ..
			"authentication ignores the rest)", file, MAX_PASSWORD)
	end
	return pw
end

-- Before start: the password the display will get, false for none;
-- nil, message when it cannot be read (QEMU is then not started).
function M.password(cfg)
	if not cfg.VNC or cfg.VNC_PASSWORD_FILE == "" then return false end
	return M.read_password(cfg.VNC_PASSWORD_FILE)
end

-- Once QMP answers: true | nil, message.  Until then QEMU (-vnc
-- ...,password=on) turns every client away.
function M.set_password(v, pw, deadline)
	if not pw then return true end
	local ok, why = v:qmp_call("set_password",
		{ protocol = "vnc", password = pw }, deadline)
	if not ok then return nil, "set_password: " .. tostring(why) end
	return true
end

-- How to reach the display, as lines for people; nil, why without one.
function M.how(name, cfg, rt)
	local where = media.vnc_where(cfg, rt)
	if not where then
		return nil, format("%s has no VNC display (VNC=no in %s)", name,
			cfg.file)
	end
	local pw = cfg.VNC_PASSWORD_FILE ~= "" and
		format(" (password in %s)", cfg.VNC_PASSWORD_FILE) or ""
	if cfg.VNC.kind == "tcp" then
		return { format("%s: VNC on %s%s", name, where, pw),
			format("connect a VNC viewer to %s", where) }
	end
	local host = core.hostname and core.hostname() or "HOST"
	return { format("%s: VNC on the unix socket %s%s", name, where, pw),
		"from your machine, forward it to a local port:",
		format("  ssh -N -L 5900:%s root@%s", where, host),
		"then connect a VNC viewer to localhost:5900" }
end

return M
