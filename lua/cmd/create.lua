-- cmd/create.lua: a new VM: its config, from the built-in example, and
-- the disks the options ask for, in VM_DIR/VM.  All or nothing: on any
-- failure exactly what was made is removed, and nothing that was there
-- is touched.
local config = require "conf.load"
local core = require "nvq.core"
local edit = require "conf.edit"
local jsonout = require "base.jsonout"
local make = require "disk.make"
local nic = require "net.nic"
local paths = require "base.paths"
local size = require "disk.size"
local undo = require "disk.undo"
local util = require "base.util"

local M = {}

-- mkdir -p: the config directory may not exist on a fresh install.
local function mkdirs(dir)
	local p = dir:sub(1, 1) == "/" and "" or "."
	for part in dir:gmatch("[^/]+") do
		p = p .. "/" .. part
		local st = core.stat(p)
		if not st then
			local ok, err = core.mkdir(p, "755")
			if not ok and not core.stat(p) then util.die("%s", err) end
		elseif st.type ~= "dir" then
			util.die("%s: not a directory", p)
		end
	end
end

-- The example's placeholder name is the word "example", never part of
-- another word (the example avoids "for example" for this reason).
function M.text(name)
	local text = require "core.example_conf"
	return (text:gsub("%f[%w_-]example%f[^%w_-]", name))
end

-- The options, checked before anything is made: usage errors.
local function options(opts)
	local o = { disks = {}, nets = opts.network or {} }
	if opts.cpus then
		local n = util.whole(opts.cpus)
		if not n or n < 1 or n > 255 then
			util.usage_error("create: --cpus %s: a number from 1 to 255",
				opts.cpus)
		end
		o.cpus = tostring(n)
	end
	if opts.memory then
		if not opts.memory:match("^%d+[MmGg]?$") then
			util.usage_error("create: --memory %s: a size such as 512M " ..
				"or 4G", opts.memory)
		end
		o.memory = opts.memory
	end
	for _, d in ipairs(opts.disk or {}) do
		local bytes, fmt = util.check(size.spec(d))
		o.disks[#o.disks + 1] = { size = bytes, format = fmt }
	end
	for _, n in ipairs(o.nets) do
		local ok, why = nic.parse(n)
		if not ok then util.usage_error("create: --network %s: %s", n, why) end
	end
	if opts.linked and not opts.from then
		util.usage_error("create: --linked needs --from")
	end
	if opts.from and not core.stat(opts.from) then
		util.die("%s: no such image", opts.from)
	end
	if opts.iso then
		local st = core.stat(opts.iso)
		if not st or st.type ~= "file" then
			util.die("%s: not a file (--iso)", opts.iso)
		end
		o.iso = core.realpath(opts.iso) or opts.iso
	end
	o.cloud_init = opts["cloud-init"]
	return o
end

-- The config text: the example with what the options set.
local function compose(name, file, o, disks)
	local text = M.text(name)
	local function set(key, v)
		text = util.check(edit.set(text, file, key, v))
	end
	if o.cpus then set("NCPU", o.cpus) end
	if o.memory then set("MEMORY", o.memory) end
	local list = {}
	for _, d in ipairs(disks) do list[#list + 1] = d.path .. ":" .. d.format end
	if #list > 0 then set("DISKS", edit.list(list)) end
	if #o.nets > 0 then set("NETWORK", edit.list(o.nets)) end
	if o.iso then set("ISO", o.iso) end
	if o.cloud_init then set("CLOUD_INIT", "yes") end
	return text
end

-- The disks to make in dir: --from's first (the boot disk), then
-- --disk's, named diskN in that order.  --from's image is looked at
-- (qemu-img info) but nothing is made yet.
local function plan(dir, o, opts)
	local out = {}
	local function name(fmt)
		return dir .. "/disk" .. #out .. make.EXT[fmt]
	end
	if opts.from then
		local image = core.realpath(opts.from) or opts.from
		local fmt = util.check(make.format_of(image))
		local dfmt = (opts.linked or fmt ~= "raw") and "qcow2" or "raw"
		out[1] = { path = name(dfmt), format = dfmt, image = image,
			image_format = fmt, linked = opts.linked }
	end
	for _, d in ipairs(o.disks) do
		out[#out + 1] = { path = name(d.format), format = d.format,
			size = d.size }
	end
	return out
end

-- Makes the planned disks; true | nil, message.
local function make_disks(name, disks, json, u)
	if #disks == 0 then return true end
	local dir, err = make.vmdir(name, u)
	if not dir then return nil, err end
	for _, d in ipairs(disks) do
		local ok, merr
		if d.linked then
			ok, merr = make.overlay(d.image, d.image_format, d.path, u)
			d.backing = d.image
		elseif d.image then
			ok, merr = make.copy(d.image, d.image_format, d.path, u,
				core.isatty(1) and not json)
		else
			ok, merr = make.new(d.path, d.format, d.size, u)
		end
		if not ok then return nil, merr end
	end
	return true
end

local function report(name, path, dir, disks, json)
	if json then
		local list = {}
		for _, d in ipairs(disks) do
			list[#list + 1] = { path = d.path, format = d.format,
				size_bytes = jsonout.opt(d.size),
				source = jsonout.opt(d.image),
				backing = jsonout.opt(d.backing) }
		end
		io.stdout:write(jsonout.encode({ name = name, config = path,
			vm_dir = jsonout.opt(dir), disks = jsonout.array(list) }), "\n")
		return
	end
	util.printf("created %s\n", path)
	for _, d in ipairs(disks) do
		util.printf("  disk %s (%s%s)\n", d.path, d.format,
			d.size and ", " .. size.human(d.size) or
			d.backing and ", overlay on " .. d.backing or "")
	end
	util.printf("edit it with: nvqctl config %s\n", name)
end

function M.run(pos, opts)
	local name = pos[1]
	util.check(config.check_name(name))
	local o = options(opts)
	local path = paths.vmconf(name)
	if core.stat(path) then
		util.die("VM %s already exists (%s)", name, path)
	end
	-- The config as it will be, checked before anything is made.
	local dir = util.check(config.vm_dir(name))
	local disks = plan(dir, o, opts)
	local text = compose(name, path, o, disks)
	util.check(config.check_text(text, name, path))
	mkdirs(paths.vmconfdir())
	local u = undo.new()
	local ok, err = make_disks(name, disks, opts.json, u)
	if ok then ok, err = u:go_on() end
	if ok then ok, err = util.write_file_new(path, text) end
	if not ok then
		u:rollback()
		if core.stat(path) then
			util.die("VM %s already exists (%s)", name, path)
		end
		util.die("create %s: %s", name, err)
	end
	u:commit()
	report(name, path, #disks > 0 and dir or nil, disks, opts.json)
	return 0
end

return M
