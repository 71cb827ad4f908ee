-- bench.lua PHASE RUNS TOP: timing figures for bench.sh.
local core = require "nvq.core"

local phase, runs, top = arg[1], tonumber(arg[2]), arg[3]
local nvqctl = top .. "/nvqctl"
local luarun = top .. "/tests/luarun"
local confdir = os.getenv("NVQCTL_CONFDIR")
local rundir = os.getenv("NVQCTL_RUNDIR")
local guest = top .. "/build/guest"

local function median(t)
	table.sort(t)
	local n = #t
	if n % 2 == 1 then return t[(n + 1) // 2] end
	return (t[n // 2] + t[n // 2 + 1]) / 2
end

local function report(what, samples, unit, target)
	local m = median(samples)
	local scale = unit == "ms" and 1000 or 1
	print(string.format("%-46s median %8.1f %s  (min %.1f, max %.1f, n=%d)%s",
		what, m * scale, unit, samples[1] * scale,
		samples[#samples] * scale, #samples,
		target and ("  target <= " .. target .. " " .. unit) or ""))
end

-- Runs nvqctl; returns wall seconds.  Fails loudly: a bench of a
-- failing command measures nothing.
local function nvq(args, ok_codes)
	local argv = { nvqctl }
	table.move(args, 1, #args, 2, argv)
	local t0 = core.now()
	local r = assert(core.run(argv, { stdout = "capture", stderr = "capture",
		deadline = core.now() + 120 }))
	local dt = core.now() - t0
	if r.status ~= 0 and not (ok_codes and ok_codes[r.status]) then
		error(table.concat(args, " ") .. " failed: " .. r.stderr)
	end
	return dt, r
end

local function write_conf(name, body)
	core.mkdir(confdir, "0755")
	core.mkdir(confdir .. "/vm", "0755")
	local f = assert(io.open(confdir .. "/vm/" .. name .. ".conf", "w"))
	f:write(body)
	f:close()
end

local function guest_conf(name, agent)
	write_conf(name, string.format([[
QEMU_BIN=/usr/bin/qemu-system-x86_64
ACCEL=auto
MEMORY=256M
GUEST_AGENT=%s
GUEST_AGENT_METHOD=virtio-serial
VIRTIO_RNG=no
EXTRA_ARGS="-kernel %s/vmlinuz -initrd %s/initrd.img -append 'console=ttyS0 quiet'"
]], agent and "yes" or "no", guest, guest))
end

local function wait_ready(name)
	assert(core.run({ luarun, top .. "/tests/integ/serial.lua",
		rundir .. "/" .. name .. "/serial.sock", "ping", "60" },
		{ stdout = "null", deadline = core.now() + 70 }).status == 0,
		name .. ": guest did not boot")
end

local function pid_of(name)
	return core.alive(rundir .. "/" .. name .. "/qemu.pid")
end

-- Wall-clock time at which pid exits, seen by a separate watcher.
local function watch_exit(pid, file)
	os.execute(string.format("%s - %d > %s <<'EOF' &\n" ..
		"local core = require 'nvq.core'\n" ..
		"core.wait_exit(tonumber(arg[1]), core.now() + 300)\n" ..
		"print(string.format('%%.6f', core.time()))\nEOF\n",
		luarun, pid, file))
	core.sleep(0.1)
end

local function lifecycle()
	guest_conf("b-acpi", false)
	local start, stop, kill = {}, {}, {}
	for _ = 1, runs do
		start[#start + 1] = nvq({ "start", "b-acpi" })
		wait_ready("b-acpi")
		local file = rundir .. "/exit.time"
		os.remove(file)
		watch_exit(pid_of("b-acpi"), file)
		nvq({ "stop", "b-acpi" })
		local returned = core.time()
		core.sleep(0.05)
		local f = assert(io.open(file))
		local exited = tonumber(f:read("l"))
		f:close()
		stop[#stop + 1] = returned - exited
		nvq({ "start", "b-acpi" })
		kill[#kill + 1] = nvq({ "kill", "b-acpi" })
	end
	report("start (TCG guest, to QMP answering)", start, "ms")
	report("stop: QEMU exit -> nvqctl stop returns", stop, "ms", 50)
	report("kill (QEMU honours quit)", kill, "ms", 300)
end

local function timed(args, n)
	local t = {}
	for _ = 1, n do t[#t + 1] = nvq(args) end
	return t
end

local function rss_line()
	print(string.format("%-46s %8.1f MiB  target <= 8 MiB",
		"peak RSS of the nvqctl processes above",
		core.rusage_children().maxrss / 1048576))
end

-- Starting VMs happens in its own process ("setup"): the QEMU that
-- nvqctl start waits for would count in this process's child rusage.
local function setup(first, last)
	if first == 1 then
		for i = 1, 45 do
			write_conf(string.format("idle%02d", i), string.format(
				"NCPU=2\nMEMORY=2G\nDISKS=\"/vm/idle%02d.img:qcow2\"\n" ..
				"NETWORK=\"tap%d\"\n", i, i))
		end
		for i = 1, 5 do guest_conf("run" .. i, i <= 2) end
	end
	for i = first, last do nvq({ "start", "run" .. i }) end
	-- Measured on booted, idle guests, not on a host busy booting them.
	for i = first, last do wait_ready("run" .. i) end
end

local function query3()
	local n = runs * 3
	report("list, 50 configured, 3 running", timed({ "list" }, n), "ms", 20)
	report("qmp query-status (whole nvqctl process)",
		timed({ "qmp", "run1", "query-status" }, n), "ms")
	report("status (whole nvqctl process)", timed({ "status", "run1" }, n), "ms")
	rss_line()
end

local function query5()
	local n = runs * 3
	report("list --json, 50 configured, 5 running",
		timed({ "list", "--json" }, n), "ms", 20)
	report("top -n 1, 50 configured, 5 running",
		timed({ "top", "-n", "1" }, n), "ms", 100)
	local frozen = pid_of("run5")
	core.kill(frozen, "STOP")
	report("top -n 1, one of 5 SIGSTOPped",
		timed({ "top", "-n", "1" }, math.min(n, 5)), "ms", 1500)
	core.kill(frozen, "CONT")
	for i = 1, 5 do nvq({ "kill", "run" .. i }) end
	rss_line()
end

local phases = {
	lifecycle = lifecycle,
	setup3 = function() setup(1, 3) end,
	setup5 = function() setup(4, 5) end,
	query3 = query3,
	query5 = query5,
}
phases[phase]()
