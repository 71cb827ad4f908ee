-- hooks <vm>: the hook files that apply to a VM, the phases they export
-- and what is wrong with them (permissions, syntax, unknown phases),
-- without calling any phase or running any program.
local hooks = require "ulua.phases"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos)
	local v = util.check(vmarg.open(pos[1]))
	local bad = 0
	if v.cfg.PRE_START and v.cfg.PRE_START ~= "" then
		util.printf("%-40s pre_start (PRE_START, runs first)\n",
			v.cfg.PRE_START)
	end
	for _, r in ipairs(hooks.check(v.name)) do
		local what
		if not r.exists then
			what = "(none)"
		elseif #r.phases > 0 then
			what = table.concat(r.phases, " ")
		else
			what = #r.problems > 0 and "(not usable)" or "(no phases)"
		end
		util.printf("%-40s %s\n", r.file, what)
		for _, p in ipairs(r.problems) do
			bad = bad + 1
			util.printf("  problem: %s\n", p)
		end
	end
	util.printf("timeout per call: %ds (HOOK_TIMEOUT)\n", v.cfg.HOOK_TIMEOUT)
	return bad > 0 and 1 or 0
end }
