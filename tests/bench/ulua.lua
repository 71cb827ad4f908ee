-- tests/bench/ulua.lua [N [TOP]]: the cost of one call of user Lua, as
-- the median of N (default 100): a pre_start hook through ulua.phases,
-- and a shutdown policy's stop() through vm.lifecycle.run_policy (a user
-- file returning a rung at once), each in a child; with TOP, also
-- `nvqctl list` of 50 stopped VMs.  Prints figures; asserts nothing.
local core = require "nvq.core"
local paths = require "base.paths"
local phases = require "ulua.phases"
local lifecycle = require "vm.lifecycle"

local n = tonumber(arg[1]) or 100
local conf = paths.confdir()
for _, d in ipairs({ conf, conf .. "/hooks", conf .. "/policies" }) do
	core.mkdir(d, "755")
end
local function write(path, text)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end
write(phases.vm_file("b"), "return { pre_start = function(vm, ev) " ..
	"return true end }\n")
write(conf .. "/policies/bench.lua", "return { stop = function(vm, opt) " ..
	"return 'acpi' end }\n")

local function median(f)
	local t = {}
	for i = 1, n do
		local t0 = core.now()
		f()
		t[i] = core.now() - t0
	end
	table.sort(t)
	return t[(n + 1) // 2] * 1000
end

local v = { name = "b", cfg = { HOOK_TIMEOUT = 5 } }
local hook = median(function()
	assert(phases.run(v, "pre_start", { context = "manual" }))
end)
local policy = median(function()
	assert(lifecycle.run_policy(v, "bench", "stop", core.now() + 5, {}))
end)
print(string.format("hook call (pre_start, median of %d): %.2f ms", n, hook))
print(string.format("policy call (stop, median of %d): %.2f ms", n, policy))

local top = arg[2]
if top then
	core.mkdir(conf .. "/vm", "755")
	for i = 1, 50 do
		write(string.format("%s/vm/l%02d.conf", conf, i), "MEMORY=128M\n")
	end
	local list = median(function()
		assert(core.run({ top .. "/nvqctl", "list" }, { stdout = "null",
			deadline = core.now() + 10 }))
	end)
	print(string.format("nvqctl list of 50 VMs (median of %d): %.2f ms", n,
		list))
end
