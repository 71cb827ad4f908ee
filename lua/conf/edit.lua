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

-- src with entry added as the last line of key's list value.  When the
-- file's assignment is a double-quoted value ending in a newline, the
-- entry goes in before the closing quote, so that the lines above keep
-- their ${NAME}s; else the whole list (all, an array of entries) is
-- written by set().
function M.add_entry(src, file, key, entry, all)
	local at, err = config.assignment(src, file, key)
	if at == nil then return nil, err end
	local q, qerr = syntax.quote(entry)
	if not q then return nil, string.format("%s: %s", key, qerr) end
	if at and src:sub(at.to - 1, at.to) == '\n"' and q:sub(1, 1) ~= '"' then
		return src:sub(1, at.to - 1) .. "\t" .. q .. "\n" .. src:sub(at.to)
	end
	return M.set(src, file, key, M.list(all))
end

-- A name set only to be used in a value set() replaced (VMDIR in
-- DISKS="${VMDIR}/root.img") is now used nowhere, which the file format
-- refuses as a likely misspelt key: its line is commented out.  text
-- checked as the config of VM name, or nil, message.
function M.settle(text, name, file)
	for _ = 1, 32 do
		local ok, err = config.check_text(text, name, file)
		if ok then return text end
		-- Only a name never used gets "unknown key" (conf/syntax).
		local n = tonumber(tostring(err):match(":(%d+): [%w_]+: unknown " ..
			"key [%w_]+ %("))
		local s = n and select(2, text:find("^" .. ("[^\n]*\n"):rep(n - 1)))
		if not s or text:find("^[%w_]+=[^\n\"']*\n", s + 1) ~= s + 1 then
			return nil, err
		end
		text = text:sub(1, s) .. "# unused now: " .. text:sub(s + 1)
	end
	return nil, file .. ": too many unused names"
end

-- A list value as set() writes it: one entry a line, indented.
function M.list(entries)
	if #entries == 0 then return "" end
	return "\n\t" .. table.concat(entries, "\n\t") .. "\n"
end

return M
