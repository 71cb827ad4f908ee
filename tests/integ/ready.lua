-- ready.lua NAME STEP...: drives lua/boot/ready.lua against a real VM for
-- ready.t.  Steps, in order:
--   start       start the VM (under its lock, released after);
--   begin       ready.begin(v) for the config's BOOT_READY;
--   SPEC@SECS   ready.wait for SPEC (started, agent, tcp:H:P,
--               serial:TEXT) with a deadline SECS away; the watcher
--               from begin is used by a serial wait.
-- Prints one line per wait: "ready SECONDS" or "notready SECONDS WHY".
local core = require "nvq.core"
local lifecycle = require "vm.lifecycle"
local ready = require "boot.ready"
local vmarg = require "vm.arg"

local v, verr = vmarg.open(arg[1], "start")
if not v then
	io.stderr:write("ready.lua: ", tostring(verr), "\n")
	return 1
end
local w

local function spec(s)
	local kind, rest = s:match("^(%a+):(.*)$")
	if kind == "tcp" then
		local host, port = rest:match("^(.*):(%d+)$")
		return { kind = "tcp", host = host, port = tonumber(port), spec = s }
	elseif kind == "serial" then
		return { kind = "serial", text = rest, spec = s }
	end
	return { kind = s, spec = s }
end

for i = 2, #arg do
	local step = arg[i]
	if step == "start" then
		local lk, err = v:lock()
		local pid
		if lk then pid, err = lifecycle.start(v, { context = "boot" }) end
		if not pid then
			io.stderr:write("ready.lua: ", tostring(err), "\n")
			return 1
		end
		lk:unlock()
	elseif step == "begin" then
		w = ready.begin(v)
	else
		local s, secs = step:match("^(.*)@([%d.]+)$")
		v.cfg.BOOT_READY = spec(s)
		local t0 = core.now()
		local ok, why = ready.wait(v, t0 + tonumber(secs),
			v.cfg.BOOT_READY.kind == "serial" and w or nil)
		if v.cfg.BOOT_READY.kind == "serial" then w = nil end
		io.write(ok and "ready" or "notready",
			string.format(" %.2f", core.now() - t0),
			ok and "" or " " .. tostring(why), "\n")
		io.flush()
	end
end
return 0
