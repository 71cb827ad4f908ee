-- base/jsonout.lua: the JSON documents nvqctl prints (list, status, top;
-- schema in doc/json-schema.md).  A stable schema needs two things
-- lua-cjson 2.1 cannot say on its own: a field whose value is null (a
-- nil field is simply left out) and an empty array (it encodes every
-- empty table as {}).
local util = require "base.util"

local M = {}

-- Marks an array that may be empty; replaced by [] after encoding.
local EMPTY = "\1nvq-empty-array\1"

function M.array(t)
	if next(t) == nil then return EMPTY end
	return t
end

-- v, or JSON null for nil.
function M.opt(v)
	if v == nil then return util.json().null end
	return v
end

-- x rounded to places decimals (0: to an integer), nil stays nil.
function M.round(x, places)
	if x == nil then return nil end
	local m = 10 ^ (places or 0)
	local v = math.floor(x * m + 0.5) / m
	return math.tointeger(v) or v
end

function M.encode(doc)
	local marker = util.json().encode(EMPTY):gsub("%p", "%%%0")
	return (util.to_json(doc):gsub(marker, "[]"))
end

-- decode(text) -> value | nil, why: a document nvqctl printed (another
-- nvqctl's, read back by -H), its empty arrays kept as such so that it
-- encodes again as it was.  A scan outside strings marks each "[]".
function M.decode(text)
	local marker = util.json().encode(EMPTY)
	local out, i, n = {}, 1, #text
	local from = 1
	while i <= n do
		local c = text:sub(i, i)
		if c == '"' then
			-- To the closing quote, past escaped characters.
			local j = i + 1
			while j <= n do
				local d = text:sub(j, j)
				if d == "\\" then j = j + 1 elseif d == '"' then break end
				j = j + 1
			end
			i = j + 1
		elseif c == "[" then
			local j = text:find("[^ \t\r\n]", i + 1)
			if j and text:sub(j, j) == "]" then
				out[#out + 1] = text:sub(from, i - 1)
				out[#out + 1] = marker
				from, i = j + 1, j + 1
			else
				i = i + 1
			end
		else
			i = i + 1
		end
	end
	out[#out + 1] = text:sub(from)
	local ok, v = pcall(util.json().decode, table.concat(out))
	if not ok then return nil, tostring(v) end
	return v
end

return M
