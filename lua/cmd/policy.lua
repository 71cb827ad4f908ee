-- policy list | policy show [--builtin] NAME: which policies exist,
-- where each comes from (built in, or the user's file overriding it),
-- which VMs use it; and the source a user copies to write an override.
local core = require "nvq.core"
local paths = require "base.paths"
local userlua = require "ulua.runner"
local util = require "base.util"
local vmarg = require "vm.arg"

-- Every policy name: the built-in ones and the user's files.
local function names()
	local seen, out = {}, {}
	local function add(n)
		if not seen[n] then
			seen[n] = true
			out[#out + 1] = n
		end
	end
	for _, n in ipairs(userlua.builtin_policies()) do add(n) end
	local dir = paths.confdir() .. "/policies"
	for _, f in ipairs(core.readdir(dir) or {}) do
		local n = f:match("^(.+)%.lua$")
		if n and userlua.valid_policy_name(n) then add(n) end
	end
	table.sort(out)
	return out
end

-- Who runs each policy: the VMs whose SHUTDOWN_POLICY names it; the
-- boot policy is startall's and stopall's.
local function users()
	local by = {}
	if userlua.find_policy("boot").builtin then
		by.boot = { "startall", "stopall" }
	end
	for _, name in ipairs(paths.vm_names()) do
		local cfg = vmarg.config(name, "list")
		local p = cfg and cfg.SHUTDOWN_POLICY
		if p then
			by[p] = by[p] or {}
			table.insert(by[p], name)
		end
	end
	return by
end

local function list()
	local by = users()
	local rows = { { "NAME", "SOURCE", "USED BY" } }
	for _, n in ipairs(names()) do
		local p = userlua.find_policy(n)
		local src = p.file and (p.file .. (p.builtin and
			" (overrides the built-in one)" or "")) or "built-in"
		rows[#rows + 1] = { n, src, by[n] and table.concat(by[n], " ") or "-" }
	end
	-- A VM naming a policy that exists nowhere is shown too, in order.
	local missing = {}
	for n in pairs(by) do
		local p = userlua.find_policy(n)
		if not p.file and not p.builtin then missing[#missing + 1] = n end
	end
	table.sort(missing)
	for _, n in ipairs(missing) do
		rows[#rows + 1] = { n, "missing", table.concat(by[n], " ") }
	end
	local w1, w2 = 4, 6
	for _, r in ipairs(rows) do
		w1, w2 = math.max(w1, #r[1]), math.max(w2, #r[2])
	end
	for _, r in ipairs(rows) do
		util.printf("%-" .. w1 .. "s  %-" .. w2 .. "s  %s\n", r[1], r[2], r[3])
	end
	return 0
end

local function show(name, builtin)
	if not userlua.valid_policy_name(name) then
		util.usage_error("invalid policy name '%s'", name)
	end
	local p = userlua.find_policy(name)
	if p.file and not builtin then
		local text = util.check(util.read_file(p.file))
		io.stdout:write(text)
		return 0
	end
	local text = userlua.builtin_source(name)
	if not text then
		util.die("no %spolicy named %s%s", builtin and "built-in " or "", name,
			builtin and "" or " (" .. userlua.policy_file(name) ..
			" does not exist and none is built in)")
	end
	io.stdout:write(text)
	return 0
end

return { run = function(pos, opts)
	if pos[1] == "list" then
		if pos[2] or opts.builtin then
			util.usage_error("policy list takes no name and no --builtin")
		end
		return list()
	elseif pos[1] == "show" then
		if not pos[2] then util.usage_error("policy show: missing name") end
		return show(pos[2], opts.builtin)
	end
	util.usage_error("policy: unknown subcommand '%s' (list or show)", pos[1])
end }
