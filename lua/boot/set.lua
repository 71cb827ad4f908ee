-- boot/set.lua: the VMs a startall or stopall acts on, with their
-- configs, checked as a whole (unknown names, self-requirements,
-- cycles) before anything is started or stopped.
local bootgraph = require "boot.graph"
local config = require "conf.load"
local paths = require "base.paths"
local util = require "base.util"
local savefile = require "vm.savefile"
local vm = require "vm.handle"
local vmarg = require "vm.arg"

local M = {}

-- BOOT_PARALLEL, HOST_SHUTDOWN_TIMEOUT, HOST_SHUTDOWN_FORCE.
M.global = config.global

local function entry(name, cfg)
	local v = vm.open(name, cfg)
	local pid, why, msg = v:alive()
	if not pid and why ~= "absent" and why ~= "stale" then
		return nil, string.format("%s: cannot tell whether it runs: %s",
			name, tostring(msg or why))
	end
	v.running = pid
	v.saved = not pid and savefile.saved(name) or nil
	return v
end

-- Stands for a VM whose config does not load: it relates to nothing
-- and fails when started, with the config's message, so that one bad
-- file costs that VM (and what requires it), not the whole boot.
local function broken_cfg(name, why)
	return { name = name, file = paths.vmconf(name), broken = why,
		BOOT_ORDER = 100, BOOT_AFTER = {}, BOOT_REQUIRES = {},
		BOOT_READY = { kind = "started", spec = "started" },
		BOOT_READY_TIMEOUT = 120, BOOT_DELAY = 0 }
end

local function every_config()
	local cfgs, order = {}, {}
	for _, n in ipairs(paths.vm_names()) do
		local cfg, why = vmarg.config(n, "list")
		if not cfg then
			util.warn("%s", why)
			cfg = broken_cfg(n, why)
		end
		cfgs[n] = cfg
		order[#order + 1] = n
	end
	return cfgs, order
end

-- cycle(name) -> a one-line warning when name's BOOT_AFTER or
-- BOOT_REQUIRES is part of a cycle (startall refuses one, a single
-- start does not wait for anything), or nil.  Configs that do not load
-- are left out in silence: start reports its own.
function M.cycle(name)
	local cfgs = {}
	for _, n in ipairs(paths.vm_names()) do
		cfgs[n] = (config.load(n, "list"))
	end
	if not cfgs[name] then return nil end
	local path = bootgraph.cycle(cfgs, name)
	if not path then return nil end
	return string.format("BOOT_AFTER/BOOT_REQUIRES cycle: %s (startall " ..
		"refuses it; stopall stops these VMs together)",
		table.concat(path, " -> "))
end

-- For startall: the named VMs in the order given, else every AUTOSTART
-- VM (sorted by name) and every VM whose config does not load (its
-- AUTOSTART unknown, it is reported failed rather than forgotten); then,
-- marked check, the running VMs they require that are not in the list
-- (they count once they are ready).
function M.for_start(names)
	local cfgs, all = every_config()
	if not cfgs then return nil, all end
	local ok, why = bootgraph.check(cfgs)
	if not ok then return nil, why end
	local want, seen = {}, {}
	if #names == 0 then
		for _, n in ipairs(all) do
			if cfgs[n].AUTOSTART or cfgs[n].broken then
				want[#want + 1] = n
			end
		end
	else
		for _, n in ipairs(names) do
			if not cfgs[n] then
				return nil, string.format("no such VM: %s (%s)", n,
					paths.vmconf(n))
			end
			if seen[n] then return nil, n .. " is named twice" end
			seen[n] = true
			want[#want + 1] = n
		end
	end
	local vms = {}
	for _, n in ipairs(want) do
		seen[n] = true
		local v, err = entry(n, cfgs[n])
		if not v then return nil, err end
		vms[#vms + 1] = v
	end
	for _, v in ipairs(vms) do
		for _, d in ipairs(v.cfg.BOOT_REQUIRES or {}) do
			if not seen[d] and cfgs[d] then
				seen[d] = true
				local dv, err = entry(d, cfgs[d])
				if not dv then return nil, err end
				-- One that does not run is left out: the policy then
				-- skips its dependants ("... is not running").
				if dv.running then
					dv.check = true
					vms[#vms + 1] = dv
				end
			end
		end
	end
	return vms
end

-- A running VM whose config and started copy are both unreadable is
-- still stopped, by the default ladder.
local function fallback_cfg(name)
	return { name = name, SHUTDOWN_TIMEOUT = 120, SHUTDOWN_FORCE = false,
		GUEST_AGENT = false, BOOT_ORDER = 100, BOOT_AFTER = {},
		BOOT_REQUIRES = {} }
end

-- For stopall: the named VMs in the order given (running or not), else
-- every running VM.  quiet: a config that does not load is not warned
-- of (a second look).
function M.for_stop(names, quiet)
	local vms = {}
	if #names == 0 then
		for _, n in ipairs(paths.vm_names_and_running()) do
			local probe = vm.open(n, nil)
			if probe:alive() then
				local cfg, why = vmarg.config(n, "list")
				if not cfg then
					if not quiet then
						util.warn("%s; stopping %s with the default ladder",
							why, n)
					end
					cfg = fallback_cfg(n)
				end
				local v, err = entry(n, cfg)
				if not v then return nil, err end
				vms[#vms + 1] = v
			end
		end
		return vms
	end
	local seen = {}
	for _, n in ipairs(names) do
		local ok, why = config.check_name(n)
		if not ok then return nil, why end
		if seen[n] then return nil, n .. " is named twice" end
		seen[n] = true
		local cfg
		cfg, why = vmarg.config(n, "list")
		if not cfg then return nil, why end
		local v, err = entry(n, cfg)
		if not v then return nil, err end
		vms[#vms + 1] = v
	end
	return vms
end

return M
