-- proto/jsontext.lua: JSON kept as text.  lua-cjson 2.1 decodes every number
-- to a double (and encodes 14 digits), makes [] and {} the same empty
-- table and forgets member order; what QEMU and the agent send is shown
-- and forwarded as the text they sent, so none of that is lost.  The
-- text is assumed valid: callers check it with cjson first.
local find, sub, rep = string.find, string.sub, string.rep

local M = {}

-- Index of the closing quote of the string literal opening at i.
local function string_end(s, i)
	local j = i + 1
	while true do
		local k = find(s, '[\\"]', j)
		if not k then return nil end
		if sub(s, k, k) == '"' then return k end
		j = k + 2
	end
end

-- Index of the last byte of the value starting at i.
local function value_end(s, i)
	local c = sub(s, i, i)
	if c == '"' then return string_end(s, i) end
	if c ~= "{" and c ~= "[" then
		local e = find(s, "[%s,:%]}]", i)
		return (e or #s + 1) - 1
	end
	local depth, j = 0, i
	while true do
		local k = find(s, '[%[%]{}"]', j)
		if not k then return nil end
		local d = sub(s, k, k)
		if d == '"' then
			k = string_end(s, k)
			if not k then return nil end
		elseif d == "{" or d == "[" then
			depth = depth + 1
		else
			depth = depth - 1
			if depth == 0 then return k end
		end
		j = k + 1
	end
end
M.value_end = value_end

-- reformat(s, indent): indent nil gives the compact form (for comparing
-- ids); empty objects and arrays stay on one line.
local function reformat(s, indent)
	local out, depth, i, n = {}, 0, 1, #s
	local function newline()
		if indent then out[#out + 1] = "\n" .. rep(indent, depth) end
	end
	while i <= n do
		local c = sub(s, i, i)
		if c == '"' then
			local e = string_end(s, i) or n
			out[#out + 1] = sub(s, i, e)
			i = e + 1
		elseif c == "{" or c == "[" then
			local close = c == "{" and "}" or "]"
			local j = find(s, "%S", i + 1)
			if j and sub(s, j, j) == close then
				out[#out + 1] = c .. close
				i = j + 1
			else
				depth = depth + 1
				out[#out + 1] = c
				newline()
				i = i + 1
			end
		elseif c == "}" or c == "]" then
			depth = depth - 1
			newline()
			out[#out + 1] = c
			i = i + 1
		elseif c == "," then
			out[#out + 1] = ","
			newline()
			i = i + 1
		elseif c == ":" then
			out[#out + 1] = indent and ": " or ":"
			i = i + 1
		elseif find(c, "%s") then
			i = i + 1
		else
			local e = value_end(s, i)
			out[#out + 1] = sub(s, i, e)
			i = e + 1
		end
	end
	return table.concat(out)
end

function M.pretty(s) return reformat(s, "  ") end
function M.compact(s) return reformat(s, nil) end

-- member(s, key) -> the text of a top-level object member | nil.
-- Keys are compared as written, which is enough for QMP's plain names.
function M.member(s, key)
	local i = find(s, "%S")
	if not i or sub(s, i, i) ~= "{" then return nil end
	i = i + 1
	while true do
		i = find(s, "%S", i)
		if not i or sub(s, i, i) ~= '"' then return nil end
		local ke = string_end(s, i)
		if not ke then return nil end
		local k = sub(s, i + 1, ke - 1)
		i = find(s, "%S", ke + 1)
		if not i or sub(s, i, i) ~= ":" then return nil end
		i = find(s, "%S", i + 1)
		if not i then return nil end
		local ve = value_end(s, i)
		if not ve then return nil end
		if k == key then return sub(s, i, ve) end
		i = find(s, "%S", ve + 1)
		if not i or sub(s, i, i) ~= "," then return nil end
		i = i + 1
	end
end

return M
