-- config.lua: VM config files.  They look like the sh files the old tool
-- sourced, but they are parsed here and never executed: anything sh would
-- run or redirect is an error, so a config line cannot run a command.
--
-- A value is built from unquoted text, '...' (literal) and "..." (where
-- ${NAME}, $NAME and \ work as in sh) and may span lines inside quotes.
-- ${NAME} refers to a name set earlier: a key (from this file, the global
-- file or its default) or a helper variable.  A name that is not a key is
-- accepted only if this same file uses it later, so a misspelt key is
-- never silently ignored.
local core = require "nvq.core"
local paths = require "paths"
local util = require "util"

local byte, find, sub, match = string.byte, string.find, string.sub,
	string.match
local format = string.format

local M = {}

-- Every key, in the order the example file presents them.
M.KEYS = {
	{ key = "QEMU_BIN", default = "/usr/pkg/bin/qemu-system-x86_64",
		desc = "the QEMU executable" },
	{ key = "ACCEL", default = "nvmm",
		desc = "accelerator: nvmm, kvm, tcg or auto" },
	{ key = "CPU", default = "host",
		desc = "CPU model for -cpu (host becomes max under tcg)" },
	{ key = "NCPU", default = "1", desc = "virtual CPUs, 1 to 255" },
	{ key = "MEMORY", default = "1024",
		desc = "memory in MiB, or with a suffix: 512M, 4G" },
	{ key = "DISKS", default = "",
		desc = "disk images, one path[:format[:cache]] per line" },
	{ key = "NETWORK", default = "",
		desc = "tap interfaces, one tap[:mac] per line" },
	{ key = "DISPLAY_OPT", default = "none",
		desc = "value of QEMU's -display option" },
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
	{ key = "EXTRA_ARGS", default = "",
		desc = "more QEMU arguments, split into words like sh" },
	{ key = "PRE_START", default = "",
		desc = "executable run with the VM name before QEMU starts" },
}

local DEFAULTS = {}
for _, k in ipairs(M.KEYS) do DEFAULTS[k.key] = k.default end

-- Names the environment sets; a file setting them would suggest that the
-- directories could be changed from inside the directory they locate.
local ENV_ONLY = { NVQCTL_CONFDIR = true, NVQCTL_RUNDIR = true }

local SHELL = "the file is parsed, not run by a shell"

-- Characters sh gives a meaning outside quotes: command lists, pipes,
-- redirections, subshells, command substitution.
local META = { [59] = ";", [124] = "|", [38] = "&", [60] = "<", [62] = ">",
	[40] = "(", [41] = ")", [96] = "`" }

local function fail(file, line, key, fmt, ...)
	if key then
		util.die("%s:%d: %s: %s", file, line, key, format(fmt, ...))
	end
	util.die("%s:%d: %s", file, line, format(fmt, ...))
end

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
	local prev, cur = {}, {}
	for j = 0, #b do prev[j] = j end
	for i = 1, #a do
		cur[0] = i
		local ca = byte(a, i)
		for j = 1, #b do
			local cost = ca == byte(b, j) and 0 or 1
			cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
		end
		prev, cur = cur, prev
	end
	return prev[#b]
end

local function suggest(name)
	local up, best, bestd = name:upper(), nil, math.huge
	for _, k in ipairs(M.KEYS) do
		local d = distance(up, k.key)
		if d < bestd then best, bestd = k.key, d end
	end
	if bestd <= math.max(2, #up // 3) then return best end
end

-- Counts the newlines in a piece of a value.  A newline from the file
-- starts the next source line; one from an expanded name does not.
local function count_lines(piece, line, vl, advance)
	local i = find(piece, "\n", 1, true)
	while i do
		if advance then line = line + 1 end
		vl[#vl + 1] = line
		i = find(piece, "\n", i + 1, true)
	end
	return line
end

-- Parses one file's text into st.vars (name -> raw string) and st.origin
-- (key -> {file, line, lines}: lines[k] is the source line of the k-th
-- line of the value, so a bad DISKS entry is reported where it is).
local function parse(src, file, st)
	local vars, origin = st.vars, st.origin
	local pending, used = {}, {}
	local n = #src
	local line, key, buf, nb, vl

	local cr = find(src, "\r", 1, true)
	if cr then
		local _, k = sub(src, 1, cr):gsub("\n", "")
		fail(file, k + 1, nil, "carriage return in the file " ..
			"(DOS line endings?); remove them with: tr -d '\\r'")
	end

	local function add(piece)
		nb = nb + 1
		buf[nb] = piece
	end

	-- $NAME, ${NAME}; everything else sh would expand is refused.
	local function expand(p)
		local name, q = match(src, "^%${([%a_][%w_]*)}()", p)
		if not name then name, q = match(src, "^%$([%a_][%w_]*)()", p) end
		if name then
			local v = vars[name]
			if v == nil then
				fail(file, line, key, "${%s} is not set (only keys and " ..
					"names set earlier can be used)", name)
			end
			used[name] = true
			add(v)
			count_lines(v, line, vl, false)
			return q
		end
		local d = sub(src, p + 1, p + 1)
		if d == "(" then
			fail(file, line, key, "$(...) is not allowed: %s", SHELL)
		elseif d == "{" then
			fail(file, line, key, "%s is not supported, only ${NAME} (%s)",
				match(src, "^%${[^}\n]*}?", p), SHELL)
		elseif d ~= "" and find("0123456789@*#?$!-", d, 1, true) then
			fail(file, line, key, "$%s is not supported (%s)", d, SHELL)
		end
		add("$")
		return p + 1
	end

	local function dquote(p)
		local open = line
		p = p + 1
		while true do
			local e = find(src, '["\\$`]', p)
			if not e then
				fail(file, open, key, "unterminated double quote (%s)", SHELL)
			end
			if e > p then
				local piece = sub(src, p, e - 1)
				add(piece)
				line = count_lines(piece, line, vl, true)
			end
			local c = byte(src, e)
			if c == 34 then
				return e + 1
			elseif c == 92 then
				local d = sub(src, e + 1, e + 1)
				if d == "\n" then
					line = line + 1
					p = e + 2
				elseif d == "$" or d == "`" or d == '"' or d == "\\" then
					add(d)
					p = e + 2
				else
					add("\\")
					p = e + 1
				end
			elseif c == 36 then
				p = expand(e)
			else
				fail(file, line, key, "backquotes are not allowed: %s", SHELL)
			end
		end
	end

	-- One value, up to unquoted white space or the end of the line.
	local function value(p)
		if byte(src, p) == 126 then
			fail(file, line, key, "~ is not expanded (%s); " ..
				"write the full path", SHELL)
		end
		while true do
			local c = byte(src, p)
			if c == nil or c == 32 or c == 9 or c == 10 then
				return p
			elseif c == 39 then
				local e = find(src, "'", p + 1, true)
				if not e then
					fail(file, line, key, "unterminated single quote (%s)",
						SHELL)
				end
				local piece = sub(src, p + 1, e - 1)
				add(piece)
				line = count_lines(piece, line, vl, true)
				p = e + 1
			elseif c == 34 then
				p = dquote(p)
			elseif c == 92 then
				local d = sub(src, p + 1, p + 1)
				if d == "\n" then line = line + 1 else add(d) end
				p = p + 2
			elseif c == 36 then
				p = expand(p)
			elseif META[c] then
				fail(file, line, key, "'%s' is not allowed here: %s",
					META[c], SHELL)
			else
				local e = find(src, "[%s'\"\\$;|&<>()`]", p) or n + 1
				add(sub(src, p, e - 1))
				p = e
			end
		end
	end

	local function assignment(start)
		-- "export" changes nothing here; accepted for files written for sh.
		local p = match(src, "^export[ \t]+()", start) or start
		local k, q = match(src, "^([%a_][%w_]*)=()", p)
		if not k then
			fail(file, line, nil, "expected KEY=value, found '%s' (%s)",
				match(src, "^[^\n]*", start), SHELL)
		end
		key = k
		if ENV_ONLY[k] then
			fail(file, line, k, "cannot be set in a config file; " ..
				"set the environment variable %s instead", k)
		end
		if DEFAULTS[k] == nil and not pending[k] then pending[k] = line end
		local first = line
		buf, nb, vl = {}, 0, { line }
		p = value(q)
		local v = nb == 1 and buf[1] or table.concat(buf, "", 1, nb)
		vars[k] = v
		if DEFAULTS[k] then
			origin[k] = { file = file, line = first, lines = vl }
		end
		-- After the value: only blanks and a comment.
		local r = match(src, "^[ \t]*()", p)
		local c = byte(src, r)
		if c == 35 and r > p then
			r = find(src, "\n", r, true) or n + 1
		elseif META[c] then
			fail(file, line, k, "'%s' is not allowed here: %s", META[c], SHELL)
		elseif c ~= nil and c ~= 10 then
			fail(file, line, k, "unexpected '%s' after the value " ..
				"(quote a value that contains spaces)",
				match(src, "^[^ \t\n]*", r))
		end
		return r
	end

	local p = 1
	line = 1
	while p <= n do
		p = match(src, "^[ \t]*()", p)
		local c = byte(src, p)
		if c == 10 then
			line = line + 1
			p = p + 1
		elseif c == 35 then
			p = find(src, "\n", p, true) or n + 1
		elseif c ~= nil then
			p = assignment(p)
		end
	end

	-- A name that is no key and never used is most likely a misspelt key.
	local bad, badline
	for name, l in pairs(pending) do
		if not used[name] and (badline == nil or l < badline) then
			bad, badline = name, l
		end
	end
	if bad then
		local s = suggest(bad)
		if s then
			fail(file, badline, bad, "unknown key %s (did you mean %s?)", bad, s)
		end
		fail(file, badline, bad, "unknown key %s (not a setting, and not " ..
			"used later in this file as ${%s})", bad, bad)
	end
end

-- Splits a string into words the way sh would, honouring '...', "..." and
-- backslashes, but expanding nothing.  Returns nil, message on an
-- unterminated quote.
function M.split_words(s)
	local words, p, n = {}, 1, #s
	while true do
		p = match(s, "^%s*()", p)
		if p > n then return words end
		local buf, nb = {}, 0
		while p <= n do
			local c = byte(s, p)
			if c == 39 then
				local e = find(s, "'", p + 1, true)
				if not e then return nil, "unterminated single quote" end
				nb = nb + 1
				buf[nb] = sub(s, p + 1, e - 1)
				p = e + 1
			elseif c == 34 then
				p = p + 1
				while true do
					local e = find(s, '["\\]', p)
					if not e then return nil, "unterminated double quote" end
					nb = nb + 1
					buf[nb] = sub(s, p, e - 1)
					if byte(s, e) == 34 then
						p = e + 1
						break
					end
					local d = sub(s, e + 1, e + 1)
					if d == "\n" then
						p = e + 2
					elseif d == "$" or d == "`" or d == '"' or d == "\\" then
						nb = nb + 1
						buf[nb] = d
						p = e + 2
					else
						nb = nb + 1
						buf[nb] = "\\"
						p = e + 1
					end
				end
			elseif c == 92 then
				local d = sub(s, p + 1, p + 1)
				if d ~= "\n" then
					nb = nb + 1
					buf[nb] = d ~= "" and d or "\\"
				end
				p = p + 2
			elseif find(" \t\n\r\v\f", string.char(c), 1, true) then
				break
			else
				local e = find(s, "[%s'\"\\]", p) or n + 1
				nb = nb + 1
				buf[nb] = sub(s, p, e - 1)
				p = e
			end
		end
		words[#words + 1] = table.concat(buf, "", 1, nb)
	end
end

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

local FORMATS = { "raw", "qcow2" }
local CACHES = { "none", "writeback", "writethrough", "directsync", "unsafe" }
local DISK_TYPES = { file = true, block = true, char = true }

local function disks(raw, o, k, cfg, mode)
	local list, seen = {}, {}
	for _, e in ipairs(entries(raw, o)) do
		local path, rest = match(e.text, "^([^:]*)(.*)$")
		local fmt, cache = match(rest, "^:?([^:]*):?(.*)$")
		if path == "" then bad(e.o, k, "'%s': empty disk path", e.text) end
		if fmt == "" then fmt = "raw" end
		oneof(fmt, e.o, k, FORMATS)
		if cache ~= "" then oneof(cache, e.o, k, CACHES) else cache = nil end
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
			line = e.o.line }
	end
	cfg.disks = list
	return raw
end

-- IFNAMSIZ is 16 on NetBSD and Linux, the terminating NUL included.
local function nets(raw, o, k, cfg)
	local list, taps, macs = {}, {}, {}
	for _, e in ipairs(entries(raw, o)) do
		local tap, colon, mac = match(e.text, "^([^:]*)(:?)(.*)$")
		if not match(tap, "^[%w_.-]+$") or #tap > 15 then
			bad(e.o, k, "invalid tap name '%s' (1 to 15 letters, digits, " ..
				"'_', '.' or '-')", tap)
		end
		if taps[tap] then
			bad(e.o, k, "tap %s is listed twice (also line %d)", tap, taps[tap])
		end
		taps[tap] = e.o.line
		if colon == "" then
			mac = nil
		else
			if not match(mac, "^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
				bad(e.o, k, "malformed MAC address '%s' (six hex pairs " ..
					"with colons, such as 52:54:00:12:34:56)", mac)
			end
			if tonumber(sub(mac, 1, 2), 16) & 1 == 1 then
				bad(e.o, k, "MAC address %s is a multicast address " ..
					"(the first byte must be even)", mac)
			end
			local l = mac:lower()
			if macs[l] then
				bad(e.o, k, "MAC address %s is listed twice (also line %d)",
					mac, macs[l])
			end
			macs[l] = e.o.line
		end
		list[#list + 1] = { tap = tap, mac = mac, line = e.o.line }
	end
	cfg.nets = list
	return raw
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

local CHECK = {
	QEMU_BIN = function(raw, o, k)
		if raw == "" then bad(o, k, "empty") end
		return raw
	end,
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
	NETWORK = nets,
	DISPLAY_OPT = function(raw, o, k)
		if not match(raw, "^[%w_.,=:+-]+$") then
			bad(o, k, "'%s' is not a -display value (such as none, " ..
				"vnc=:1, gtk)", raw)
		end
		return raw
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
	EXTRA_ARGS = function(raw, o, k, cfg)
		local words, err = M.split_words(raw)
		if not words then bad(o, k, "%s", err) end
		cfg.extra_args = words
		return raw
	end,
	PRE_START = function(raw) return raw end,
}

-- The accelerator ACCEL=auto stands for on this host.
local function resolve_accel(accel)
	if accel ~= "auto" then return accel end
	if core.access("/dev/nvmm") then return "nvmm" end
	if core.access("/dev/kvm") then return "kvm" end
	return "tcg"
end

local function read(path)
	local f, err = io.open(path, "rb")
	if not f then return nil, err end
	local s = f:read("a")
	f:close()
	return s
end

-- The defaults overlaid with the global file.  The parse is kept for
-- the next VM: list loads every config in one process.
local global_cache = {}

local function base_state()
	local path = paths.global_conf()
	local src, err = read(path)
	if not src and core.access(path) then util.die("%s", err) end
	local c = global_cache[path]
	if not c or c.src ~= src then
		c = { src = src, vars = {}, origin = {} }
		for k, v in pairs(DEFAULTS) do c.vars[k] = v end
		if src then parse(src, path, c) end
		global_cache[path] = c
	end
	local st = { vars = {}, origin = {}, global_file = src and path or nil }
	for k, v in pairs(c.vars) do st.vars[k] = v end
	for k, v in pairs(c.origin) do st.origin[k] = v end
	return st
end

local MODES = { start = true, dryrun = true, list = true, check = true }
local DEFAULT_ORIGIN = { file = "(default)", line = 0 }

local function build(name, file, src, mode)
	assert(MODES[mode], "config: unknown mode")
	local st = base_state()
	parse(src, file, st)
	local cfg = { name = name, file = file, global_file = st.global_file,
		warnings = {} }
	for _, k in ipairs(M.KEYS) do
		local key = k.key
		cfg[key] = CHECK[key](st.vars[key], st.origin[key] or DEFAULT_ORIGIN,
			key, cfg, mode)
	end
	cfg.accel = resolve_accel(cfg.ACCEL)
	cfg.cpu = cfg.CPU
	-- QEMU refuses -cpu host under TCG; max is its closest match.
	if cfg.accel == "tcg" and (cfg.cpu == "host"
	    or sub(cfg.cpu, 1, 5) == "host,") then
		cfg.cpu = "max" .. sub(cfg.cpu, 5)
	end
	return cfg
end

function M.check_name(name)
	if not paths.valid_name(name) then
		util.usage_error("invalid VM name '%s' (letters, digits, '_' and " ..
			"'-', 1 to 64 characters)", tostring(name))
	end
end

-- mode: "start" (a missing disk image is an error), "dryrun" and
-- "check" (it is a warning), "list" (disks are not looked at).
function M.load(name, mode)
	M.check_name(name)
	local file = paths.vmconf(name)
	local src, err = read(file)
	if not src then
		if core.access(file) then util.die("%s", err) end
		util.die("no such VM: %s (%s)", name, file)
	end
	return build(name, file, src, mode)
end

-- Checks a candidate file as if it were the config of VM name.  Errors
-- and line numbers name label (the real config's path when checking an
-- edited copy).  Returns cfg, or nil and the message.
function M.check_file(path, name, label)
	local ok, res = pcall(function()
		if not paths.valid_name(name) then
			util.die("invalid VM name '%s'", tostring(name))
		end
		local src, err = read(path)
		if not src then util.die("%s", err) end
		return build(name, label or path, src, "check")
	end)
	if ok then return res end
	if util.is_failure(res) then return nil, res.msg end
	error(res, 0)
end

return M
