-- list [--json]: every configured VM with its live state.
local core = require "nvq.core"
local jsonout = require "base.jsonout"
local paths = require "base.paths"
local poststop = require "vm.poststop"
local qmpbatch = require "proto.qmpbatch"
local recover = require "vm.recover"
local running = require "vm.running"
local savefile = require "vm.savefile"
local util = require "base.util"
local vm = require "vm.handle"
local vmarg = require "vm.arg"

local STATE_WAIT = 0.5	-- seconds all running VMs have to answer

local function entry(name)
	local cfg, why = vmarg.config(name, "list")
	if not cfg then
		util.warn("%s", why)
		return { name = name, state = "badconfig" }
	end
	local v = vm.open(name, cfg)
	local pid, why = v:alive()
	-- A pidfile that cannot be looked at (not root?) is not "stopped".
	local state = "stopped"
	if not pid and not vm.stopped(why) then
		util.warn("%s", why)
		state = "unknown"
	elseif not pid then
		poststop.notice(name)
		if savefile.saved(name) then state = "saved" end
	end
	recover.recover(v)
	-- A running VM has what it was started with, whatever its file says.
	local shown, pending = cfg, {}
	if pid then shown, pending = running.config(name, v.rt, cfg) end
	return { name = name, state = state, pid = pid, vm = v,
		vcpus = shown.NCPU, memory_mib = shown.MEMORY, accel = v:accel(),
		pending = pending }
end

-- Running VMs are asked together, so several wedged QEMUs cost one
-- STATE_WAIT, not one each.
local function live_states(vms)
	local running, socks, pidfiles = {}, {}, {}
	for _, e in ipairs(vms) do
		if e.pid then
			running[#running + 1] = e
			socks[#socks + 1] = paths.qmp_socket(e.vm.rt)
			pidfiles[#pidfiles + 1] = e.vm.rt.pidfile
		end
	end
	if #running == 0 then return end
	local jobs = qmpbatch.run(socks, { { execute = "query-status" } },
		core.now() + STATE_WAIT, pidfiles)
	for i, e in ipairs(running) do
		local r = jobs[i].replies[1]
		local st = r and r.ok and r.ok.status
		e.state = type(st) == "string" and st or "unresponsive"
	end
end

local function show(vms)
	if #vms == 0 then
		print("no VMs configured in " .. paths.vmconfdir())
		return
	end
	util.printf("%-20s %-12s %-8s %-5s %-7s %s\n",
		"NAME", "STATE", "PID", "VCPU", "MEM", "ACCEL")
	local any
	for _, e in ipairs(vms) do
		local mark = e.pending and #e.pending > 0
		any = any or mark
		util.printf("%-20s %s %-8s %-5s %-7s %s%s\n", e.name,
			util.colour(util.state_colour(e.state),
				string.format("%-12s", e.state)),
			e.pid or "-", e.vcpus or "-",
			e.memory_mib and e.memory_mib .. "M" or "-", e.accel or "-",
			mark and "  *" or "")
	end
	if any then
		print("* runs with the config it was started with; its file " ..
			"now differs (restart to apply)")
	end
end

return { run = function(_, opts)
	local vms = {}
	for _, name in ipairs(paths.vm_names_and_running()) do
		vms[#vms + 1] = entry(name)
	end
	live_states(vms)
	if opts.json then
		-- Every field on every entry: null where unknown (doc/json-schema.md).
		local opt, out = jsonout.opt, {}
		for i, e in ipairs(vms) do
			out[i] = { name = e.name, state = e.state, pid = opt(e.pid),
				vcpus = opt(e.vcpus), memory_mib = opt(e.memory_mib),
				accel = opt(e.accel),
				pending_change = jsonout.array(e.pending or {}) }
		end
		print(jsonout.encode(jsonout.array(out)))
	else
		show(vms)
	end
	-- A state that could not be read is a failure for a script asking.
	for _, e in ipairs(vms) do
		if e.state == "unknown" then return 1 end
	end
	return 0
end }
