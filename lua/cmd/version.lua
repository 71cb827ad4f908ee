-- cmd/version.lua: nvqctl -V: the versions a bug report needs, nvqctl's,
-- the Lua it was built against, lua-cjson's and the QEMU a VM gets when
-- it sets no QEMU_BIN (nvqctl.conf's, else the built-in default).
-- Whatever cannot be found is said on its line; -V still exits 0.
local core = require "nvq.core"
local config = require "conf.load"
local host = require "host.check"
local qbin = require "qemu.bin"

local format = string.format

local M = {}

function M.run()
	print("nvqctl " .. core.VERSION)
	print(core.LUA_RELEASE)
	local ok, cjson = pcall(require, "cjson")
	print("lua-cjson " .. (ok and tostring(cjson._VERSION or "unknown")
		or "not installed"))
	local bin, origin = config.global_value("QEMU_BIN")
	if not bin then
		print("QEMU unknown: " .. tostring(origin))
		return 0
	end
	bin = qbin.qemu(bin)
	local v, why = host.qemu_version(bin)
	local from = origin == "(default)" and "the built-in default" or origin
	if v then
		print(format("QEMU %s (%s, QEMU_BIN of %s)", v, bin, from))
	else
		print(format("QEMU unknown: %s %s (QEMU_BIN of %s)", bin, why,
			from))
	end
	return 0
end

return M
