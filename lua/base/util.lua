-- base/util.lua: errors, output and small helpers shared by every command.
local core = require "nvq.core"

local M = {}

-- An expected failure: printed as "nvqctl: msg", exit code 1 (or code).
local Failure = {}
Failure.__tostring = function(e) return e.msg end

function M.die(fmt, ...)
	error(setmetatable({ msg = string.format(fmt, ...), code = 1 }, Failure), 0)
end

-- Nothing to do: the VM already is as asked (start of a running VM,
-- stop or kill of a stopped one).  Exit code 3, so that a script tells
-- it from a failure (1) by the status alone.
M.UNCHANGED = 3
function M.unchanged(fmt, ...)
	error(setmetatable({ msg = string.format(fmt, ...),
		code = M.UNCHANGED }, Failure), 0)
end

-- A usage error: the message, then usage on stderr, exit code 2.
function M.usage_error(fmt, ...)
	error(setmetatable({ msg = string.format(fmt, ...), code = 2,
		usage = true }, Failure), 0)
end

-- For the commands: v, or the end of the process with the message
-- (as a usage error when kind is "usage"), the way assert ends a chunk.
function M.check(v, msg, kind, ...)
	if v then return v, msg, kind, ... end
	if kind == "usage" then M.usage_error("%s", tostring(msg)) end
	M.die("%s", tostring(msg))
end

function M.is_failure(e)
	return getmetatable(e) == Failure
end

function M.warn(fmt, ...)
	io.stderr:write("nvqctl: warning: ", string.format(fmt, ...), "\n")
end

function M.printf(fmt, ...)
	io.stdout:write(string.format(fmt, ...))
end

-- The JSON codec, loaded on first use so commands without JSON run
-- even where lua-cjson is missing.
local cjson
function M.json()
	if cjson then return cjson end
	local ok, mod = pcall(require, "cjson")
	if not ok then
		M.die("lua-cjson is not installed " ..
			"(Debian: apt-get install lua-cjson; NetBSD: pkgin install lua54-cjson)")
	end
	cjson = mod
	cjson.decode_max_depth(64)
	return cjson
end

-- JSON text for output: lua-cjson escapes "/" as "\/", which is valid
-- but makes every path unreadable.
function M.to_json(v)
	return (M.json().encode(v):gsub("\\/", "/"))
end

-- Text from a guest, QEMU or a socket, made safe to print: control
-- bytes (C0, DEL, C1), line and paragraph separators, bidirectional
-- overrides and bytes that are not UTF-8 are written as \n, \xNN or
-- \u{NNNN}, so foreign text can neither drive a terminal nor forge a
-- line of its own (one event stays one line).  The result holds only
-- printable UTF-8, so applying it twice changes nothing: each printer
-- can apply it without knowing whether its text was escaped before.
local NAMED = { [9] = "\\t", [10] = "\\n", [13] = "\\r" }
local UNSAFE = "[%c\127-\255]"
-- C1 controls, the line/paragraph separators and every bidirectional
-- control (marks included: U+061C, U+200E/F reorder what follows too).
local function unsafe_cp(c)
	return c < 0xA0 or c == 0x061C or c == 0x200E or c == 0x200F or
		c == 0x2028 or c == 0x2029 or
		(c >= 0x202A and c <= 0x202E) or (c >= 0x2066 and c <= 0x2069)
end
local function utf8_len(lead)
	if lead >= 0xC2 and lead <= 0xDF then return 2 end
	if lead >= 0xE0 and lead <= 0xEF then return 3 end
	if lead >= 0xF0 and lead <= 0xF4 then return 4 end
end
function M.printable(s)
	s = tostring(s)
	if not s:find(UNSAFE) then return s end
	local out, i = {}, 1
	while true do
		local j = s:find(UNSAFE, i)
		if not j then
			out[#out + 1] = s:sub(i)
			break
		end
		out[#out + 1] = s:sub(i, j - 1)
		local b = s:byte(j)
		local n = utf8_len(b)
		local seq = n and s:sub(j, j + n - 1)
		-- utf8.len (strict) refuses overlong forms and surrogates.
		local cp = seq and #seq == n and utf8.len(seq) == 1 and
			utf8.codepoint(seq)
		if cp and not unsafe_cp(cp) then
			out[#out + 1] = seq
			i = j + n
		elseif cp then
			out[#out + 1] = string.format("\\u{%04X}", cp)
			i = j + n
		else
			out[#out + 1] = NAMED[b] or string.format("\\x%02x", b)
			i = j + 1
		end
	end
	return table.concat(out)
end

-- The strict number parsers, for numbers a person types (seconds,
-- counts): decimal digits and at most one point, nothing else -- no
-- blank, sign, 0x, exponent, inf or nan, all of which tonumber takes.
-- whole(s) -> integer | nil; decimal(s) -> number | nil.
function M.whole(s)
	if type(s) ~= "string" or not s:find("^%d+$") or #s > 15 then
		return nil
	end
	return math.tointeger(tonumber(s))
end

function M.decimal(s)
	if type(s) ~= "string" or #s > 32 then return nil end
	if s:find("^%d+%.?%d*$") or s:find("^%.%d+$") then return tonumber(s) end
end

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
	local prev, cur = {}, {}
	for j = 0, #b do prev[j] = j end
	for i = 1, #a do
		cur[0] = i
		local ca = a:byte(i)
		for j = 1, #b do
			local cost = ca == b:byte(j) and 0 or 1
			cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
		end
		prev, cur = cur, prev
	end
	return prev[#b]
end

-- The candidate a misspelt name most likely meant, or nil when none is
-- close enough to suggest.
function M.closest(name, candidates)
	local best, bestd = nil, math.huge
	for _, c in ipairs(candidates) do
		local d = distance(name, c)
		if d < bestd then best, bestd = c, d end
	end
	if bestd < #name and bestd <= math.max(2, #name // 3) then
		return best
	end
end

-- Quotes a word for /bin/sh only when it needs it.
function M.shquote(s)
	if s ~= "" and not s:find("[^%w%%+,./:=@_-]") then
		return s
	end
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- FNV-1a, 64 bits, of s, as 16 hex digits: a short name of fixed
-- length for any text (not a defence against a chosen collision).
function M.fnv64(s)
	local h = -3750763034362895579	-- 0xcbf29ce484222325
	for i = 1, #s do h = (h ~ s:byte(i)) * 1099511628211 end
	return string.format("%016x", h)
end

-- Removes p and, for a directory, everything under it (never through
-- a symbolic link: a link is removed, not followed).
function M.rmtree(p)
	local st = core.stat(p, "l")
	if st and st.type == "dir" then
		for _, n in ipairs(core.readdir(p) or {}) do
			M.rmtree(p .. "/" .. n)
		end
		core.rmdir(p)
	elseif st then
		os.remove(p)
	end
end

function M.read_file(path)
	local f, err = io.open(path, "rb")
	if not f then return nil, err end
	-- A directory opens, and fails only here.
	local data, rerr = f:read("a")
	f:close()
	if not data then return nil, path .. ": " .. tostring(rerr) end
	return data
end

-- The temporary file the two writers below put in place: true, or nil
-- and the message with nothing left behind.
local function write_temp(tmp, data, mode)
	local f, err = io.open(tmp, "wb")
	if not f then return nil, err end
	local ok, werr = f:write(data)
	local cok, cerr = f:close()
	if not ok or not cok then
		os.remove(tmp)
		return nil, werr or cerr
	end
	if mode then core.chmod(tmp, mode) end
	return true
end

-- Writes a file whole or not at all: a temporary file renamed into place.
function M.write_file_atomic(path, data, mode)
	local tmp = string.format("%s.tmp.%d", path, core.getpid())
	local ok, err = write_temp(tmp, data, mode)
	if not ok then return nil, err end
	local rok, rerr = os.rename(tmp, path)
	if not rok then
		os.remove(tmp)
		return nil, rerr
	end
	return true
end

-- Writes a new file whole, or fails if it exists (also when another
-- process makes it at the same moment): nil, message, errno.
function M.write_file_new(path, data, mode)
	local tmp = string.format("%s.new.%d", path, core.getpid())
	local ok, err = write_temp(tmp, data, mode)
	if not ok then return nil, err end
	local lok, lerr, errno = core.link(tmp, path)
	os.remove(tmp)
	return lok, lerr, errno
end

-- Colours only on a terminal and only when NO_COLOR is unset.
local colours = { red = "31", green = "32", yellow = "33", blue = "34", bold = "1" }
local use_colour
function M.colour(name, s)
	if use_colour == nil then
		local nc = os.getenv("NO_COLOR")
		use_colour = core.isatty(1) and (nc == nil or nc == "")
	end
	if not use_colour then return s end
	return "\27[" .. colours[name] .. "m" .. s .. "\27[0m"
end

-- The colour list and status give a VM state.
function M.state_colour(state)
	if state == "running" then return "green" end
	if state == "stopped" then return "red" end
	return "yellow"
end

function M.fmt_bytes(n)
	if n == nil then return "?" end
	local units = { "B", "K", "M", "G", "T" }
	local i = 1
	while n >= 1024 and i < #units do
		n = n / 1024
		i = i + 1
	end
	if i == 1 then return string.format("%dB", n) end
	return string.format("%.1f%s", n, units[i])
end

function M.fmt_duration(s)
	if s == nil then return "?" end
	s = math.floor(s)
	local d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
	if d > 0 then return string.format("%dd%02dh", d, h) end
	if h > 0 then return string.format("%d:%02d:%02d", h, m, s % 60) end
	return string.format("%d:%02d", m, s % 60)
end

return M
