-- vm/seed.lua: a VM's cloud-init NoCloud seed, the volume labelled
-- cidata holding user-data, meta-data and network-config.  Built at
-- start, and only when what goes into it changed: a stamp beside it in
-- VM_DIR/name holds the hash of the last build.  qemu/media decides the
-- route (a makefs ISO9660 image on NetBSD, else a directory that QEMU's
-- vvfat presents as a FAT disk) and attaches it.
local core = require "nvq.core"
local media = require "qemu.media"
local paths = require "base.paths"
local util = require "base.util"

local format = string.format

local M = {}

local MAX_INPUT = 16 * 1024 * 1024	-- bytes in any one input file
local MAKEFS_WAIT = 60			-- seconds makefs may take

-- FNV-1a, 64 bits: tells one input from another, nothing more (the
-- inputs are the administrator's own files, not an adversary's).
function M.hash(s)
	local h = -3750763034362895579	-- 0xcbf29ce484222325
	local byte = string.byte
	-- 64 bytes per call of string.byte: far fewer calls than bytes.
	for i = 1, #s, 64 do
		local b = { byte(s, i, i + 63) }
		for j = 1, #b do
			h = (h ~ b[j]) * 1099511628211
		end
	end
	return format("%016x", h)
end

-- A file of the VM's cloud-init directory: its text, or nil when there
-- is none; nil, message when it cannot be read.
local function input(path)
	local st = core.stat(path)
	if not st then return nil end
	if st.type ~= "file" then
		return nil, path .. ": not a regular file"
	elseif st.size > MAX_INPUT then
		return nil, format("%s: over %d bytes", path, MAX_INPUT)
	end
	local s, err = util.read_file(path)
	if not s then return nil, err end
	return s
end

-- A YAML double-quoted scalar (JSON's string syntax is one).
local function quoted(s)
	return '"' .. s:gsub('[%c"\\]', function(c)
		return format("\\u%04x", c:byte())
	end) .. '"'
end

-- The user-data written when the directory has none: the keys of the
-- CLOUD_INIT_SSH_KEYS files, one per non-comment line.
function M.generated_user_data(keyfiles)
	local out = { "#cloud-config" }
	local keys = {}
	for _, f in ipairs(keyfiles) do
		local s, err = input(f)
		if not s then return nil, err or f .. ": does not exist" end
		for l in s:gmatch("[^\r\n]+") do
			l = l:match("^%s*(.-)%s*$")
			if l ~= "" and l:sub(1, 1) ~= "#" then
				keys[#keys + 1] = "  - " .. quoted(l)
			end
		end
	end
	if #keys > 0 then
		out[#out + 1] = "ssh_authorized_keys:"
		table.move(keys, 1, #keys, #out + 1, out)
	end
	return table.concat(out, "\n") .. "\n"
end

-- meta-data when there is none.  NoCloud runs its per-instance modules
-- (users, keys, runcmd) once per instance-id: one derived from the
-- user-data and network-config makes a changed file apply at the next
-- boot, as a new instance (which also gets new SSH host keys).
function M.generated_meta_data(name, user, net)
	local iid = name .. "-" .. M.hash(user .. "\0" .. (net or ""))
	return format("instance-id: %s\nlocal-hostname: %s\n", iid, name)
end

-- The seed's files: { ["user-data"] =, ["meta-data"] =,
-- ["network-config"] = or nil } | nil, message.
function M.files(cfg)
	local dir = paths.cloud_init_dir(cfg.name)
	local f, err = {}, nil
	for _, n in ipairs({ "user-data", "meta-data", "network-config" }) do
		f[n], err = input(dir .. "/" .. n)
		if err then return nil, err end
	end
	if not f["user-data"] then
		f["user-data"], err = M.generated_user_data(cfg.CLOUD_INIT_SSH_KEYS)
		if not f["user-data"] then return nil, err end
	end
	f["meta-data"] = f["meta-data"] or M.generated_meta_data(cfg.name,
		f["user-data"], f["network-config"])
	return f
end

local NAMES = { "meta-data", "network-config", "user-data" }

local function digest(route, files)
	local parts = { route }
	for _, n in ipairs(NAMES) do
		if files[n] then parts[#parts + 1] = n .. "\0" .. files[n] end
	end
	return M.hash(table.concat(parts, "\0\0"))
end

-- mkdir -p, the last one mode (VM_DIR/name is the VM's alone).
local function mkdirs(dir, mode)
	local p = ""
	for part in dir:gmatch("[^/]+") do
		p = p .. "/" .. part
		local st = core.stat(p)
		if not st then
			local ok, err = core.mkdir(p, p == dir and mode or "0755")
			if not ok and not core.stat(p) then return nil, err end
		elseif st.type ~= "dir" then
			return nil, p .. ": not a directory"
		end
	end
	return true
end

-- Removes a seed directory nvqctl made: its files, then itself.
local function remove_dir(d)
	for _, n in ipairs(core.readdir(d) or {}) do os.remove(d .. "/" .. n) end
	os.remove(d)
end

-- The files in a new directory d (0700, files 0600: user-data may
-- hold secrets): true | nil, message.
local function write_dir(d, files)
	remove_dir(d)
	local ok, err = core.mkdir(d, "0700")
	if not ok then return nil, err end
	for _, n in ipairs(NAMES) do
		if files[n] then
			ok, err = util.write_file_atomic(d .. "/" .. n, files[n], "0600")
			if not ok then
				remove_dir(d)
				return nil, err
			end
		end
	end
	return true
end

-- vvfat reads the directory when QEMU starts, and start holds the VM's
-- lock with QEMU not running: each file is replaced whole (a temporary
-- renamed over it), and a build cut short leaves the stamp as it was,
-- so the next start builds again.  No directory is made or removed
-- each time: on a busy disk those cost milliseconds.
local function build_vvfat(place, files)
	local st = core.stat(place.path)
	if not st then
		local ok, err = core.mkdir(place.path, "0700")
		if not ok then return nil, err end
	elseif st.type ~= "dir" then
		return nil, place.path .. ": not a directory"
	end
	for _, n in ipairs(NAMES) do
		local p = place.path .. "/" .. n
		if files[n] then
			local ok, err = util.write_file_atomic(p, files[n], "0600")
			if not ok then return nil, err end
		else
			os.remove(p)
		end
	end
	return true
end

-- makefs(8) -t cd9660: ISO9660 with Rock Ridge (the files keep their
-- names), volume label cidata.
local function build_iso(place, files)
	local src, tmp = place.path .. ".d", place.path .. ".tmp"
	local ok, err = write_dir(src, files)
	if not ok then return nil, err end
	os.remove(tmp)
	local r, rerr = core.run({ place.tool, "-t", "cd9660", "-o",
		"rockridge,label=cidata", tmp, src }, { stdout = "null",
		stderr = "capture", deadline = core.now() + MAKEFS_WAIT })
	remove_dir(src)
	local why = not r and rerr or r.timedout and "took too long" or
		r.status ~= 0 and (r.stderr ~= "" and r.stderr or "failed")
	if why then
		os.remove(tmp)
		return nil, format("makefs: %s", (tostring(why):gsub("\n$", "")))
	end
	core.chmod(tmp, "0600")
	ok, err = os.rename(tmp, place.path)
	if not ok then os.remove(tmp) end
	return ok, err
end

-- ensure(cfg) -> { path, rebuilt, hash, route } | nil, message.  The
-- stamp is written last: a build cut short is redone next time.  place
-- (qemu/media's seed_place) is for the tests of the route this host
-- does not take.
function M.ensure(cfg, place)
	place = place or media.seed_place(cfg)
	local files, err = M.files(cfg)
	if not files then return nil, "cloud-init: " .. err end
	local h = digest(place.route, files)
	local res = { path = place.path, hash = h, route = place.route,
		rebuilt = false }
	local stamp = util.read_file(place.stamp)
	if stamp == h .. "\n" and core.stat(place.path) then return res end
	local ok
	ok, err = mkdirs(place.dir, "0700")
	if ok then
		local build = place.route == "iso" and build_iso or build_vvfat
		ok, err = build(place, files)
	end
	if ok then ok, err = util.write_file_atomic(place.stamp, h .. "\n",
		"0600") end
	if not ok then
		return nil, format("cloud-init seed %s: %s", place.path, err)
	end
	res.rebuilt = true
	return res
end

return M
