-- vm/savefile.lua: a VM's saved state on disk, and what a restore checks
-- against it.  VM_DIR/NAME holds "state" (QEMU's migration stream) and
-- "state.json" (the sidecar); a save writes "state.part" and renames it
-- only once the stream is complete, synced and the sidecar written.  A
-- saved VM has both final files; a part file alone is never restored.
local config = require "conf.load"
local core = require "nvq.core"
local util = require "base.util"

local M = {}

M.VERSION = 1	-- of the sidecar's layout

-- { dir, state, part, meta } | nil, why.
function M.files(name)
	local dir, why = config.vm_dir(name)
	if not dir then return nil, why end
	return { dir = dir, state = dir .. "/state", part = dir .. "/state.part",
		meta = dir .. "/state.json" }
end

-- The directory, made root-only where missing (its parents 0755).
function M.make_dir(f)
	if core.stat(f.dir) then return true end
	local parent = f.dir:match("^(.*)/[^/]+$")
	if parent ~= "" and not core.stat(parent) then
		local ok, err = core.mkdir(parent, "0755")
		if not ok and not core.stat(parent) then return nil, err end
	end
	local ok, err = core.mkdir(f.dir, "0700")
	if not ok and not core.stat(f.dir) then return nil, err end
	return true
end

-- The sidecar of a complete save | nil (none, or not readable: then
-- nothing is restored).
function M.meta(f)
	if not core.stat(f.state) then return nil end
	local text = util.read_file(f.meta)
	if not text then return nil end
	local ok, m = pcall(util.json().decode, text)
	if not ok or type(m) ~= "table" or m.version ~= M.VERSION then
		return nil
	end
	return m
end

-- Whether VM name has a complete saved state.
function M.saved(name)
	local f = M.files(name)
	return f ~= nil and M.meta(f) ~= nil
end

-- Removes a saved state (start --fresh, and after a restore).
function M.discard(f)
	os.remove(f.meta)
	os.remove(f.state)
end

-- The argv without what differs between two runs of the same config:
-- the numbers of the tap descriptors handed to QEMU.
function M.stable_argv(argv)
	local out = {}
	for i, a in ipairs(argv) do out[i] = (a:gsub("([,=]fd=)[^,]*", "%1N")) end
	return out
end

-- FNV-1a, 64 bits, over the words and their lengths: a change of one
-- word cannot be hidden by a shift of another.
function M.hash(argv)
	local parts = {}
	for i, a in ipairs(argv) do parts[i] = #a .. ":" .. a end
	return util.fnv64(table.concat(parts))
end

-- Each disk's identity: what tells that it was written since.
function M.disks(cfg)
	local out = {}
	for i, d in ipairs(cfg.disks or {}) do
		local st = core.stat(d.path)
		out[i] = { path = d.path, dev = st and st.dev, ino = st and st.ino,
			size = st and st.size, mtime = st and st.mtime }
	end
	return out
end

-- Why the state cannot be restored with this config (argv as start
-- would run it) | nil.  Checked before QEMU starts: nothing is changed.
function M.mismatch(name, meta, argv, cfg)
	local now = M.disks(cfg)
	local was = meta.disks or {}
	for i = 1, math.max(#now, #was) do
		local a, b = was[i], now[i]
		if not a or not b or a.path ~= b.path then
			return string.format("%s: the disks differ from the saved " ..
				"state's (%s)", name, tostring((a or b).path))
		end
		for _, k in ipairs({ "dev", "ino", "size", "mtime" }) do
			if a[k] ~= b[k] then
				return string.format("%s: disk %s changed since the save " ..
					"(%s); restoring would corrupt the guest's file " ..
					"systems", name, b.path, k)
			end
		end
	end
	local stable = M.stable_argv(argv)
	if M.hash(stable) ~= meta.argv_hash then
		local old, diff = meta.argv or {}, "?"
		for i = 1, math.max(#old, #stable) do
			if old[i] ~= stable[i] then
				diff = string.format("argument %d: %s, saved with %s", i,
					tostring(stable[i]), tostring(old[i]))
				break
			end
		end
		return string.format("%s: the QEMU command line differs from " ..
			"the saved state's (%s); undo the config change", name, diff)
	end
end

-- Waits (up to wait seconds) while a migration is still under way or
-- being cancelled (a save just undone): QEMU refuses a new one then.
-- QEMU's last migration status, or nil when QMP did not answer.
local BUSY = { setup = true, active = true, cancelling = true,
	["pre-switchover"] = true, device = true }
function M.settle(v, wait)
	local until_ = core.now() + wait
	while true do
		local r = v:qmp_call("query-migrate", nil, core.now() + wait)
		local st = type(r) == "table" and (r.status or "none")
		if not st or not BUSY[st] or core.now() >= until_ then
			return st, r
		end
		core.sleep(0.05)
	end
end

-- Writes the sidecar (atomically): true | nil, why.
function M.write_meta(f, m)
	m.version = M.VERSION
	return util.write_file_atomic(f.meta, util.json().encode(m) .. "\n",
		"0600")
end

return M
