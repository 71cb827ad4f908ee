-- conf/edit.lua: changes one key of a config file's text and leaves
-- every other byte as it was: what create, clone and "disk add" write.
local config = require "conf.load"
local syntax = require "conf.syntax"

local M = {}

-- src with key set to value (a string: several lines for a list).
-- The file's last assignment of key is replaced; else a commented-out
-- "#KEY=" line (the example's defaults) becomes the assignment; else
-- it is appended.  nil, message when src does not parse or value
-- cannot be written.
function M.set(src, file, key, value)
	local q, qerr = syntax.quote(value)
	if not q then return nil, string.format("%s: %s", key, qerr) end
	local line = key .. "=" .. q
	local at, err = config.assignment(src, file, key)
	if at == nil then return nil, err end
	if at then
		return src:sub(1, at.from - 1) .. line .. src:sub(at.to + 1)
	end
	local s, e = src:find("\n#" .. key .. "=[^\n]*")
	if s then return src:sub(1, s) .. line .. src:sub(e + 1) end
	if src:sub(1, #key + 2) == "#" .. key .. "=" then
		return line .. src:sub((src:find("\n") or #src + 1))
	end
	if src ~= "" and src:sub(-1) ~= "\n" then src = src .. "\n" end
	return src .. line .. "\n"
end

-- As set(), for a key this nvqctl may not know yet (the text is not
-- parsed): the commented-out "#KEY=" line becomes it, else it is
-- appended.
function M.put(src, key, value)
	local q, qerr = syntax.quote(value)
	if not q then return nil, string.format("%s: %s", key, qerr) end
	local line = key .. "=" .. q
	local s, e = src:find("\n#" .. key .. "=[^\n]*")
	if s then return src:sub(1, s) .. line .. src:sub(e + 1) end
	if src ~= "" and src:sub(-1) ~= "\n" then src = src .. "\n" end
	return src .. line .. "\n"
end

-- A list value as set() writes it: one entry a line, indented.
function M.list(entries)
	if #entries == 0 then return "" end
	return "\n\t" .. table.concat(entries, "\n\t") .. "\n"
end

return M
