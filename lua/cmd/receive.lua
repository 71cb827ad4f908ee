-- receive [--check] <vm> [bytes]: the far end of "move", run by it
-- through ssh.  --check says (as JSON) whether a VM of that name with
-- bytes of files can come here; without it, the stream on standard
-- input is written beside the places it goes and renamed into them at
-- its end, the config last: a VM half received is never configured.
-- A saved state that came along is stamped with this host's paths and
-- disks (vm/restamp.lua), so that start restores it here.
local config = require "conf.load"
local core = require "nvq.core"
local jsonout = require "base.jsonout"
local paths = require "base.paths"
local phases = require "ulua.phases"
local restamp = require "vm.restamp"
local stream = require "remote.stream"
local util = require "base.util"

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

-- KiB free where path would be made (its nearest existing directory).
local function free_bytes(path)
	local d = path
	while d ~= "" and not core.stat(d) do d = dirname(d) end
	local r = core.run({ "df", "-Pk", d ~= "" and d or "/" },
		{ stdout = "capture", stderr = "null",
		deadline = core.now() + 10 })
	local avail = r and r.status == 0 and
		r.stdout:match("\n%S+%s+%d+%s+%d+%s+(%d+)")
	return avail and tonumber(avail) * 1024
end

-- Why the VM cannot come here: a list of reasons, empty when it can.
local function problems(name, bytes)
	local out = {}
	local vmdir = util.check(config.vm_dir(name))
	if core.stat(paths.vmconf(name)) then
		out[#out + 1] = string.format("a VM named %s is configured " ..
			"there (%s)", name, paths.vmconf(name))
	end
	if core.stat(vmdir) then
		out[#out + 1] = string.format("%s exists there: its disks " ..
			"would collide", vmdir)
	end
	local cidir = paths.cloud_init_dir(name)
	if core.stat(cidir) then
		out[#out + 1] = string.format("%s exists there: its cloud-init " ..
			"files would collide", cidir)
	end
	local free = free_bytes(vmdir)
	if bytes and free and free < bytes then
		out[#out + 1] = string.format("%s has %d MiB free there, %d MiB " ..
			"needed", dirname(vmdir), free // 2^20, math.ceil(bytes / 2^20))
	end
	return out, vmdir, free
end

local function mkdirs(d)
	if d == "" or core.stat(d) then return true end
	local ok, why = mkdirs(dirname(d))
	if not ok then return nil, why end
	return core.mkdir(d, "0700")
end

local function receive(name, vmdir)
	local part = ".receiving." .. core.getpid()
	local tmp = { vm = dirname(vmdir) .. "/." .. name .. part,
		conf = dirname(paths.vmconf(name)) .. "/." .. name .. part,
		hook = phases.dir() .. "/." .. name .. part,
		cidata = dirname(paths.cloud_init_dir(name)) .. "/." .. name ..
			part }
	local function clean() for _, p in pairs(tmp) do util.rmtree(p) end end
	core.catch_signals({ "INT", "TERM", "HUP", "PIPE" })
	local got, why = stream.receive(io.stdin, function(role, rel)
		if role == "vm" or role == "cidata" then
			local p = tmp[role] .. "/" .. rel
			local ok, merr = mkdirs(dirname(p))
			if not ok then return nil, merr end
			return p
		elseif role == "conf" or role == "hook" then
			local ok, merr = mkdirs(dirname(tmp[role]))
			if not ok then return nil, merr end
			return tmp[role]
		end
		return nil, "unknown role " .. role
	end)
	-- Into place, the config last; anything amiss removes it all (and
	-- only what this receive made).
	local ok, placed = got, {}
	local still = ok and problems(name)
	if ok and #still > 0 then ok, why = nil, still[1] end
	local function move(from, to)
		if not ok or not core.stat(from) then return end
		local mok, mwhy = mkdirs(dirname(to))
		if mok then mok, mwhy = os.rename(from, to) end
		if mok then placed[#placed + 1] = to else ok, why = nil, mwhy end
	end
	move(tmp.vm, vmdir)
	move(tmp.cidata, paths.cloud_init_dir(name))
	move(tmp.hook, phases.dir() .. "/" .. name .. ".lua")
	move(tmp.conf, paths.vmconf(name))
	-- The renames on stable storage too, before the sender lets go.
	for _, p in ipairs(placed) do
		if ok then ok, why = stream.sync(dirname(p)) end
	end
	local note
	if ok then
		local sok, sx = restamp.stamp(name)
		if sok then note = sx else ok, why = nil, sx end
	end
	if not ok then
		clean()
		for _, p in ipairs(placed) do util.rmtree(p) end
		util.die("%s: nothing kept here: %s", name, tostring(why))
	end
	return got, note
end

return { run = function(pos, opts)
	local name = pos[1]
	util.check(config.check_name(name))
	local bytes = pos[2] and util.whole(pos[2])
	if pos[2] and not bytes then
		util.usage_error("receive: '%s' is not a number of bytes", pos[2])
	end
	local list, vmdir, free = problems(name, bytes)
	if opts.check then
		print(jsonout.encode({ name = name, confdir = paths.confdir(),
			vm_dir = vmdir, free_bytes = jsonout.opt(free),
			problems = jsonout.array(list) }))
		return 0
	end
	if #list > 0 then util.die("%s: %s", name, list[1]) end
	local got, note = receive(name, vmdir)
	print(jsonout.encode({ name = name, files = got.files,
		bytes = got.bytes, note = jsonout.opt(note) }))
	return 0
end }
