-- layers.lua: every require in lua/, policies/ and examples/ against the
-- order doc/ARCHITECTURE.md writes down ("layers: ..."): a module requires
-- only its own folder and the folders before it; no cycle between
-- modules; user files (policies, examples) only what nvqctl-lua(7) lists.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"

local top = arg[1]

local USER_MODULES = { ["nvq.core"] = true, string = true, table = true,
	math = true, utf8 = true, os = true, io = true, coroutine = true,
	debug = true }

-- Modules from C or generated at build time, not files under lua/.
local BUILT_IN = { ["nvq.core"] = true, cjson = true,
	["core.example_conf"] = true }

local function read(path)
	local f = assert(io.open(path))
	local s = f:read("a")
	f:close()
	return s
end

local function order()
	local line = read(top .. "/doc/ARCHITECTURE.md"):match(
		"\n%s*layers:%s*([^\n]+)")
	assert(line, "doc/ARCHITECTURE.md has no 'layers:' line")
	local rank, n = {}, 0
	for w in line:gmatch("%S+") do n = n + 1; rank[w] = n end
	return rank
end

local function files()
	local out = {}
	local p = assert(io.popen("cd '" .. top .. "' && find lua policies " ..
		"examples -name '*.lua' | LC_ALL=C sort"))
	for f in p:lines() do out[#out + 1] = f end
	p:close()
	return out
end

local function requires(text)
	local out = {}
	-- Comments mention modules too; only code counts.
	text = text:gsub("%-%-%[(=*)%[.-%]%1%]", ""):gsub("%-%-[^\n]*", "")
	for m in text:gmatch("require%s*%(?%s*[\"']([%w_.]+)[\"']") do
		out[#out + 1] = m
	end
	return out
end

-- module name and folder of a file under lua/
local function module_of(file)
	local rel = file:match("^lua/(.+)%.lua$")
	if not rel then return nil end
	local m = rel:gsub("/", ".")
	return m, m:match("^([^.]+)%.") or m
end

-- check(tree, rank) -> list of problems; tree: file -> text
local function check(tree, rank)
	local bad, edges = {}, {}
	local names = {}
	for f in pairs(tree) do names[#names + 1] = f end
	table.sort(names)
	for _, f in ipairs(names) do
		local m, folder = module_of(f)
		for _, r in ipairs(requires(tree[f])) do
			if not m then
				if not USER_MODULES[r] then
					bad[#bad + 1] = f .. ": requires " .. r ..
						", which user code cannot have"
				end
			elseif not BUILT_IN[r] and not r:match("^policies%.") then
				local _, rf = module_of("lua/" .. r:gsub("%.", "/") ..
					".lua")
				if not rank[folder] then
					bad[#bad + 1] = f .. ": folder " .. folder ..
						" is not in the layers line"
				elseif not rank[rf] then
					bad[#bad + 1] = f .. ": requires " .. r ..
						", in no layer"
				elseif rank[rf] > rank[folder] then
					bad[#bad + 1] = f .. ": " .. folder .. " requires " ..
						r .. " of the later layer " .. rf
				end
				edges[m] = edges[m] or {}
				edges[m][#edges[m] + 1] = r
			end
		end
	end
	-- Cycles, by depth-first search.
	local state = {}
	local function visit(m, path)
		if state[m] == "done" then return end
		if state[m] == "open" then
			bad[#bad + 1] = "cycle: " .. table.concat(path, " -> ")
			return
		end
		state[m] = "open"
		for _, r in ipairs(edges[m] or {}) do
			path[#path + 1] = r
			visit(r, path)
			path[#path] = nil
		end
		state[m] = "done"
	end
	local mods = {}
	for m in pairs(edges) do mods[#mods + 1] = m end
	table.sort(mods)
	for _, m in ipairs(mods) do visit(m, { m }) end
	return bad
end

local rank = order()
local tree = {}
for _, f in ipairs(files()) do tree[f] = read(top .. "/" .. f) end
t.ok(tree["lua/main.lua"] and tree["policies/boot.lua"], "the tree is read")

local bad = check(tree, rank)
t.is(#bad, 0, "every require follows the documented order")
for _, b in ipairs(bad) do t.diag("%s", b) end

-- Every folder under lua/ is in the order.
for f in pairs(tree) do
	local _, folder = module_of(f)
	if folder and not rank[folder] then
		t.ok(false, "folder " .. folder .. " is in the layers line")
	end
end

-- No file name in two folders.
local seen, dup = {}, {}
for f in pairs(tree) do
	local base = f:match("^lua/.-([^/]+)$")
	if base and f:find("/", 5, true) then
		if seen[base] and seen[base] ~= f then dup[#dup + 1] = base end
		seen[base] = f
	end
end
t.is(#dup, 0, "no file name repeats across folders: " .. table.concat(dup,
	" "))

-- The check itself fails where it must.
local function planted(file, text)
	local copy = {}
	for k, v in pairs(tree) do copy[k] = v end
	copy[file] = (copy[file] or "") .. "\n" .. text .. "\n"
	return check(copy, rank)
end
local p = planted("lua/base/util.lua", 'local x = require "cmd.start"')
local found
for _, b in ipairs(p) do
	found = found or b:find("later layer cmd", 1, true) and b
end
t.ok(found, "an upward require is refused: " .. tostring(found))
p = planted("lua/base/paths.lua", 'local u = require "base.util"\n' ..
	'-- require "cmd.start" in a comment does not count')
t.is(#p, 0, "a require within the folder is fine, a comment is ignored")
local copy = {}
for k, v in pairs(tree) do copy[k] = v end
copy["lua/base/util.lua"] = copy["lua/base/util.lua"] ..
	'\nlocal x = require "base.paths"\n'
copy["lua/base/paths.lua"] = copy["lua/base/paths.lua"] ..
	'\nlocal y = require "base.util"\n'
p = check(copy, rank)
t.ok(#p >= 1 and p[1]:find("cycle", 1, true), "a cycle is refused: " ..
	tostring(p[1]))
p = planted("policies/boot.lua", 'local v = require "vm.handle"')
t.ok(#p == 1 and p[1]:find("user code cannot have", 1, true),
	"a policy requiring nvqctl's own module is refused")
p = planted("lua/newthing/x.lua", 'local u = require "base.util"')
t.ok(#p == 1 and p[1]:find("not in the layers line", 1, true),
	"a folder missing from the order is refused")

return t.done()
