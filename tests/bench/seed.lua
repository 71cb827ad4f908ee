-- tests/bench/seed.lua [N]: the cloud-init seed (vm/seed), as medians of
-- N (default 21) runs with a 4 KiB user-data: a build after the
-- user-data changed, and a start's look when nothing changed; the
-- route this host takes (the ISO route only where makefs(8) is).
-- Prints figures; asserts nothing.
local core = require "nvq.core"
local config = require "conf.load"
local media = require "qemu.media"
local paths = require "base.paths"
local seed = require "vm.seed"

local n = tonumber(arg[1]) or 21
local tmp = assert(os.getenv("BENCHTMP"))
local conf = paths.confdir()
local ci = paths.cloud_init_dir("s")
for _, d in ipairs({ conf, conf .. "/vm", conf .. "/cloud-init", ci }) do
	core.mkdir(d, "755")
end
local function write(path, text)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end
write(conf .. "/nvqctl.conf", "VM_DIR=" .. tmp .. "/vms\n")
write(paths.vmconf("s"), "CLOUD_INIT=yes\n")
local cfg = assert(config.load("s", "start"))

-- 4 KiB of #cloud-config; i makes each one differ.
local function user_data(i)
	local head = "#cloud-config\n# run " .. i .. "\nwrite_files:\n"
	local line = "  - {path: /etc/motd, content: 'nvqctl bench line'}\n"
	local s = head .. line:rep((4096 - #head) // #line + 1)
	return s:sub(1, 4095) .. "\n"
end

local function median(f)
	local t = {}
	for i = 1, n do
		local t0 = core.now()
		f(i)
		t[i] = core.now() - t0
	end
	table.sort(t)
	return t[(n + 1) // 2] * 1000
end

local built = median(function(i)
	write(ci .. "/user-data", user_data(i))
	assert(assert(seed.ensure(cfg)).rebuilt)
end)
local same = median(function()
	assert(not assert(seed.ensure(cfg)).rebuilt)
end)
local route = media.seed_route()
print(string.format("cloud-init seed, 4 KiB user-data (%s route): build " ..
	"%.2f ms, unchanged %.2f ms (medians of %d)", route, built, same, n))
if route ~= "iso" then
	print("cloud-init seed, ISO route: not measured (no makefs(8) on " ..
		"this host; NetBSD's base system has it)")
end
