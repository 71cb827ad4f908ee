-- cmd/snapshot.lua: nvqctl snapshot [--json] VM create|list|revert|delete
-- [NAME].
local arg = require "vm.arg"
local jsonout = require "base.jsonout"
local snapshot = require "vm.snapshots"
local util = require "base.util"

local M = {}

local OPS = { create = true, revert = true, delete = true }

local function list(v, json)
	local l = util.check(snapshot.list(v))
	if json then
		local out = {}
		for i, s in ipairs(l) do
			out[i] = { name = s.name, time = jsonout.opt(s.date),
				vm_state_bytes = s.vm_state_size or 0,
				vm_clock_s = jsonout.opt(s.vm_clock), disks = s.disks }
		end
		io.stdout:write(jsonout.encode({ vm = v.name,
			snapshots = jsonout.array(out) }), "\n")
		return 0
	end
	util.printf("%-20s %-19s %9s %s\n", "NAME", "DATE", "VM STATE", "DISKS")
	for _, s in ipairs(l) do
		util.printf("%-20s %-19s %9s %d\n", s.name,
			s.date and os.date("%Y-%m-%d %H:%M:%S", s.date) or "?",
			(s.vm_state_size or 0) > 0 and util.fmt_bytes(s.vm_state_size) or
			"-", #s.disks)
	end
	return 0
end

function M.run(pos, opts)
	local name, op, snap = pos[1], pos[2], pos[3]
	if op ~= "list" and not OPS[op] then
		util.usage_error("snapshot: unknown action %s (create, list, " ..
			"revert or delete)", tostring(op))
	end
	if op == "list" and snap then
		util.usage_error("snapshot: list takes no name")
	elseif op ~= "list" and not snap then
		util.usage_error("snapshot: %s needs a snapshot name", op)
	elseif op ~= "list" and opts.json then
		util.usage_error("snapshot: --json is for list")
	end
	local v = util.check(arg.open(name, "list"))
	if op == "list" then return list(v, opts.json) end
	util.check(v:lock())
	local _, how = util.check(snapshot.apply(v, op, snap))
	local did = { create = "created", revert = "reverted to",
		delete = "deleted" }
	util.printf("%s: %s snapshot %s (%s)\n", v.name, did[op], snap, how)
	return 0
end

return M
