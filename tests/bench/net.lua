-- net.lua RUNS TOP BRIDGE: what bridge NICs cost and leave behind, run
-- by net.sh inside a network namespace of its own: the time start
-- takes with two bridge NICs against none (median of RUNS), and the
-- taps and descriptors left after 50 start/kill cycles.
local core = require "nvq.core"
local lifecycle = require "vm.lifecycle"
local vmarg = require "vm.arg"

local runs, top, br = tonumber(arg[1]), arg[2], arg[3]
local confdir = os.getenv("NVQCTL_CONFDIR")

local function write(name, nets)
	local f = assert(io.open(confdir .. "/vm/" .. name .. ".conf", "w"))
	f:write("QEMU_BIN=/usr/bin/qemu-system-x86_64\nACCEL=auto\nNCPU=1\n",
		"MEMORY=128M\nSERIAL=no\nVIRTIO_RNG=no\nNETWORK=\"", nets, "\"\n",
		"EXTRA_ARGS=\"-kernel ", top, "/build/guest/vmlinuz -initrd ", top,
		"/build/guest/initrd.img -append 'console=ttyS0 quiet'\"\n")
	f:close()
end

local function median(t)
	table.sort(t)
	local n = #t
	return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

-- ms one start takes (until start returns: QEMU runs), then killed.
local function start_ms(name)
	local v = assert(vmarg.open(name))
	v:make_rundir()
	local t0 = core.now()
	assert(lifecycle.start(v, {}))
	local ms = (core.now() - t0) * 1000
	assert(lifecycle.kill(assert(vmarg.open(name))))
	return ms
end

local function taps()
	local n = 0
	for _, f in ipairs(core.readdir("/sys/class/net") or {}) do
		if f:match("^nvqtap") then n = n + 1 end
	end
	return n
end

local function fds() return #(core.readdir("/proc/self/fd") or {}) end

write("none", "")
write("two", "bridge:" .. br .. "\n bridge:" .. br)
local a, b = {}, {}
start_ms("none") start_ms("two")	-- first runs fill the caches
for i = 1, runs do
	a[i] = start_ms("none")
	b[i] = start_ms("two")
end
local ma, mb = median(a), median(b)
io.stderr:write(string.format("%-46s median %8.1f ms  (n=%d)\n",
	"start, no NIC", ma, runs))
io.stderr:write(string.format("%-46s median %8.1f ms  (n=%d)\n",
	"start, two bridge NICs", mb, runs))
io.stderr:write(string.format("%-46s %8.1f ms  (target <= 20)\n",
	"  added by two bridge NICs", mb - ma))
local f0 = fds()
for _ = 1, 50 do start_ms("two") end
io.stderr:write(string.format("%-46s %d taps left, descriptors %d -> %d\n",
	"50 start/kill cycles, two bridge NICs", taps(), f0, fds()))
