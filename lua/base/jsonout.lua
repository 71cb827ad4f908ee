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

return M
