-- proto/qmptext.lua: QMP requests and replies as text, for the commands a
-- person types (monitor, qmp, agent).  Requests are built as text so
-- that arguments reach QEMU exactly as written (see jsontext.lua), and
-- replies are printed from the text QEMU sent.
local jsontext = require "proto.jsontext"
local util = require "base.util"

local find, sub, match = string.find, string.sub, string.match

local M = {}

-- decode(text) -> value | nil, message
function M.decode(text)
	local ok, v = pcall(util.json().decode, text)
	if not ok then
		return nil, (tostring(v):gsub("^.-: ", "", 1))
	end
	return v
end

-- A JSON object given as text: true, or nil and why not.
function M.check_object(text)
	local v, err = M.decode(text)
	if v == nil then return nil, err end
	-- cjson 2.1 makes [] and {} the same table: look at the text.
	if type(v) ~= "table" or match(text, "^%s*(.)") ~= "{" then
		return nil, "not a JSON object"
	end
	return true
end

-- request(cmd, args_text, id) -> one line of JSON text.  args_text,
-- already checked, is copied as it is; empty arguments are left out.
function M.request(cmd, args_text, id)
	local json = util.json()
	local parts = { '{"execute":', json.encode(cmd) }
	if args_text and match(args_text, "^%s*{%s*}%s*$") == nil then
		parts[#parts + 1] = ',"arguments":' .. args_text
	end
	if id then parts[#parts + 1] = ',"id":' .. json.encode(id) end
	parts[#parts + 1] = "}"
	return table.concat(parts)
end

local function json_number(w)
	local rest = match(w, "^%-?%d+(.*)$")
	if rest == nil or (find(w, "^%-?0%d")) then return false end
	rest = match(rest, "^%.%d+(.*)$") or rest
	rest = match(rest, "^[eE][+-]?%d+(.*)$") or rest
	return rest == ""
end

local BARE = { ["true"] = true, ["false"] = true, ["null"] = true }

-- One value of the short form starting at i: its JSON text and the
-- index after it, or nil and a message.  "..." is a JSON string, '...'
-- a literal one, {...} and [...] JSON; a bare word is a number, true,
-- false or null where it is one, else a string.
local function short_value(line, i)
	local c = sub(line, i, i)
	local text, e
	if c == "'" then
		e = find(line, "'", i + 1, true)
		if not e then return nil, "unterminated ' quote" end
		text = util.json().encode(sub(line, i + 1, e - 1))
	elseif c == '"' or c == "{" or c == "[" then
		e = jsontext.value_end(line, i)
		if not e then return nil, "unterminated " .. c end
		text = sub(line, i, e)
		local _, err = M.decode(text)
		if err then return nil, "invalid JSON " .. text .. ": " .. err end
	else
		e = (find(line, "%s", i) or #line + 1) - 1
		local w = sub(line, i, e)
		text = (BARE[w] or json_number(w)) and w or util.json().encode(w)
	end
	if e < #line and not find(sub(line, e + 1, e + 1), "%s") then
		return nil, "expected a space after " .. sub(line, i, e)
	end
	return text, e + 1
end

-- Short form: "cmd key=value ...".  Returns cmd, args text | nil, why.
local function short_form(line)
	local cmd, i = match(line, "^([%w_%-]+)()")
	if not cmd then return nil, "expected a command name or a JSON object" end
	local args, seen = {}, {}
	while true do
		i = find(line, "%S", i)
		if not i then break end
		local key, vi = match(line, "^([%w_.%-]+)=()", i)
		if not key then
			return nil, "expected key=value at '" .. sub(line, i) .. "'"
		end
		if seen[key] then return nil, "argument " .. key .. " given twice" end
		seen[key] = true
		local text, nexti = short_value(line, vi)
		if not text then return nil, key .. ": " .. nexti end
		args[#args + 1] = util.json().encode(key) .. ":" .. text
		i = nexti
	end
	return cmd, "{" .. table.concat(args, ",") .. "}"
end

-- parse_line(line, id) -> request text, id text, command name | nil
-- (nothing to send) | false, message.  Raw JSON keeps its own id.
function M.parse_line(line, id)
	line = match(line, "^%s*(.-)%s*$")
	if line == "" or sub(line, 1, 1) == "#" then return nil end
	if sub(line, 1, 1) ~= "{" then
		local cmd, args = short_form(line)
		if not cmd then return false, args end
		return M.request(cmd, args, id), util.json().encode(id), cmd
	end
	local ok, err = M.check_object(line)
	if not ok then return false, "invalid JSON: " .. err end
	local v = util.json().decode(line)
	if type(v.execute) ~= "string" then
		return false, 'a QMP command needs "execute"'
	end
	local own = jsontext.member(line, "id")
	if own then return line, jsontext.compact(own), v.execute end
	return '{"id":' .. util.json().encode(id) .. "," .. sub(line, 2),
		util.json().encode(id), v.execute
end

-- classify(line) -> kind, message table, id text: kind is "event",
-- "reply", "greeting" or "garbage".  Garbage comes with its table when
-- the line is JSON, just not a QMP message: a QMP client may skip that,
-- where a line that is no JSON at all means the peer is no QMP server.
function M.classify(line)
	local msg = M.decode(line)
	if type(msg) ~= "table" then return "garbage" end
	if msg.event ~= nil then return "event", msg end
	if msg.QMP ~= nil then return "greeting", msg end
	if msg["return"] == nil and msg.error == nil then return "garbage", msg end
	local id = jsontext.member(line, "id")
	return "reply", msg, id and jsontext.compact(id)
end

-- The error of a reply as "CLASS: description".
function M.error_text(msg)
	local e = type(msg.error) == "table" and msg.error or {}
	return util.printable(string.format("%s: %s",
		tostring(e.class or "Error"), tostring(e.desc or "(no description)")))
end

-- A reply's return value, pretty.
function M.return_text(line)
	local r = jsontext.member(line, "return")
	-- Pretty JSON keeps a string's bytes as the peer sent them (raw
	-- control bytes included, which lua-cjson accepts): escape them,
	-- keeping the newlines the pretty-printer itself puts.
	return r and M.printable_lines(jsontext.pretty(r)) or "{}"
end

-- "event: NAME" and the data, pretty, when there is any.
function M.event_text(line, msg)
	local data = jsontext.member(line, "data")
	local s = "event: " .. tostring(msg.event)
	if data and not match(data, "^{%s*}$") then
		s = s .. " " .. jsontext.pretty(data)
	end
	return M.printable_lines(s)
end

-- Text of several lines made of peer text: each line escaped.
function M.printable_lines(s)
	return (s:gsub("[^\n]+", util.printable))
end

return M
