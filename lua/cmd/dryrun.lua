-- cmd/dryrun.lua: prints the QEMU command line start would run, in a
-- form /bin/sh runs as printed, or as a JSON array.
local config = require "conf.load"
local qemuargv = require "qemu.argv"
local util = require "base.util"

local M = {}

-- One option per line: a word starting with "-" opens a new line, its
-- values follow it on that line.
function M.format(argv)
	local lines, cur = {}, util.shquote(argv[1])
	for i = 2, #argv do
		local w = argv[i]
		if w:sub(1, 1) == "-" then
			lines[#lines + 1] = cur
			cur = "  " .. util.shquote(w)
		else
			cur = cur .. " " .. util.shquote(w)
		end
	end
	lines[#lines + 1] = cur
	return table.concat(lines, " \\\n") .. "\n"
end

function M.run(pos, opts)
	util.check(config.check_name(pos[1]))
	local cfg = util.check(config.load(pos[1], "dryrun"))
	for _, w in ipairs(cfg.warnings) do util.warn("%s", w) end
	if cfg.accel_note then util.warn("%s", cfg.accel_note) end
	local argv = qemuargv.build(cfg)
	if opts.json then
		io.stdout:write(util.to_json(argv), "\n")
	else
		io.stdout:write(M.format(argv))
	end
	return 0
end

return M
