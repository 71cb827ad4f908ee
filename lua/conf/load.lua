-- conf/load.lua: a VM's configuration: the keys, their defaults and checks,
-- and loading the global file and the VM's file (whose syntax is
-- confsyntax's) into one table of typed values.
local accel = require "qemu.accel"
local core = require "nvq.core"
local hosts = require "base.hosts"
local mediacheck = require "conf.mediacheck"
local nic = require "net.nic"
local qbin = require "qemu.bin"
local paths = require "base.paths"
local syntax = require "conf.syntax"
local userlua = require "ulua.runner"
local util = require "base.util"

local byte, sub, match = string.byte, string.sub, string.match
local format = string.format

local M = {}

-- Every key, in the order the example file presents them.
M.KEYS = {
	{ key = "QEMU_BIN", default = "",
		desc = "the QEMU executable (empty: /usr/pkg/bin's, else PATH's " ..
			"qemu-system-x86_64)" },
	{ key = "ACCEL", default = "auto",
		desc = "accelerator: nvmm, kvm, tcg or auto" },
	{ key = "CPU", default = "host",
		desc = "CPU model for -cpu (host becomes max under tcg)" },
	{ key = "NCPU", default = "1", desc = "virtual CPUs, 1 to 255" },
	{ key = "MEMORY", default = "1024",
		desc = "memory in MiB, or with a suffix: 512M, 4G" },
	{ key = "DISKS", default = "",
		desc = "disk images, one path[:format[:cache][:ro]] per line" },
	{ key = "ISO", default = "",
		desc = "installer image attached read-only as a CD-ROM" },
	{ key = "ISO_BOOT", default = "once",
		desc = "boot from ISO: once (then from disk), always or no" },
	{ key = "NETWORK", default = "",
		desc = "NICs, one per line: tap[:mac] or user[:fwd,...]" },
	{ key = "DISPLAY_OPT", default = "none",
		desc = "value of QEMU's -display option" },
	{ key = "VNC", default = "no",
		desc = "VNC display: no, yes (vnc.sock) or ADDR:PORT (TCP)" },
	{ key = "VNC_PASSWORD_FILE", default = "",
		desc = "file holding the VNC password (needed for TCP)" },
	{ key = "CLOUD_INIT", default = "no",
		desc = "attach a cloud-init NoCloud seed (yes or no)" },
	{ key = "CLOUD_INIT_SSH_KEYS", default = "",
		desc = "SSH public key files for a generated user-data, " ..
			"one per line" },
	{ key = "SERIAL", default = "yes",
		desc = "serial console on serial.sock (yes or no)" },
	{ key = "CONSOLE_ESCAPE", default = "^]",
		desc = "key that detaches the console, in caret notation" },
	{ key = "GUEST_AGENT", default = "no",
		desc = "guest agent channel on guest-agent.sock (yes or no)" },
	{ key = "GUEST_AGENT_METHOD", default = "isa-serial",
		desc = "guest agent device: isa-serial or virtio-serial" },
	{ key = "VIRTIO_RNG", default = "yes",
		desc = "virtio random number generator (yes or no)" },
	{ key = "RTC_BASE", default = "localtime",
		desc = "guest clock: utc, localtime or a date" },
	{ key = "SHUTDOWN_TIMEOUT", default = "120",
		desc = "seconds stop waits for the guest, 1 to 86400" },
	{ key = "SHUTDOWN_FORCE", default = "no",
		desc = "kill the VM when stop times out (yes or no)" },
	{ key = "HOST_SHUTDOWN", default = "shutdown",
		desc = "what stopall does to this VM: shutdown, save or " ..
			"hibernate" },
	{ key = "EXTRA_ARGS", default = "",
		desc = "more QEMU arguments, split into words like sh" },
	{ key = "PRE_START", default = "",
		desc = "executable run with the VM name before QEMU starts" },
	{ key = "SHUTDOWN_POLICY", default = "shutdown",
		desc = "the policy stop runs: policies/NAME.lua" },
	{ key = "HOOK_TIMEOUT", default = "30",
		desc = "seconds each hook call may take, 1 to 3600" },
	{ key = "LUA_MEMORY", default = "256",
		desc = "MiB a hook or policy call may allocate, 1 to 4096" },
	{ key = "AUTOSTART", default = "no",
		desc = "startall with no names starts this VM (yes or no)" },
	{ key = "BOOT_ORDER", default = "100",
		desc = "startall wave, lower first, 0 to 9999; stopall reverses" },
	{ key = "BOOT_AFTER", vm_only = true, default = "",
		desc = "VMs that must be ready before this one starts" },
	{ key = "BOOT_REQUIRES", vm_only = true, default = "",
		desc = "as BOOT_AFTER, but skip this VM if one of them fails" },
	{ key = "BOOT_READY", default = "started",
		desc = "when this VM counts as up: started, agent, " ..
			"tcp:HOST:PORT or serial:TEXT" },
	{ key = "BOOT_READY_TIMEOUT", default = "120",
		desc = "seconds startall waits for BOOT_READY, 1 to 86400" },
	{ key = "BOOT_DELAY", default = "0",
		desc = "seconds to wait once ready before the VMs after it, " ..
			"0 to 3600" },
	-- Global only: one value for the whole startall or stopall.
	{ key = "BOOT_PARALLEL", global = true,
		default = tostring(math.min(8, math.max(1, core.ncpu() - 1))),
		desc = "VMs startall starts at once, 1 to 256 (default: " ..
			"CPUs minus one, 1 to 8)" },
	{ key = "HOST_SHUTDOWN_TIMEOUT", global = true, default = "300",
		desc = "seconds for the whole stopall, 1 to 86400" },
	{ key = "HOST_SHUTDOWN_FORCE", global = true, default = "yes",
		desc = "at that deadline, kill what still runs (yes or no)" },
	{ key = "MAC_SEED", global = true, default = "",
		desc = "mixed into every derived MAC: a site's own value" },
	{ key = "HOSTS", global = true, default = "",
		desc = "the hosts nvqctl -H runs on when it names none, " ..
			"[user@]host separated by commas or blanks" },
	{ key = "VM_DIR", global = true, default = core.VMDIR,
		desc = "where each VM's disks and saved state live, one " ..
			"directory per VM" },
}

local DEFAULTS = {}
local SCHEMA = { keys = {}, known = DEFAULTS, reserved = {} }
-- A VM's own file: the same keys, less the global-only ones.
local VMSCHEMA = { keys = SCHEMA.keys, known = DEFAULTS, reserved = {} }
for i, k in ipairs(M.KEYS) do
	DEFAULTS[k.key] = k.default
	SCHEMA.keys[i] = k.key
	if k.global then
		VMSCHEMA.reserved[k.key] = "only in nvqctl.conf: it applies " ..
			"to all VMs at once"
	elseif k.vm_only then
		SCHEMA.reserved[k.key] = "only in a VM's own file: in " ..
			"nvqctl.conf every VM, the named ones too, would wait for it"
	end
end

-- Names the environment sets: a file setting them would suggest that the
-- directories could be changed from inside the directory they locate.
for _, v in ipairs({ "NVQCTL_CONFDIR", "NVQCTL_RUNDIR" }) do
	SCHEMA.reserved[v] = "cannot be set in a config file; set the " ..
		"environment variable " .. v .. " instead"
	VMSCHEMA.reserved[v] = SCHEMA.reserved[v]
end

local fail = syntax.fail
M.split_words = syntax.split_words

-- Checks: each turns a key's raw string into its typed value, or fails
-- naming the file and line that set it.

local function bad(o, k, fmt, ...)
	fail(o.file, o.line, k, fmt, ...)
end

local function yesno(raw, o, k)
	local l = raw:lower()
	if l == "yes" then return true elseif l == "no" then return false end
	bad(o, k, "'%s' is neither yes nor no", raw)
end

local function integer(raw, o, k, lo, hi)
	local v = match(raw, "^%d+$") and tonumber(raw)
	if not v then bad(o, k, "'%s' is not a whole number", raw) end
	if v < lo or v > hi then
		bad(o, k, "%s is out of range (%d to %d)", raw, lo, hi)
	end
	return v
end

local function oneof(raw, o, k, list)
	for _, v in ipairs(list) do
		if raw == v then return raw end
	end
	bad(o, k, "'%s' is not one of: %s", raw, table.concat(list, ", "))
end

-- The lines of a multi-line value with the source line of each; blank
-- lines are skipped and white space around an entry trimmed.
local function entries(raw, o)
	local out, k = {}, 0
	for l in (raw .. "\n"):gmatch("([^\n]*)\n") do
		k = k + 1
		local t = match(l, "^%s*(.-)%s*$")
		if t ~= "" then
			out[#out + 1] = { text = t,
				o = { file = o.file, line = o.lines and o.lines[k] or o.line } }
		end
	end
	return out
end

local function warn(cfg, o, k, fmt, ...)
	cfg.warnings[#cfg.warnings + 1] = format("%s:%d: %s: %s", o.file, o.line,
		k, format(fmt, ...))
end

-- What conf/mediacheck's checks share with these.
local H = { bad = bad, warn = warn, entries = entries, yesno = yesno }

local FORMATS = { "raw", "qcow2" }
local CACHES = { "none", "writeback", "writethrough", "directsync", "unsafe" }
local DISK_TYPES = { file = true, block = true, char = true }

-- After the format: a cache mode, "ro" (QEMU opens the image read-only:
-- clone may copy it while the VM runs), or both, in either order.
local function disk_opts(opts, o, k)
	local cache, ro
	if opts == "" then return nil, false end
	local allowed = { table.unpack(CACHES) }
	allowed[#allowed + 1] = "ro"
	for w in (opts .. ":"):gmatch("([^:]*):") do
		oneof(w, o, k, allowed)
		if (w == "ro" and ro) or (w ~= "ro" and cache) then
			bad(o, k, "'%s': a cache mode and ro at most once each", opts)
		end
		if w == "ro" then ro = true else cache = w end
	end
	return cache, ro or false
end

local function disks(raw, o, k, cfg, mode)
	local list, seen = {}, {}
	for _, e in ipairs(entries(raw, o)) do
		local path, rest = match(e.text, "^([^:]*)(.*)$")
		local fmt, opts = match(rest, "^:?([^:]*):?(.*)$")
		if path == "" then bad(e.o, k, "'%s': empty disk path", e.text) end
		if fmt == "" then fmt = "raw" end
		oneof(fmt, e.o, k, FORMATS)
		local cache, ro = disk_opts(opts, e.o, k)
		if seen[path] then
			bad(e.o, k, "disk %s is listed twice (also line %d)", path,
				seen[path])
		end
		seen[path] = e.o.line
		if path:sub(1, 1) ~= "/" then
			warn(cfg, e.o, k, "relative disk path %s depends on the " ..
				"directory nvqctl runs in", path)
		end
		if mode ~= "list" then
			local s = core.stat(path)
			local why = not s and "does not exist" or
				not DISK_TYPES[s.type] and "is not a file or device"
			if why and mode == "start" then
				bad(e.o, k, "disk image %s %s", path, why)
			elseif why then
				warn(cfg, e.o, k, "disk image %s %s", path, why)
			end
		end
		list[#list + 1] = { path = path, format = fmt, cache = cache,
			readonly = ro, line = e.o.line, text = e.text }
	end
	cfg.disks = list
	return raw
end

-- NETWORK: one NIC per line (net/nic.lua has the forms).  A tap or a
-- MAC listed twice, or a forwarded host port, is an error here; MACs
-- for NICs without one are derived in build(), once the name is known.
local function nets(raw, o, k, cfg)
	local list, taps, macs, ports = {}, {}, {}, {}
	for _, e in ipairs(entries(raw, o)) do
		local n, why = nic.parse(e.text)
		if not n then bad(e.o, k, "%s", why) end
		if n.tap then
			if taps[n.tap] then
				bad(e.o, k, "tap %s is listed twice (also line %d)", n.tap,
					taps[n.tap])
			end
			taps[n.tap] = e.o.line
		end
		if n.mac then
			local l = n.mac:lower()
			if macs[l] then
				bad(e.o, k, "MAC address %s is listed twice (also line %d)",
					n.mac, macs[l])
			end
			macs[l] = e.o.line
		end
		for _, f in ipairs(n.fwds or {}) do
			local key = f.proto .. "/" .. f.hport
			if ports[key] then
				bad(e.o, k, "host port %s/%d is forwarded twice (also " ..
					"line %d)", f.proto, f.hport, ports[key])
			end
			ports[key] = e.o.line
		end
		n.line = e.o.line
		list[#list + 1] = n
	end
	cfg.nets = list
	return raw
end

-- Every NIC without a MAC gets one derived from the VM's name, its
-- index and MAC_SEED: the same on every start and every host.  One that
-- happens to equal a MAC written on another line moves on.
local function derive_macs(cfg)
	local taken = {}
	for _, n in ipairs(cfg.nets) do
		if n.mac then taken[n.mac:lower()] = true end
	end
	for i, n in ipairs(cfg.nets) do
		if not n.mac then
			local salt = 0
			repeat
				n.mac = nic.derive_mac(cfg.name, i - 1, cfg.MAC_SEED, salt)
				salt = salt + 1
			until not taken[n.mac]
			n.derived = true
			taken[n.mac] = true
		end
	end
end

local function rtc_base(raw, o, k)
	if raw == "utc" or raw == "localtime" then return raw end
	-- The date forms QEMU's -rtc base= accepts.
	local y, mo, d, rest = match(raw, "^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
	local h, mi, s = 0, 0, 0
	if rest and rest ~= "" then
		h, mi, s = match(rest, "^T(%d%d):(%d%d):(%d%d)$")
	end
	if not y or not h or tonumber(mo) < 1 or tonumber(mo) > 12
	    or tonumber(d) < 1 or tonumber(d) > 31 or tonumber(h) > 23
	    or tonumber(mi) > 59 or tonumber(s) > 59 then
		bad(o, k, "'%s' is not utc, localtime or a date " ..
			"(2006-06-17 or 2006-06-17T16:01:21)", raw)
	end
	return raw
end

-- Caret notation: ^] is Ctrl-], ^? is DEL.  Keys that arrive in ordinary
-- typing or inside terminal escape sequences would detach at random.
local function console_escape(raw, o, k, cfg)
	local c = match(raw, "^%^(.)$")
	c = c and c:upper()
	local b = c and (c == "?" and 127 or byte(c) >= 64 and byte(c) <= 95
		and byte(c) - 64)
	if not b then
		bad(o, k, "'%s' is not a control key in caret notation (such as ^])",
			raw)
	elseif b == 0 or b == 10 or b == 13 or b == 27 then
		bad(o, k, "%s cannot be used: it is part of ordinary terminal input",
			raw)
	end
	cfg.escape_char = string.char(b)
	return "^" .. c
end

-- A list of VM names, as an array.  Whether they exist is bootgraph's
-- business: configs come and go independently of one another.  Each
-- name's line goes to cfg.boot_lines[k][name], for bootgraph's errors.
local function vm_names(raw, o, k, cfg)
	local list, lines = {}, {}
	for _, e in ipairs(entries(raw, o)) do
		for name in e.text:gmatch("[^ \t]+") do
			if not paths.valid_name(name) then
				bad(e.o, k, "'%s' is not a valid VM name (letters, " ..
					"digits, '_' and '-', 1 to 64 characters)", name)
			end
			if lines[name] then
				bad(e.o, k, "%s is listed twice (also line %d)", name,
					lines[name])
			end
			lines[name] = e.o.line
			list[#list + 1] = name
		end
	end
	cfg.boot_lines = cfg.boot_lines or {}
	cfg.boot_lines[k] = { file = o.file, line = o.line, names = lines }
	return list
end

local MAX_READY_TEXT = 256

-- started | agent | tcp:HOST:PORT | tcp:[IPV6]:PORT | serial:TEXT.
-- Runs after GUEST_AGENT and SERIAL (M.KEYS order), whose values it
-- needs: a condition that can never hold is refused here, not after
-- BOOT_READY_TIMEOUT seconds of waiting at boot.
local function boot_ready(raw, o, k, cfg)
	local r = { spec = raw }
	local kind, rest = match(raw, "^(%a+):(.*)$")
	if raw == "started" or raw == "agent" then
		r.kind = raw
	elseif kind == "tcp" then
		local host, port = match(rest, "^%[([^%]]*)%]:(.*)$")
		if host then
			if not match(host, "^[%x:.]+$") or not host:find(":") then
				bad(o, k, "'%s' is not an IPv6 address", host)
			end
		else
			host, port = match(rest, "^(.*):([^:]*)$")
			if host and host:find(":") then
				bad(o, k, "'%s': an IPv6 address goes in brackets, " ..
					"as tcp:[::1]:22", raw)
			end
			if not host or not match(host, "^[%w_.-]+$") then
				bad(o, k, "'%s' is not tcp:HOST:PORT (such as " ..
					"tcp:db.example:5432 or tcp:[::1]:22)", raw)
			end
		end
		local p = match(port, "^%d+$") and tonumber(port)
		if not p or p < 1 or p > 65535 then
			bad(o, k, "'%s' is not a TCP port (1 to 65535)", port)
		end
		r.kind, r.host, r.port = "tcp", host, p
	elseif kind == "serial" then
		if rest == "" then bad(o, k, "serial: needs the TEXT to wait for") end
		if #rest > MAX_READY_TEXT then
			bad(o, k, "serial: TEXT longer than %d bytes", MAX_READY_TEXT)
		end
		if rest:find("[%c\127]") then
			bad(o, k, "serial: TEXT is one line of printable characters")
		end
		r.kind, r.text = "serial", rest
	else
		bad(o, k, "'%s' is not started, agent, tcp:HOST:PORT or " ..
			"serial:TEXT", raw)
	end
	if r.kind == "agent" and not cfg.GUEST_AGENT then
		bad(o, k, "agent needs GUEST_AGENT=yes")
	elseif r.kind == "serial" and not cfg.SERIAL then
		bad(o, k, "serial:TEXT needs SERIAL=yes")
	end
	return r
end

local CHECK = {
	-- Empty (the default) is QEMU where this host has it: a config
	-- made on one host starts on another.
	QEMU_BIN = function(raw) return qbin.qemu(raw) end,
	ACCEL = function(raw, o, k)
		return oneof(raw, o, k, { "nvmm", "kvm", "tcg", "auto" })
	end,
	-- Commas are QEMU's own syntax here (host,-x2apic), so no escaping.
	CPU = function(raw, o, k)
		if not match(raw, "^[%w_.+=,-]+$") then
			bad(o, k, "'%s' is not a CPU model (such as host, max, qemu64)",
				raw)
		end
		return raw
	end,
	NCPU = function(raw, o, k) return integer(raw, o, k, 1, 255) end,
	MEMORY = function(raw, o, k)
		local num, suf = match(raw, "^(%d+)([MmGg]?)$")
		if not num then
			bad(o, k, "'%s' is not a size in MiB (such as 1024, 512M, 4G)",
				raw)
		end
		local v = tonumber(num)
		if suf == "G" or suf == "g" then v = v * 1024 end
		if v < 16 or v > 16777216 then
			bad(o, k, "%s is out of range (16M to 16384G)", raw)
		end
		return v
	end,
	DISKS = disks,
	ISO = function(...) return mediacheck.iso(H, ...) end,
	ISO_BOOT = function(...) return mediacheck.iso_boot(H, ...) end,
	NETWORK = nets,
	DISPLAY_OPT = function(raw, o, k)
		if not match(raw, "^[%w_.,=:+-]+$") then
			bad(o, k, "'%s' is not a -display value (such as none, " ..
				"vnc=:1, gtk)", raw)
		end
		return raw
	end,
	VNC = function(...) return mediacheck.vnc(H, ...) end,
	VNC_PASSWORD_FILE = function(...)
		return mediacheck.vnc_password_file(H, ...)
	end,
	CLOUD_INIT = yesno,
	CLOUD_INIT_SSH_KEYS = function(...)
		return mediacheck.ssh_keys(H, ...)
	end,
	SERIAL = yesno,
	CONSOLE_ESCAPE = console_escape,
	GUEST_AGENT = yesno,
	GUEST_AGENT_METHOD = function(raw, o, k)
		return oneof(raw, o, k, { "isa-serial", "virtio-serial" })
	end,
	VIRTIO_RNG = yesno,
	RTC_BASE = rtc_base,
	SHUTDOWN_TIMEOUT = function(raw, o, k)
		return integer(raw, o, k, 1, 86400)
	end,
	SHUTDOWN_FORCE = yesno,
	HOST_SHUTDOWN = function(raw, o, k)
		return oneof(raw, o, k, { "shutdown", "save", "hibernate" })
	end,
	EXTRA_ARGS = function(raw, o, k, cfg)
		local words, err = M.split_words(raw)
		if not words then bad(o, k, "%s", err) end
		cfg.extra_args = words
		return raw
	end,
	PRE_START = function(raw) return raw end,
	SHUTDOWN_POLICY = function(raw, o, k, _, mode)
		if not userlua.valid_policy_name(raw) then
			bad(o, k, "'%s' is not a policy name (letters, digits, '_' " ..
				"and '-')", raw)
		end
		-- Looked for where a typo should stop the edit or the start;
		-- stop itself falls back to the built-in ladder.
		if mode == "start" or mode == "check" then
			local p = userlua.find_policy(raw)
			if not p.file and not p.builtin then
				bad(o, k, "no policy named %s (%s does not exist and none " ..
					"is built in)", raw, userlua.policy_file(raw))
			end
		end
		return raw
	end,
	HOOK_TIMEOUT = function(raw, o, k)
		return integer(raw, o, k, 1, 3600)
	end,
	LUA_MEMORY = function(raw, o, k)
		return integer(raw, o, k, 1, 4096)
	end,
	AUTOSTART = yesno,
	BOOT_ORDER = function(raw, o, k) return integer(raw, o, k, 0, 9999) end,
	BOOT_AFTER = vm_names,
	BOOT_REQUIRES = vm_names,
	BOOT_READY = boot_ready,
	BOOT_READY_TIMEOUT = function(raw, o, k)
		return integer(raw, o, k, 1, 86400)
	end,
	BOOT_DELAY = function(raw, o, k) return integer(raw, o, k, 0, 3600) end,
	BOOT_PARALLEL = function(raw, o, k) return integer(raw, o, k, 1, 256) end,
	HOST_SHUTDOWN_TIMEOUT = function(raw, o, k)
		return integer(raw, o, k, 1, 86400)
	end,
	HOST_SHUTDOWN_FORCE = yesno,
	MAC_SEED = function(raw, o, k)
		if not match(raw, "^[%w_.:-]*$") or #raw > 64 then
			bad(o, k, "'%s' is not a seed (up to 64 letters, digits, " ..
				"'_', '.', ':' or '-')", raw)
		end
		return raw
	end,
	HOSTS = function(raw, o, k)
		if not raw:find("%S") then return {} end
		local list, why = hosts.split(raw, k)
		if not list then bad(o, k, "%s", why:gsub("^HOSTS: ", "")) end
		return list
	end,
	VM_DIR = function(raw, o, k)
		if sub(raw, 1, 1) ~= "/" then
			bad(o, k, "'%s' is not an absolute path", raw)
		end
		return (raw:gsub("(.)/+$", "%1"))
	end,
}

-- Stops the load with a message that has no file position of its own
-- (an unreadable file); protect() below returns it.
local function stop(msg)
	util.die("%s", msg)
end

local function read(path)
	-- A regular file only: opening a FIFO would wait for a writer for
	-- ever, and a device such as /dev/zero would never end.
	local st = core.stat(path)
	if st and st.type ~= "file" then
		return nil, path .. ": not a regular file"
	end
	local f, err = io.open(path, "rb")
	if not f then return nil, err end
	-- io.open opens a directory; reading it is what fails.
	local s, rerr = f:read("a")
	f:close()
	if not s then return nil, path .. ": " .. tostring(rerr) end
	return s
end

-- The defaults overlaid with the global file.  The parse is kept for
-- the next VM: list loads every config in one process.
local global_cache = {}

local function base_state(path)
	path = path or paths.global_conf()
	local src, err = read(path)
	if not src and core.access(path) then stop(err) end
	local c = global_cache[path]
	if not c or c.src ~= src then
		c = { src = src, vars = {}, origin = {} }
		for k, v in pairs(DEFAULTS) do c.vars[k] = v end
		if src then syntax.parse(src, path, c, SCHEMA) end
		global_cache[path] = c
	end
	local st = { vars = {}, origin = {}, global_file = src and path or nil }
	for k, v in pairs(c.vars) do st.vars[k] = v end
	for k, v in pairs(c.origin) do st.origin[k] = v end
	return st
end

local MODES = { start = true, dryrun = true, list = true, check = true }
local DEFAULT_ORIGIN = { file = "(default)", line = 0 }

local function build(name, file, src, mode, global_path)
	assert(MODES[mode], "config: unknown mode")
	local st = base_state(global_path)
	syntax.parse(src, file, st, VMSCHEMA)
	local cfg = { name = name, file = file, global_file = st.global_file,
		warnings = {} }
	for _, k in ipairs(M.KEYS) do
		local key = k.key
		cfg[key] = CHECK[key](st.vars[key], st.origin[key] or DEFAULT_ORIGIN,
			key, cfg, mode)
	end
	derive_macs(cfg)
	-- accel_note: why auto passed over an accelerator, or why the one
	-- asked for will not run a guest here; dryrun and start print it.
	cfg.accel, cfg.accel_note = accel.resolve(cfg.ACCEL)
	cfg.cpu = cfg.CPU
	-- QEMU refuses -cpu host under TCG; max is its closest match.
	if cfg.accel == "tcg" and (cfg.cpu == "host"
	    or sub(cfg.cpu, 1, 5) == "host,") then
		cfg.cpu = "max" .. sub(cfg.cpu, 5)
	end
	return cfg
end

-- true | nil, message, "usage": VM names are checked before any path
-- is made, and a bad one is a usage error.
function M.check_name(name)
	if not paths.valid_name(name) then
		return nil, format("invalid VM name '%s' (letters, digits, '_' " ..
			"and '-', 1 to 64 characters)", tostring(name)), "usage"
	end
	return true
end

-- The parser and the checks stop at the first error by raising it (a
-- scanner deep in a value has nothing to return to); this is the one
-- place that turns such an error back into nil, message.
local function protect(fn, ...)
	local ok, res = pcall(fn, ...)
	if ok then return res end
	if util.is_failure(res) then return nil, res.msg end
	error(res, 0)
end

-- What a VM that does not set key gets: the default, or the global
-- file's value; and where it comes from ("file:line" or "(default)").
-- nil, message when the global file cannot be read or parsed.
function M.global_value(key)
	local st, msg = protect(base_state)
	if not st then return nil, msg end
	local o = st.origin[key]
	return st.vars[key], o and format("%s:%d", o.file, o.line) or "(default)"
end

-- The global-only keys, typed: { BOOT_PARALLEL =, HOST_SHUTDOWN_TIMEOUT =,
-- HOST_SHUTDOWN_FORCE =, file = the global file or nil }, or nil and
-- the message.  path defaults to the global file.
local function global(path)
	local st = base_state(path)
	local g = { file = st.global_file }
	for _, k in ipairs(M.KEYS) do
		local key = k.key
		if k.global then
			g[key] = CHECK[key](st.vars[key],
				st.origin[key] or DEFAULT_ORIGIN, key, g, "list")
		end
	end
	return g
end

function M.global(path)
	return protect(global, path)
end

-- The directory of a VM's own persistent files (disks, saved state,
-- cloud-init seed): VM_DIR/name.  nil, message as M.global.
function M.vm_dir(name)
	local g, err = M.global()
	if not g then return nil, err end
	return g.VM_DIR .. "/" .. name
end

local function load(name, mode)
	local file = paths.vmconf(name)
	local src, err = read(file)
	if not src then
		if core.access(file) then stop(err) end
		stop(format("no such VM: %s (%s)", name, file))
	end
	return build(name, file, src, mode)
end

-- load(name, mode) -> cfg | nil, message.  mode: "start" (a missing
-- disk image is an error), "dryrun" and "check" (it is a warning),
-- "list" (disks are not looked at).
function M.load(name, mode)
	local ok, why, kind = M.check_name(name)
	if not ok then return nil, why, kind end
	return protect(load, name, mode)
end


-- The files a running VM was started with, kept in its run directory:
-- stop, status and the rest still work on a VM whose config has been
-- broken or removed since.  nil when there is no copy.
function M.load_started(name, rt)
	local src = read(rt.started_conf)
	if not src then return nil end
	return protect(build, name, rt.started_conf, src, "list",
		rt.started_global)
end

-- Keeps those copies, and the accelerator chosen; called once QEMU runs.
function M.save_started(cfg, rt)
	local src = read(cfg.file)
	local gsrc = cfg.global_file and read(cfg.global_file) or ""
	if src then util.write_file_atomic(rt.started_conf, src, "0600") end
	util.write_file_atomic(rt.started_global, gsrc, "0600")
	util.write_file_atomic(rt.accel, cfg.accel .. "\n", "0600")
end

-- Checks config text (not yet in a file) as the config of VM name.
function M.check_text(src, name, label)
	return protect(build, name, label, src, "check")
end

-- Where src (a VM's file, named file) last sets key: { from, to, line }
-- with from..to the bytes of "KEY=value"; false when it does not set
-- it; nil, message when it does not parse.
function M.assignment(src, file, key)
	return protect(function()
		local st = base_state()
		st.origin = {}
		syntax.parse(src, file, st, VMSCHEMA)
		return st.origin[key] or false
	end)
end

-- Checks a candidate file as if it were the config of VM name.  Errors
-- and line numbers name label (the real config's path when checking an
-- edited copy).  Returns cfg, or nil and the message.
function M.check_file(path, name, label)
	local ok, why = M.check_name(name)
	if not ok then return nil, why end
	local src, err = read(path)
	if not src then return nil, err end
	return protect(build, name, label or path, src, "check")
end

return M
