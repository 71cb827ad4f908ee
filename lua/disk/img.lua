-- disk/img.lua: the qemu-img runs nvqctl makes, each an argv run
-- without a shell (core.run), each with a deadline.  Every function
-- returns its result or nil, message naming the image.
local core = require "nvq.core"
local qbin = require "qemu.bin"
local util = require "base.util"

local M = {}

local QUICK = 60	-- seconds for metadata work (create, snapshot, info)
local COPY = 86400	-- seconds a copy may take: a disk may be huge

-- qemu-img's path, found as QEMU_BIN's default is; nil, message.
local function prog()
	local p = qbin.find("qemu-img")
	if p then return p end
	return nil, "qemu-img not found (in " .. qbin.PKGSRC .. " or on " ..
		"PATH); it comes with QEMU (Debian: apt-get install qemu-utils)"
end

-- Runs qemu-img with args: its stdout | nil, message.  progress: its
-- output goes to the terminal (convert -p).
local function run(args, secs, progress)
	local p, perr = prog()
	if not p then return nil, perr end
	local argv = { p }
	table.move(args, 1, #args, 2, argv)
	local r, err = core.run(argv, { stdout = progress and "inherit" or
		"capture", stderr = "capture", deadline = core.now() + secs })
	if not r then return nil, "qemu-img: " .. tostring(err) end
	if r.timedout then
		return nil, string.format("qemu-img %s: no result within %d s",
			args[1], secs)
	end
	if r.status ~= 0 then
		local msg = (r.stderr or ""):gsub("%s+$", "")
		if msg == "" then
			msg = r.signal and "killed by signal " .. r.signal or
				"exit " .. tostring(r.status)
		end
		return nil, msg
	end
	return r.stdout or ""
end

-- A new image of bytes bytes.
function M.create(path, fmt, bytes)
	return run({ "create", "-q", "-f", fmt, path, tostring(bytes) }, QUICK)
end

-- A qcow2 overlay on backing (absolute), whose format is bfmt.
function M.overlay(path, backing, bfmt)
	return run({ "create", "-q", "-f", "qcow2", "-b", backing, "-F", bfmt,
		path }, QUICK)
end

-- A full copy; progress on the terminal when progress is true.
function M.convert(src, sfmt, dst, dfmt, progress)
	local args = { "convert", "-f", sfmt, "-O", dfmt }
	if progress then args[#args + 1] = "-p" end
	table.move({ src, dst }, 1, 2, #args + 1, args)
	return run(args, COPY, progress)
end

-- qemu-img info as a table (format, virtual-size, snapshots...).
-- share: -U, for an image a running QEMU holds.
function M.info(path, fmt, share)
	local args = { "info", "--output=json" }
	if fmt then table.move({ "-f", fmt }, 1, 2, #args + 1, args) end
	if share then args[#args + 1] = "-U" end
	args[#args + 1] = path
	local out, err = run(args, QUICK)
	if not out then return nil, err end
	local ok, t = pcall(util.json().decode, out)
	if not ok or type(t) ~= "table" then
		return nil, "qemu-img info " .. path .. ": unreadable output"
	end
	return t
end

-- op: "-c" create, "-a" apply, "-d" delete a snapshot named tag.
function M.snapshot(op, path, tag)
	return run({ "snapshot", "-q", op, tag, path }, QUICK)
end

function M.resize(path, fmt, bytes)
	return run({ "resize", "-q", "-f", fmt, path, tostring(bytes) }, QUICK)
end

return M
