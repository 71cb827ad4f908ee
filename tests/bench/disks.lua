-- disks.lua RUNS TOP: what create, clone --linked and snapshot create
-- of a stopped VM cost, qemu-img's runs included (median of RUNS).
-- Needs no guest: no VM is started.
local core = require "nvq.core"

local runs, top = tonumber(arg[1]) or 10, arg[2]
local nvqctl = top .. "/nvqctl"
local confdir = os.getenv("NVQCTL_CONFDIR")

local function median(t)
	table.sort(t)
	local n = #t
	if n % 2 == 1 then return t[(n + 1) // 2] end
	return (t[n // 2] + t[n // 2 + 1]) / 2
end

local function report(what, s)
	local m = median(s)
	print(string.format("%-46s median %8.1f ms  (min %.1f, max %.1f, " ..
		"n=%d)  target <= 100 ms", what, m * 1000, s[1] * 1000,
		s[#s] * 1000, #s))
end

local function nvq(...)
	local argv = { nvqctl, ... }
	local t0 = core.now()
	local r = assert(core.run(argv, { stdout = "capture",
		stderr = "capture", deadline = core.now() + 120 }))
	local dt = core.now() - t0
	if r.status ~= 0 then
		error(table.concat(argv, " ") .. " failed: " .. r.stderr)
	end
	return dt
end

core.mkdir(confdir, "0755")
local f = assert(io.open(confdir .. "/nvqctl.conf", "w"))
f:write("VM_DIR=", confdir, "/vms\n")
f:close()

local c, k, s = {}, {}, {}
for i = 1, runs do
	c[i] = nvq("create", "b" .. i, "--disk", "20G:qcow2")
end
for i = 1, runs do k[i] = nvq("clone", "--linked", "b1", "k" .. i) end
for i = 1, runs do s[i] = nvq("snapshot", "b1", "create", "s" .. i) end
report("create --disk 20G:qcow2", c)
report("clone --linked (one 20G qcow2 disk)", k)
report("snapshot create, stopped (one qcow2 disk)", s)
