-- remote/stream.lua: the stream "move" sends over ssh to "receive": a
-- VM's files, holes left out (a sparse disk stays sparse where the
-- file system allows), each end of it in one place.
--
--   NVQMOVE 1
--   F role size path	(role conf, hook, cidata (under the VM's
--   			cloud-init directory) or vm (under VM_DIR/VM))
--   C offset length	then length bytes; the chunks of the file before
--   E			its end
--   Z			the end of the stream
local core = require "nvq.core"

local M = {}

M.BLOCK = 64 * 1024	-- a block of zeros this size is a hole
local CHUNK = 16	-- blocks sent in one chunk at most

local ZERO = string.rep("\0", M.BLOCK)

-- files(dir) -> the regular files under dir, as paths relative to it,
-- sorted; nil, why for anything else there (a device, a socket).
function M.files(dir, rel, out)
	out = out or {}
	local names = core.readdir(dir .. (rel and "/" .. rel or ""))
	if not names then return out end
	table.sort(names)
	for _, n in ipairs(names) do
		local r = rel and rel .. "/" .. n or n
		local st = core.stat(dir .. "/" .. r, "l")
		if st and st.type == "dir" then
			local ok, why = M.files(dir, r, out)
			if not ok then return nil, why end
		elseif st and st.type == "file" then
			out[#out + 1] = r
		else
			return nil, string.format("%s/%s is not a regular file", dir, r)
		end
	end
	return out
end

-- send(write, list, progress) -> the data bytes sent | nil, why.
-- list: { role, path (here), rel [, data] }; write(bytes) -> true |
-- nil, why; progress(done) after each chunk -> true, or nil, why to
-- stop.
function M.send(write, list, progress)
	local ok, why = write("NVQMOVE 1\n")
	if not ok then return nil, why end
	local done = 0
	for _, e in ipairs(list) do
		-- e.data: the file's text as it is to arrive (an edited copy).
		local f, ferr
		if e.data then
			f = io.tmpfile()
			if f then f:write(e.data) end
		else
			f, ferr = io.open(e.path, "rb")
		end
		if not f then return nil, ferr or "no temporary file" end
		local size = f:seek("end")
		f:seek("set", 0)
		ok, why = write(string.format("F %s %d %s\n", e.role, size, e.rel))
		local off = 0
		while ok do
			-- A run of data blocks, up to CHUNK of them, holes skipped.
			local run, start = {}, nil
			while #run < CHUNK do
				local b = f:read(M.BLOCK)
				if not b then break end
				local here = off
				off = off + #b
				if b == ZERO:sub(1, #b) then
					if start then break end
				else
					start = start or here
					run[#run + 1] = b
				end
			end
			if not start then
				if off >= size then break end
			else
				local data = table.concat(run)
				ok, why = write(string.format("C %d %d\n", start, #data))
				if ok then ok, why = write(data) end
				done = done + #data
				if ok and progress then ok, why = progress(done) end
			end
			if off >= size then break end
		end
		f:close()
		if ok then ok, why = write("E\n") end
		if not ok then return nil, why end
	end
	ok, why = write("Z\n")
	if not ok then return nil, why end
	return done
end

-- sync(path) -> true | nil, why: the file (or directory) on stable
-- storage, before the sender removes its copy.  A read-only descriptor
-- serves: fsync(2) wants no write access on Linux or NetBSD.
function M.sync(path)
	local fd, why = core.openfile(path)
	if not fd then return nil, why end
	local ok, serr = core.fsync(fd)
	core.fdclose(fd)
	return ok, serr
end

-- receive(inp, place) -> { files, bytes } | nil, why.  inp: a file
-- (stdin); place(role, rel) -> the path to write, or nil, why.  A
-- stream cut short is an error: the caller removes what was written.
function M.receive(inp, place)
	if inp:read("l") ~= "NVQMOVE 1" then
		return nil, "not a move stream (or another version of it)"
	end
	local got = { files = 0, bytes = 0 }
	while true do
		local line = inp:read("l")
		if line == "Z" then return got end
		local role, size, rel = (line or ""):match("^F (%a+) (%d+) (.+)$")
		if not role then return nil, "the stream was cut short" end
		if rel:find("%.%.") or rel:find("^/") then
			return nil, "a path that leaves the VM's directory: " .. rel
		end
		local path, why = place(role, rel)
		if not path then return nil, why end
		local f, ferr = io.open(path, "wb")
		if not f then return nil, ferr end
		size = math.tointeger(tonumber(size))
		while true do
			line = inp:read("l")
			if line == "E" then break end
			local off, len = (line or ""):match("^C (%d+) (%d+)$")
			if not off then
				f:close()
				return nil, "the stream was cut short"
			end
			local data = inp:read(tonumber(len))
			if not data or #data ~= tonumber(len) then
				f:close()
				return nil, "the stream was cut short"
			end
			f:seek("set", tonumber(off))
			local wok, werr = f:write(data)
			if not wok then
				f:close()
				return nil, path .. ": " .. tostring(werr)
			end
			got.bytes = got.bytes + #data
		end
		-- A hole at the end: the size, with one byte written there.
		local ok, werr = true, nil
		if size > 0 and f:seek("end") < size then
			f:seek("set", size - 1)
			ok, werr = f:write("\0")
		end
		local cok, cerr = f:close()
		if ok and cok then ok, werr = M.sync(path) end
		if not (ok and cok) then
			return nil, path .. ": " .. tostring(werr or cerr)
		end
		got.files = got.files + 1
	end
end

return M
