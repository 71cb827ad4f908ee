-- qemu/argv.lua: the QEMU command line for a loaded config, as an argv
-- array that is executed without a shell.  The order is the old sh tool's,
-- so a migrated VM gets the same machine.
local media = require "qemu.media"
local nic = require "net.nic"
local paths = require "base.paths"

local M = {}

-- QEMU splits option strings at commas and reads ",," as one comma: a
-- value doubled this way cannot end its key=value and start another.
local function esc(s)
	return (s:gsub(",", ",,"))
end
M.escape = esc

function M.build(cfg)
	local rt = paths.runtime(cfg.name)
	local a = { cfg.QEMU_BIN,
		"-name", esc(cfg.name),
		"-cpu", cfg.cpu,
		"-smp", "cpus=" .. cfg.NCPU,
		"-accel", cfg.accel,
		"-m", tostring(cfg.MEMORY),
	}
	local function add(...)
		for i = 1, select("#", ...) do a[#a + 1] = select(i, ...) end
	end

	for i, d in ipairs(cfg.disks) do
		local id = "hd" .. (i - 1)
		add("-drive", "file=" .. esc(d.path) .. ",format=" .. d.format ..
			",if=none,id=" .. id .. (d.cache and ",cache=" .. d.cache or "") ..
			(d.readonly and ",readonly=on" or ""))
		add("-device", "virtio-blk-pci,drive=" .. id)
	end
	-- After the disks: the guest's first virtio disks stay its own.
	media.options(cfg, rt, add)
	for i, n in ipairs(cfg.nets) do
		local netdev, device = nic.qemu_options(n, "net" .. (i - 1))
		add("-netdev", netdev, "-device", device)
	end
	-- Unlike the old tool: with no NETWORK, QEMU would add its default
	-- NIC with user-mode NAT, giving the VM a network nobody configured.
	if #cfg.nets == 0 then add("-nic", "none") end

	add("-display", cfg.DISPLAY_OPT)
	add("-rtc", "base=" .. cfg.RTC_BASE)
	if cfg.VIRTIO_RNG then
		add("-object", "rng-random,filename=/dev/urandom,id=viornd0",
			"-device", "virtio-rng-pci,rng=viornd0")
	end
	if cfg.SERIAL then
		add("-serial", "unix:" .. esc(rt.serial) .. ",server=on,wait=off")
	end
	if cfg.GUEST_AGENT then
		add("-chardev", "socket,path=" .. esc(rt.agent) ..
			",server=on,wait=off,id=qga0")
		if cfg.GUEST_AGENT_METHOD == "virtio-serial" then
			add("-device", "virtio-serial-pci", "-device",
				"virtserialport,chardev=qga0,name=org.qemu.guest_agent.0")
		else
			add("-device", "isa-serial,chardev=qga0")
		end
	end
	add("-chardev", "socket,path=" .. esc(rt.monitor) ..
		",server=on,wait=off,id=mon0")
	add("-mon", "chardev=mon0,mode=control")
	-- QEMU serves one client per QMP socket: nvqctl's own short calls
	-- get a second one, so a user's long "nvqctl monitor" (or any tool
	-- on monitor.sock) never blocks stop, status or top.
	add("-chardev", "socket,path=" .. esc(rt.control) ..
		",server=on,wait=off,id=mon1")
	add("-mon", "chardev=mon1,mode=control")
	-- A plain file name, not an option string: no escaping.
	add("-pidfile", rt.pidfile)
	add("-daemonize")
	table.move(cfg.extra_args, 1, #cfg.extra_args, #a + 1, a)
	return a
end

return M
