-- ulua/trust.lua: whether a user's Lua file may run, and its text read
-- from the very file that was checked.  As root, only code nobody but
-- root can change runs (as sshd's StrictModes): the file, every
-- directory on its real path (from / down), and every symlink followed
-- to reach it.  The file is opened once and checked by fstat, so a
-- rename between the check and the read cannot slip other code in.
local core = require "nvq.core"
local paths = require "base.paths"

local M = {}

local MAX_LINKS = 32	-- symlinks followed to reach one file

local function dirname(p) return p:match("^(.*)/[^/]*$") or "." end

-- nil, or what is wrong with st (of path) and the command that fixes it.
-- A directory outside the config directory may be writable by all when
-- sticky (/tmp): no one can replace what another user put there.
local function unsafe(st, path, what, sticky_ok)
	if st.uid ~= 0 then
		return string.format("%s %s is owned by uid %d, not root " ..
			"(fix: %s %s)", what, path, st.uid, what == "symlink" and
			"chown -h root" or "chown root", path)
	end
	if what == "symlink" then return nil end
	local w = st.mode & 18	-- 022: group and other write bits
	if sticky_ok and st.mode & 512 ~= 0 then w = 0 end	-- 01000
	if w ~= 0 then
		local who = w == 18 and "group and others" or w == 16 and "group"
			or "others"
		return string.format("%s %s is writable by %s (mode %04o; fix: " ..
			"chmod go-w %s)", what, path, who, st.mode, path)
	end
end

-- resolve(path) -> real path, symlinks followed ({ path, st }), stat of
-- the file | nil, why.  By hand rather than realpath(3): every link on
-- the way is seen, and so checked.
local function resolve(path)
	if path:sub(1, 1) ~= "/" then
		local cwd, err = core.realpath(".")
		if not cwd then return nil, err end
		path = cwd .. "/" .. path
	end
	local todo, done, links = {}, {}, {}
	local function push(p)
		local parts = {}
		for c in p:gmatch("[^/]+") do parts[#parts + 1] = c end
		for i = #parts, 1, -1 do todo[#todo + 1] = parts[i] end
	end
	push(path)
	local st
	while #todo > 0 do
		local c = table.remove(todo)
		if c == ".." then
			done[#done] = nil
		elseif c ~= "." then
			local cur = "/" .. table.concat(done, "/") ..
				(#done > 0 and "/" or "") .. c
			local err
			st, err = core.stat(cur, true)
			if not st then return nil, err end
			if st.type == "link" then
				if #links >= MAX_LINKS then
					return nil, path .. ": too many symbolic links"
				end
				links[#links + 1] = { path = cur, st = st }
				local target
				target, err = core.readlink(cur)
				if not target then return nil, err end
				if target:sub(1, 1) == "/" then done = {} end
				push(target)
			else
				done[#done + 1] = c
			end
		end
	end
	return "/" .. table.concat(done, "/"), links, st
end

-- nil, or why a directory from dir up to / is not root's alone (outside
-- the config directory top, a sticky one may be writable by all).
local function unsafe_dirs(dir, top)
	while true do
		if dir == "" then dir = "/" end
		local st, err = core.stat(dir, true)
		if not st then return err end
		local inside = (dir .. "/"):sub(1, #top + 1) == top .. "/"
		local why = unsafe(st, dir, "directory", not inside)
		if why then return why end
		if dir == "/" then return nil end
		dir = dirname(dir)
	end
end

-- nil, or why root must not run the file at real path real: a directory
-- on the way, a symlink followed or a directory holding one is not
-- root's alone (in another user's directory a root-owned symlink could
-- be swapped for another by rename).
local function unsafe_path(real, links)
	local top = core.realpath(paths.confdir()) or paths.confdir()
	for _, l in ipairs(links) do
		local why = unsafe(l.st, l.path, "symlink") or
			unsafe_dirs(dirname(l.path), top)
		if why then return why end
	end
	return unsafe_dirs(dirname(real), top)
end

-- check(path) -> true | nil, why: what read() refuses, for a file or a
-- directory (the hooks directory, checked by nvqctl host), as root;
-- anyone else's runs risk only themselves.
function M.check(path)
	if core.geteuid() ~= 0 then return true end
	local real, links, st = resolve(path)
	if not real then return nil, links end
	local refuse = "refusing to run " .. path .. ": "
	local why = unsafe_path(real, links) or
		unsafe(st, path, st.type == "dir" and "directory" or "file")
	if why then return nil, refuse .. why end
	return true
end

-- read(path) -> text | nil, why: the source of a user file, checked
-- (as root) and read through one open descriptor.  Only root's runs are
-- checked: a user running nvqctl on their own files risks only
-- themselves.
function M.read(path)
	local root = core.geteuid() == 0
	local real, links, lst = resolve(path)
	if not real then return nil, links end
	local refuse = "refusing to run " .. path .. ": "
	if root then
		local why = unsafe_path(real, links)
		if why then return nil, refuse .. why end
	end
	local fd, st = core.openfile(real)
	if not fd then return nil, st end
	local function fail(why)
		core.fdclose(fd)
		return nil, why
	end
	if st.type ~= "file" then
		return fail(refuse .. real .. " is not a regular file")
	end
	if st.dev ~= lst.dev or st.ino ~= lst.ino then
		return fail(refuse .. real .. " changed while it was checked")
	end
	if root then
		local why = unsafe(st, path, "file")
		if why then return fail(refuse .. why) end
	end
	local parts = {}
	while true do
		local data, err = core.fdread(fd)
		if not data then return fail(path .. ": " .. tostring(err)) end
		if data == "" then break end
		parts[#parts + 1] = data
	end
	core.fdclose(fd)
	return table.concat(parts)
end

return M
