-- cmd/clone.lua: nvqctl clone [--linked] [--json] SRC DST.
local clone = require "vm.cloner"
local core = require "nvq.core"
local jsonout = require "base.jsonout"
local util = require "base.util"

local M = {}

function M.run(pos, opts)
	local src, dst = pos[1], pos[2]
	local r = util.check(clone.clone(src, dst, { linked = opts.linked,
		progress = core.isatty(1) and not opts.json }))
	if opts.json then
		local disks = {}
		for _, d in ipairs(r.disks) do
			disks[#disks + 1] = { path = d.path, format = d.format,
				source = d.src.path, backing = jsonout.opt(d.backing) }
		end
		io.stdout:write(jsonout.encode({ name = dst, source = src,
			linked = opts.linked == true, config = r.config,
			vm_dir = jsonout.opt(r.vm_dir), disks = jsonout.array(disks),
			notes = jsonout.array(r.notes) }), "\n")
		return 0
	end
	util.printf("created %s from %s: %s\n", dst, src, r.config)
	for _, d in ipairs(r.disks) do
		util.printf("  disk %s (%s of %s)\n", d.path,
			d.backing and "overlay" or "copy", d.src.path)
	end
	for _, n in ipairs(r.notes) do util.printf("note: %s\n", n) end
	if opts.linked and #r.disks > 0 then
		util.printf("note: %s's disks are now %s's backing files: they " ..
			"must not change while %s exists\n", src, dst, dst)
	end
	return 0
end

return M
