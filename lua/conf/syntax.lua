-- conf/syntax.lua: the syntax of config files.  They look like the sh
-- files the old tool sourced, but they are parsed here and never
-- executed: anything sh would run or redirect is an error, so a config
-- line cannot run a command.
--
-- A value is built from unquoted text, '...' (literal) and "..." (where
-- ${NAME}, $NAME and \ work as in sh) and may span lines inside quotes.
-- ${NAME} refers to a name set earlier: a key (from this file, the global
-- file or its default) or a helper variable.  A name that is not a key is
-- accepted only if this same file uses it later, so a misspelt key is
-- never silently ignored.
local util = require "base.util"

local byte, find, sub, match = string.byte, string.find, string.sub,
	string.match
local format = string.format

local M = {}

local SHELL = "the file is parsed, not run by a shell"
local MAXVALUE = 1024 * 1024	-- bytes in one value, after expansion

-- Characters sh gives a meaning outside quotes: command lists, pipes,
-- redirections, subshells, command substitution.
local META = { [59] = ";", [124] = "|", [38] = "&", [60] = "<", [62] = ">",
	[40] = "(", [41] = ")", [96] = "`" }

-- The bytes that end a run of plain unquoted text: each one has its own
-- branch in value().  Spelt out byte by byte (no %s or %c, which follow
-- the C locale), so the pattern and the branches agree on every byte
-- value 0-255 and the scan always moves on.
local PLAIN_END = "[\0-\31\127 '\"\\$;|&<>()`]"
-- Control bytes a value may not hold (tab and newline are text; NUL and
-- CR are refused in the whole file before parsing).  A vertical tab or
-- form feed is white space to sh but not to QEMU's option parser, and
-- an escape sequence in a path would reach terminals through messages.
local CONTROL = "[\0-\8\11-\31\127]"
local CONTROL_NAME = { [0] = "NUL", [7] = "bell", [8] = "backspace",
	[11] = "vertical tab", [12] = "form feed", [13] = "carriage return",
	[27] = "escape", [127] = "delete" }

local function control_text(c)
	local name = CONTROL_NAME[c]
	return format("control character 0x%02x%s", c,
		name and " (" .. name .. ")" or "")
end

-- Source text quoted in a message, with control bytes as \xNN so that
-- a message never carries them to a terminal.
local function visible(s)
	return (s:gsub(CONTROL, function(ch)
		return format("\\x%02x", byte(ch))
	end))
end

-- Raises "FILE:LINE: KEY: message" (without KEY when there is none).
function M.fail(file, line, key, fmt, ...)
	if key then
		util.die("%s:%d: %s: %s", file, line, key, format(fmt, ...))
	end
	util.die("%s:%d: %s", file, line, format(fmt, ...))
end
local fail = M.fail

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
-- schema.keys lists the keys in order, schema.known is their set and
-- schema.reserved maps names no file may set to the reason.
function M.parse(src, file, st, schema)
	local vars, origin = st.vars, st.origin
	local known, reserved = schema.known, schema.reserved
	local pending, used = {}, {}
	local n = #src
	local line, key, buf, nb, vl

	local cr = find(src, "\r", 1, true)
	if cr then
		local _, k = sub(src, 1, cr):gsub("\n", "")
		fail(file, k + 1, nil, "carriage return in the file " ..
			"(DOS line endings?); remove them with: tr -d '\\r'")
	end
	-- A NUL would cut the value short where it meets C: a disk path
	-- "/a\0,b" is checked, and given to QEMU, as "/a".
	local nul = find(src, "\0", 1, true)
	if nul then
		local _, k = sub(src, 1, nul):gsub("\n", "")
		fail(file, k + 1, nil, "NUL byte in the file (not a text file?)")
	end

	-- size bounds the value: B="${A}${A}", C="${B}${B}"... doubles it
	-- at each line and would eat all memory.
	local size
	local function add(piece)
		size = size + #piece
		if size > MAXVALUE then
			fail(file, line, key, "value longer than %d bytes", MAXVALUE)
		end
		nb = nb + 1
		buf[nb] = piece
	end

	-- A piece of a value as written in the file from line at: refused
	-- where it holds a control byte, at that byte's own line.
	local function no_control(piece, at)
		local i = find(piece, CONTROL)
		if i then
			local _, k = sub(piece, 1, i - 1):gsub("\n", "")
			fail(file, at + k, key, "%s in the value",
				control_text(byte(piece, i)))
		end
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
				visible(match(src, "^%${[^}\n]*}?", p)), SHELL)
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
				no_control(piece, line)
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
				no_control(piece, line)
				add(piece)
				line = count_lines(piece, line, vl, true)
				p = e + 1
			elseif c == 34 then
				p = dquote(p)
			elseif c == 92 then
				local d = sub(src, p + 1, p + 1)
				if d == "\n" then
					line = line + 1
				else
					no_control(d, line)
					-- At the end of the file: a backslash, as sh keeps it.
					add(d ~= "" and d or "\\")
				end
				p = math.min(p + 2, n + 1)
			elseif c == 36 then
				p = expand(p)
			elseif META[c] then
				fail(file, line, key, "'%s' is not allowed here: %s",
					META[c], SHELL)
			elseif c < 32 or c == 127 then
				fail(file, line, key, "%s in the value", control_text(c))
			else
				-- src[p] is plain text (every byte of PLAIN_END has a
				-- branch above): the run goes at least one byte on.
				local e = find(src, PLAIN_END, p + 1) or n + 1
				add(sub(src, p, e - 1))
				p = e
			end
		end
	end

	local function assignment(start)
		-- "export" changes nothing here; accepted for files written for sh.
		local p = byte(src, start) == 101 and
			match(src, "^export[ \t]+()", start) or start
		local k, q = match(src, "^([%a_][%w_]*)=()", p)
		if not k then
			local c = byte(src, p)
			if c and (c < 32 or c == 127) then
				fail(file, line, nil, "%s where a KEY=value should start",
					control_text(c))
			end
			fail(file, line, nil, "expected KEY=value, found '%s' (%s)",
				visible(match(src, "^[^\n]*", start)), SHELL)
		end
		key = k
		if reserved[k] then fail(file, line, k, "%s", reserved[k]) end
		if not known[k] and not pending[k] then pending[k] = line end
		local first = line
		buf, nb, vl, size = {}, 0, { line }, 0
		p = value(q)
		local v = nb == 1 and buf[1] or table.concat(buf, "", 1, nb)
		vars[k] = v
		-- from, to: the bytes of "KEY=value" in src, for conf/edit.
		if known[k] then
			origin[k] = { file = file, line = first, lines = vl,
				from = start, to = p - 1 }
		end
		-- After the value: only blanks and a comment.
		local r = match(src, "^[ \t]*()", p)
		local c = byte(src, r)
		if c == 35 and r > p then
			r = find(src, "\n", r, true) or n + 1
		elseif META[c] then
			fail(file, line, k, "'%s' is not allowed here: %s", META[c], SHELL)
		elseif c ~= nil and c ~= 10 and (c < 32 or c == 127) then
			fail(file, line, k, "%s after the value", control_text(c))
		elseif c ~= nil and c ~= 10 then
			fail(file, line, k, "unexpected '%s' after the value " ..
				"(quote a value that contains spaces)",
				visible(match(src, "^[^ \t\n]*", r)))
		end
		return r
	end

	-- Few calls per line: list parses every VM's file.
	local p = 1
	line = 1
	while p <= n do
		local c = byte(src, p)
		if c == 10 then
			line = line + 1
			p = p + 1
		elseif c == 35 then
			p = find(src, "\n", p, true) or n + 1
		elseif c == 32 or c == 9 then
			p = match(src, "^[ \t]*()", p)
		else
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
		local s = util.closest(bad:upper(), schema.keys)
		if s then
			fail(file, badline, bad, "unknown key %s (did you mean %s?)", bad, s)
		end
		fail(file, badline, bad, "unknown key %s (not a setting, and not " ..
			"used later in this file as ${%s})", bad, bad)
	end
end

-- A value as this file format writes it: bare when it is plain,
-- else in double quotes with \, ", $ and ` escaped.  nil, message for
-- a control byte other than a tab or newline, which no value may hold.
function M.quote(v)
	if find(v, "[\0-\8\11-\31\127]") then
		return nil, "a control character cannot be written to a config"
	end
	if v ~= "" and not find(v, "[^%w%%+,./:=@_-]") then return v end
	return '"' .. v:gsub('[\\"$`]', "\\%0") .. '"'
end

-- Splits a string into words the way sh would, honouring '...', "..." and
-- backslashes, but expanding nothing.  Returns nil, message on an
-- unterminated quote.
function M.split_words(s)
	local words, p, n = {}, 1, #s
	while true do
		p = match(s, "^[ \t\n\r\v\f]*()", p)
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
				p = math.min(p + 2, n + 1)
			elseif c == 32 or (c >= 9 and c <= 13) then
				break
			else
				-- As in value(): s[p] is a word byte, so at least it is
				-- taken, whatever the bytes are.
				local e = find(s, "[ \t\n\r\v\f'\"\\]", p + 1) or n + 1
				nb = nb + 1
				buf[nb] = sub(s, p, e - 1)
				p = e
			end
		end
		words[#words + 1] = table.concat(buf, "", 1, nb)
	end
end

return M
