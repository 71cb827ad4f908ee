-- vm/restamp.lua: a saved state that "move" brought from another host.
-- Its sidecar names that host's disks (device, inode: new ones here)
-- and that host's paths in the QEMU command line.  The sender marks the
-- sidecar with its directories ("moved"); once the files are here, the
-- sidecar is stamped with this host's disks and command line, but only
-- when the two command lines differ in those directories alone.  Else
-- the old stamp stays and start refuses, naming the difference.
local config = require "conf.load"
local paths = require "base.paths"
local qemuargv = require "qemu.argv"
local savefile = require "vm.savefile"

local M = {}

-- The sender's directories, to go in the sidecar it sends.
function M.mark(vmdir)
	return { vm_dir = vmdir, run_dir = paths.rundir(),
		conf_dir = paths.confdir() }
end

-- s with the directory from (as a whole word or a path prefix) made to.
local function swap(s, from, to)
	if s == from then return to end
	local out, i = {}, 1
	while true do
		local a, b = s:find(from .. "/", i, true)
		if not a then break end
		out[#out + 1] = s:sub(i, a - 1) .. to .. "/"
		i = b + 1
	end
	out[#out + 1] = s:sub(i)
	return table.concat(out)
end

-- The saved argv as it would read with the directories of this host |
-- nil when it is not a list of words (a sidecar damaged on the way).
function M.translate(argv, moved, here)
	if type(argv) ~= "table" then return nil end
	local pairs_ = {}
	for _, k in ipairs({ "vm_dir", "run_dir", "conf_dir" }) do
		if type(moved[k]) == "string" and moved[k] ~= "" then
			pairs_[#pairs_ + 1] = { moved[k], here[k] }
		end
	end
	-- The longest first: VM_DIR may lie under the config directory.
	table.sort(pairs_, function(a, b) return #a[1] > #b[1] end)
	local out = {}
	for i, a in ipairs(argv) do
		if type(a) ~= "string" then return nil end
		-- One pass per word and pair, each from the original word, so
		-- that a path made by one pair is not made again by another.
		local w = a
		for _, p in ipairs(pairs_) do
			local t = swap(a, p[1], p[2])
			if t ~= a then w = t break end
		end
		out[i] = w
	end
	return out
end

-- stamp(name) -> true [, note] | nil, why.  Nothing to do without a
-- moved sidecar.
function M.stamp(name)
	local f = savefile.files(name)
	local m = f and savefile.meta(f)
	if not m or type(m.moved) ~= "table" then return true end
	local cfg, why = config.load(name, "start")
	if not cfg then return nil, why end
	local here = M.mark(f.dir)
	local argv = savefile.stable_argv(qemuargv.build(cfg))
	local was = M.translate(m.argv, m.moved, here)
	local note
	if was and savefile.hash(was) == savefile.hash(argv) then
		m.argv, m.argv_hash = argv, savefile.hash(argv)
		m.disks = savefile.disks(cfg)
	else
		note = "the QEMU command line here differs from the one the " ..
			"state was saved with: start will refuse to restore it"
	end
	m.moved = nil
	local ok, werr = savefile.write_meta(f, m)
	if not ok then return nil, werr end
	return true, note
end

return M
