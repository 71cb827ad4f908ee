-- base/paths.lua: where configs and runtime files live.  The environment
-- overrides the build-time defaults, as the sh tool's NVQCTL_* did.
local core = require "nvq.core"

local M = {}

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then return default end
	return v
end

function M.confdir() return env("NVQCTL_CONFDIR", core.CONFDIR) end
function M.rundir() return env("NVQCTL_RUNDIR", core.RUNDIR) end
function M.global_conf() return M.confdir() .. "/nvqctl.conf" end
function M.vmconfdir() return M.confdir() .. "/vm" end
function M.vmconf(name) return M.vmconfdir() .. "/" .. name .. ".conf" end
-- A VM's cloud-init files (user-data, meta-data, network-config).
function M.cloud_init_dir(name)
	return M.confdir() .. "/cloud-init/" .. name
end
function M.vmrun(name) return M.rundir() .. "/" .. name end

-- Runtime files of one VM, named as the sh tool named them.
function M.runtime(name)
	local d = M.vmrun(name)
	return {
		dir = d,
		pidfile = d .. "/qemu.pid",
		monitor = d .. "/monitor.sock",
		control = d .. "/control.sock",
		started_conf = d .. "/started.conf",
		started_global = d .. "/started-global.conf",
		accel = d .. "/accel",
		serial = d .. "/serial.sock",
		agent = d .. "/guest-agent.sock",
		vnc = d .. "/vnc.sock",
		lock = d .. "/lock",
		taps = d .. "/taps",
		forced = d .. "/forced",
	}
end

-- The lock a running startall or stopall (command) holds, so that the
-- other finds it: stopall ends a startall, startall refuses to run
-- during a stopall.
function M.boot_lock(command)
	return M.rundir() .. "/" .. command .. ".lock"
end

-- The QMP socket for nvqctl's own short calls: control.sock, or the
-- monitor for a VM started before there was one.
function M.qmp_socket(rt)
	if core.stat(rt.control) then return rt.control end
	return rt.monitor
end

-- The sockets of nvqctl -H's shared ssh connections: a directory of
-- this user's own under TMPDIR (short: socket paths are limited).
function M.ssh_control_dir()
	return env("TMPDIR", "/tmp"):gsub("/+$", "") .. "/nvqctl-ssh." ..
		core.geteuid()
end

-- VM names: [A-Za-z0-9_-], 1 to 64 characters, everywhere.
function M.valid_name(name)
	return type(name) == "string" and #name >= 1 and #name <= 64
		and not name:find("[^%w_-]")
end

-- Configured VMs, sorted.
function M.vm_names()
	local names = {}
	for _, f in ipairs(core.readdir(M.vmconfdir()) or {}) do
		local n = f:match("^(.+)%.conf$")
		if n and M.valid_name(n) then names[#names + 1] = n end
	end
	return names
end

-- The configured VMs, then any whose QEMU still runs though its config
-- is gone; and how many of them are configured.
function M.vm_names_and_running()
	local all, seen = M.vm_names(), {}
	local configured = #all
	for _, n in ipairs(all) do seen[n] = true end
	for _, n in ipairs(core.readdir(M.rundir()) or {}) do
		if not seen[n] and M.valid_name(n) and
		    core.alive(M.runtime(n).pidfile) then
			all[#all + 1] = n
		end
	end
	table.sort(all)
	return all, configured
end

return M
