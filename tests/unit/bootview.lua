-- bootview.lua (test): a user boot policy run through bootrun.policy
-- over orch's real API, with no VM: sleeps and waits are cut to the
-- policy's limit (one that sleeps for ever, or loops in api.wait, ends
-- near it), and the VMs it gets cannot be changed.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local bootrun = require "boot.run"
local core = require "nvq.core"
local orch = require "boot.orch"
local t = require "tap"

local POLICY = os.getenv("NVQCTL_CONFDIR") .. "/policies/boot.lua"

local function policy(src)
	local f = assert(io.open(POLICY, "w"))
	f:write(src)
	f:close()
end

local function sink()
	local s = {}
	function s.write() end
	function s.flush() end
	return s
end

-- Runs the policy's stopall with a limit 1 s away: ok, why, seconds.
local function run(vms)
	local api, r = orch.new(vms, { global = {}, command = "stopall" })
	r.out = sink()
	local t0 = core.now()
	local ok, why = bootrun.policy("stopall", api, vms,
		{ deadline = t0 + 1 }, t0 + 1)
	r.close()
	return ok, why, core.now() - t0
end

local function vm(name)
	return { name = name, cfg = { name = name, MEMORY = 256,
		SHUTDOWN_TIMEOUT = 5 } }
end

policy([[return { stopall = function(api)
	api.sleep_until(api.now() + 100)
end }]])
local ok, why, secs = run({})
t.ok(secs < 3, string.format("sleep_until(now + 100) ends at the 1 s limit " ..
	"(%.1fs)", secs))

policy([[return { stopall = function(api) api.sleep_until(1e300) end }]])
ok, why, secs = run({})
t.ok(secs < 3, string.format("sleep_until(1e300) ends at the limit (%.1fs)",
	secs))

policy([[return { stopall = function(api)
	while true do api.wait({}, api.now() + 1) end
end }]])
ok, why, secs = run({})
t.ok(not ok and secs < 3, string.format("a loop around api.wait is stopped " ..
	"near the limit (%.1fs): %s", secs, tostring(why)))

local v = vm("g1")
policy([[return { stopall = function(api, vms)
	local v = vms[1]
	local r = {}
	r[1] = pcall(function() v.cfg.MEMORY = 99999 end)
	r[2] = getmetatable(v) == false
	r[3] = v.lock == nil and v.alive == nil
	r[4] = pcall(function() v.alive = function() end end)
	r[5] = v.name == "g1" and v.cfg.MEMORY == 256
	r[6] = pcall(function() api.record(v).ok = true end)
	if r[1] or not r[2] or not r[3] or r[4] or not r[5] or r[6] then
		error("view: " .. table.concat({ tostring(r[1]), tostring(r[2]),
			tostring(r[3]), tostring(r[4]), tostring(r[5]),
			tostring(r[6]) }, " "))
	end
end }]])
ok, why = run({ v })
t.ok(ok, "the policy's VMs are read-only views: " .. tostring(why))
t.is(v.cfg.MEMORY, 256, "the VM's config is unchanged")
t.is(rawget(v, "alive"), nil, "the VM object is unchanged")

return t.done()
