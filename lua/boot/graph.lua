-- boot/graph.lua: the graph BOOT_AFTER and BOOT_REQUIRES draw between
-- VMs.  check() refuses, before anything is started, a graph startall
-- could not follow: a name that is no configured VM, a VM waiting for
-- itself, a cycle.  relations() and order() give the orchestrator and
-- the boot policy the edges among the VMs one startall acts on.
--
-- An edge "a -> b" means a waits for b (a's BOOT_AFTER or BOOT_REQUIRES
-- names b).  Everything is visited in sorted order, so the same configs
-- always give the same messages and the same order.
local util = require "base.util"

local M = {}

local KEYS = { "BOOT_AFTER", "BOOT_REQUIRES" }

local function sorted_keys(t)
	local out = {}
	for k in pairs(t) do out[#out + 1] = k end
	table.sort(out)
	return out
end

-- "file:line: KEY" for the place cfg names dep under key.  config.load
-- records it in cfg.boot_lines; a cfg built by hand may lack it.
local function where(cfg, key, dep)
	local bl = cfg.boot_lines and cfg.boot_lines[key]
	local file = bl and bl.file or cfg.file or "(" .. tostring(cfg.name) .. ")"
	local line = bl and (bl.names[dep] or bl.line) or 0
	return string.format("%s:%d: %s", file, line, key)
end

local function suggest(name, names)
	local best = util.closest(name, names)
	return best and " (did you mean " .. best .. "?)" or ""
end

-- The edges of name: { dep = key } with the first key naming it
-- (BOOT_AFTER before BOOT_REQUIRES), and the sorted deps.
local function edges(cfg)
	local e = {}
	for _, key in ipairs(KEYS) do
		for _, dep in ipairs(cfg[key] or {}) do
			if not e[dep] then e[dep] = key end
		end
	end
	return e, sorted_keys(e)
end

-- One cycle through start inside the strongly connected component comp
-- (a set), as a list of names ending with start again: depth first,
-- sorted, so the cycle reported is always the same.
local function cycle_from(cfgs, start, comp)
	local path, on = { start }, { [start] = true }
	local function walk(n)
		local _, deps = edges(cfgs[n])
		for _, d in ipairs(deps) do
			if d == start then
				path[#path + 1] = d
				return true
			end
			if comp[d] and not on[d] then
				on[d] = true
				path[#path + 1] = d
				if walk(d) then return true end
				path[#path] = nil
			end
		end
		return false
	end
	walk(start)
	return path
end

-- Tarjan's strongly connected components over the configured names;
-- edges to unknown names are left out (reported on their own).
local function components(cfgs, names)
	local index, low, onstack, stack, out, n = {}, {}, {}, {}, {}, 0
	local function visit(v)
		n = n + 1
		index[v], low[v] = n, n
		stack[#stack + 1] = v
		onstack[v] = true
		local _, deps = edges(cfgs[v])
		for _, w in ipairs(deps) do
			if cfgs[w] and w ~= v then
				if not index[w] then
					visit(w)
					low[v] = math.min(low[v], low[w])
				elseif onstack[w] then
					low[v] = math.min(low[v], index[w])
				end
			end
		end
		if low[v] == index[v] then
			local comp, size = {}, 0
			repeat
				local w = table.remove(stack)
				onstack[w] = nil
				comp[w] = true
				size = size + 1
			until w == v
			if size > 1 then out[#out + 1] = comp end
		end
	end
	for _, v in ipairs(names) do
		if not index[v] then visit(v) end
	end
	return out
end

-- cfgs maps VM name -> cfg (config.load's).  true, or nil and every
-- problem found, one per line, sorted by VM name.
function M.check(cfgs)
	local names = sorted_keys(cfgs)
	local errs = {}
	for _, name in ipairs(names) do
		local cfg = cfgs[name]
		for _, key in ipairs(KEYS) do
			for _, dep in ipairs(cfg[key] or {}) do
				if dep == name then
					errs[#errs + 1] = string.format("%s: %s waits for " ..
						"itself", where(cfg, key, dep), name)
				elseif not cfgs[dep] then
					errs[#errs + 1] = string.format("%s: no such VM: %s%s",
						where(cfg, key, dep), dep, suggest(dep, names))
				end
			end
		end
	end
	local comps = components(cfgs, names)
	local cycles = {}
	for _, comp in ipairs(comps) do
		local start = sorted_keys(comp)[1]
		local path = cycle_from(cfgs, start, comp)
		local e = edges(cfgs[start])
		local also = {}
		for i = 2, #path - 1 do
			local ei = edges(cfgs[path[i]])
			also[#also + 1] = string.format("%s -> %s at %s", path[i],
				path[i + 1], where(cfgs[path[i]], ei[path[i + 1]],
				path[i + 1]))
		end
		cycles[#cycles + 1] = { start = start, msg = string.format(
			"%s: cycle: %s (%s)", where(cfgs[start], e[path[2]], path[2]),
			table.concat(path, " -> "), table.concat(also, "; ")) }
	end
	table.sort(cycles, function(a, b) return a.start < b.start end)
	for _, c in ipairs(cycles) do errs[#errs + 1] = c.msg end
	if #errs > 0 then return nil, table.concat(errs, "\n") end
	return true
end

-- cycle(cfgs, name) -> the names of one cycle through name (ending
-- with name again), or nil when name is in none.
function M.cycle(cfgs, name)
	for _, comp in ipairs(components(cfgs, sorted_keys(cfgs))) do
		if comp[name] then return cycle_from(cfgs, name, comp) end
	end
	return nil
end

-- The relations among the VMs of one startall or stopall.  names is an
-- array or a set of selected VM names, all in cfgs.  Returns a table
-- name -> { after = {...}, requires = {...}, dependants = {...},
-- outside = {...} }, each a sorted array of names:
--   after      selected VMs this one waits for (BOOT_AFTER or
--              BOOT_REQUIRES: both wait; requires says which also skip);
--   requires   selected VMs in its BOOT_REQUIRES;
--   dependants selected VMs that wait for this one (stopall stops them
--              first);
--   outside    VMs it names that are not selected (the caller decides:
--              BOOT_AFTER on them is ignored; a BOOT_REQUIRES one that
--              already runs counts once it is ready).
function M.relations(cfgs, names)
	local sel = {}
	if #names > 0 then
		for _, n in ipairs(names) do sel[n] = true end
	else
		for n in pairs(names) do sel[n] = true end
	end
	local rel = {}
	for n in pairs(sel) do
		rel[n] = { after = {}, requires = {}, dependants = {}, outside = {} }
	end
	local sets = {}
	for n in pairs(sel) do
		local cfg = assert(cfgs[n], "bootgraph.relations: unknown VM " .. n)
		local s = { after = {}, requires = {}, outside = {} }
		for _, key in ipairs(KEYS) do
			for _, dep in ipairs(cfg[key] or {}) do
				if dep == n then
					-- check() refuses it; never wait for oneself.
				elseif sel[dep] then
					s.after[dep] = true
					if key == "BOOT_REQUIRES" then s.requires[dep] = true end
				else
					s.outside[dep] = true
				end
			end
		end
		sets[n] = s
	end
	for n, s in pairs(sets) do
		rel[n].after = sorted_keys(s.after)
		rel[n].requires = sorted_keys(s.requires)
		rel[n].outside = sorted_keys(s.outside)
		for d in pairs(s.after) do
			local dl = rel[d].dependants
			dl[#dl + 1] = n
		end
	end
	for _, r in pairs(rel) do table.sort(r.dependants) end
	return rel
end

-- The selected names in an order startall can follow one at a time:
-- every VM after those it waits for, otherwise by BOOT_ORDER, then
-- name.  nil and a message if the selection holds a cycle (check()
-- reports it with its lines).
function M.order(cfgs, names)
	local rel = M.relations(cfgs, names)
	local left, ready, out = {}, {}, {}
	for n, r in pairs(rel) do
		left[n] = #r.after
		if left[n] == 0 then ready[#ready + 1] = n end
	end
	local function before(a, b)
		local oa, ob = cfgs[a].BOOT_ORDER or 100, cfgs[b].BOOT_ORDER or 100
		if oa ~= ob then return oa < ob end
		return a < b
	end
	while #ready > 0 do
		table.sort(ready, before)
		local n = table.remove(ready, 1)
		out[#out + 1] = n
		for _, d in ipairs(rel[n].dependants) do
			left[d] = left[d] - 1
			if left[d] == 0 then ready[#ready + 1] = d end
		end
	end
	local total = 0
	for _ in pairs(rel) do total = total + 1 end
	if #out < total then
		return nil, "BOOT_AFTER/BOOT_REQUIRES form a cycle"
	end
	return out
end

return M
