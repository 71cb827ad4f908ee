-- list [--json]: every configured VM with its live state.
local config = require "config"
local jsonout = require "jsonout"
local paths = require "paths"
local util = require "util"
local vm = require "vm"

local STATE_WAIT = 0.5	-- seconds a running VM has to answer query-status

local function entry(name)
	local ok, cfg = pcall(config.load, name, "list")
	if not ok then
		util.warn("%s", util.is_failure(cfg) and cfg.msg or tostring(cfg))
		return { name = name, state = "badconfig" }
	end
	local v = vm.open(name, cfg)
	local state, pid = v:state(STATE_WAIT)
	return { name = name, state = state, pid = pid, vcpus = cfg.NCPU,
		memory_mib = cfg.MEMORY, accel = cfg.accel }
end

local function show(vms)
	if #vms == 0 then
		print("no VMs configured in " .. paths.vmconfdir())
		return
	end
	util.printf("%-20s %-12s %-8s %-5s %-7s %s\n",
		"NAME", "STATE", "PID", "VCPU", "MEM", "ACCEL")
	for _, e in ipairs(vms) do
		local colour = e.state == "running" and "green"
			or e.state == "stopped" and "red" or "yellow"
		util.printf("%-20s %s %-8s %-5s %-7s %s\n", e.name,
			util.colour(colour, string.format("%-12s", e.state)),
			e.pid or "-", e.vcpus or "-",
			e.memory_mib and e.memory_mib .. "M" or "-", e.accel or "-")
	end
end

return { run = function(_, opts)
	local vms = {}
	for _, name in ipairs(paths.vm_names()) do vms[#vms + 1] = entry(name) end
	if opts.json then
		-- Every field on every entry: null where unknown (doc/json-schema.md).
		local opt, out = jsonout.opt, {}
		for i, e in ipairs(vms) do
			out[i] = { name = e.name, state = e.state, pid = opt(e.pid),
				vcpus = opt(e.vcpus), memory_mib = opt(e.memory_mib),
				accel = opt(e.accel) }
		end
		print(jsonout.encode(jsonout.array(out)))
	else
		show(vms)
	end
	return 0
end }
