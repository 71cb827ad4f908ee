-- orch.lua TOP: figures for startall and stopall with ten real guests,
-- for bench.sh: startall until every QMP answers and until every agent
-- answers, all at once and one at a time; stopall with the built-in
-- policy, with the sequential example policy, and the slowest single
-- stop; the peak RSS of every nvqctl process seen meanwhile (parent
-- and forked children, sampled from /proc).  Asserts nothing.
local core = require "nvq.core"

local top = arg[1]
local nvqctl = top .. "/nvqctl"
local confdir = os.getenv("NVQCTL_CONFDIR")
local guest = top .. "/build/guest"
local N = 10
local names = {}
for i = 1, N do names[i] = string.format("o%02d", i) end

local function write(path, body)
	local f = assert(io.open(path, "w"))
	f:write(body)
	f:close()
end

local function configure(ready, parallel)
	core.mkdir(confdir, "0755")
	core.mkdir(confdir .. "/vm", "0755")
	write(confdir .. "/nvqctl.conf", "BOOT_PARALLEL=" .. parallel .. "\n")
	for _, n in ipairs(names) do
		write(confdir .. "/vm/" .. n .. ".conf", string.format([[
QEMU_BIN=/usr/bin/qemu-system-x86_64
ACCEL=auto
MEMORY=128M
GUEST_AGENT=yes
GUEST_AGENT_METHOD=virtio-serial
VIRTIO_RNG=no
AUTOSTART=yes
BOOT_READY=%s
BOOT_READY_TIMEOUT=300
EXTRA_ARGS="-kernel %s/vmlinuz -initrd %s/initrd.img -append 'console=ttyS0 quiet'"
]], ready, guest, guest))
	end
end

-- Peak RSS (VmHWM) of every process running nvqctl with this bench's
-- run directory (other nvqctl users on the machine are not counted), by
-- pid, with what it was.
local rundir = os.getenv("NVQCTL_RUNDIR")
local mark = "\0NVQCTL_RUNDIR=" .. rundir .. "\0"
local peaks, what = {}, {}
local function sample()
	for _, p in ipairs(core.readdir("/proc") or {}) do
		if p:match("^%d+$") then
			local f = io.open("/proc/" .. p .. "/status")
			local s = f and f:read("a") or ""
			if f then f:close() end
			if s:match("^Name:%s*nvqctl\n") then
				local e = io.open("/proc/" .. p .. "/environ")
				local env = e and "\0" .. (e:read("a") or "") or ""
				if e then e:close() end
				local kb = tonumber(s:match("VmHWM:%s*(%d+)"))
				if env:find(mark, 1, true) and kb and kb > (peaks[p] or 0) then
					peaks[p] = kb
					if not what[p] then
						local c = io.open("/proc/" .. p .. "/cmdline")
						what[p] = c and (c:read("a") or ""):gsub("%z", " ") or "?"
						if c then c:close() end
						what[p] = what[p] .. "(ppid " ..
							(s:match("PPid:%s*(%d+)") or "?") .. ")"
					end
				end
			end
		end
	end
end

-- Runs nvqctl in a forked child, sampling meanwhile: seconds, status.
local function nvq(args)
	local argv = { nvqctl }
	table.move(args, 1, #args, 2, argv)
	local t0 = core.now()
	local pid = assert(core.fork())
	if pid == 0 then
		local r = core.run(argv, { stdout = "null", stderr = "null",
			deadline = core.now() + 600 })
		core._exit(r and r.status or 99)
	end
	local st
	repeat
		sample()
		core.sleep(0.02)
		st = core.waitpid(pid)
	until st
	return core.now() - t0, st.status
end

local function line(what, secs, note)
	print(string.format("%-52s %8.2f s%s", what, secs, note or ""))
end

local function must(what, secs, status)
	if status ~= 0 then
		print(what .. ": exit " .. tostring(status) .. " (figures below may mean little)")
	end
	return secs
end

local function kill_all()
	for _, n in ipairs(names) do nvq({ "kill", n }) end
end

print(string.format("# startall / stopall of %d guests (128 MiB, TCG, agent on virtio-serial)", N))
-- Start: all at once vs one at a time, to QMP and to the agent.
for _, case in ipairs({ { "started", N, "startall, all at once, until every QMP answers" },
	{ "started", 1, "startall, one at a time, until every QMP answers" },
	{ "agent", N, "startall, all at once, until every agent answers" },
	{ "agent", 1, "startall, one at a time, until every agent answers" } }) do
	configure(case[1], case[2])
	local t, s = nvq({ "startall" })
	line(case[3], must(case[3], t, s), case[1] == "started" and case[2] == N
		and "  target <= 2 s" or "")
	if case[1] == "started" or case[2] == N then kill_all() end
end
-- The guests are up, agents answering (the last case).  Stop them.
local t, s = nvq({ "stopall" })
local par = must("stopall", t, s)
configure("agent", N)
nvq({ "startall" })
core.mkdir(confdir .. "/policies", "0755")
local ex = assert(io.open(top .. "/examples/policies/boot-sequential.lua")):read("a")
write(confdir .. "/policies/boot.lua", (ex:gsub("local DELAY = 5", "local DELAY = 0")))
t, s = nvq({ "stopall" })
local seq = must("stopall sequential", t, s)
os.remove(confdir .. "/policies/boot.lua")
nvq({ "startall" })
local slowest = 0
for _, n in ipairs(names) do
	local st = nvq({ "stop", n })
	if st > slowest then slowest = st end
end
line("stopall, built-in policy (one wave at once)", par,
	string.format("  = %.2fx the slowest single stop (target <= 1.3x)",
	par / slowest))
line("stopall, sequential example policy (delay 0)", seq,
	string.format("  = %.2fx", seq / slowest))
line("slowest single nvqctl stop of the ten", slowest)
local max, n, who = 0, 0, "-"
for p, kb in pairs(peaks) do
	n = n + 1
	if kb > max then max, who = kb, what[p] end
end
print(string.format("%-52s %8.1f MiB  (%d nvqctl processes sampled; target <= 8 MiB)",
	"peak RSS of any nvqctl process (VmHWM)", max / 1024, n))
print("  the largest: " .. who)
