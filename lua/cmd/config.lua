-- cmd/config.lua: edits a VM config the way visudo edits sudoers: the
-- user edits a copy, and only a copy that passes the checks start makes
-- replaces the file, in one rename.
local config = require "conf.load"
local core = require "nvq.core"
local macs = require "vm.macs"
local paths = require "base.paths"
local util = require "base.util"

local M = {}

-- $EDITOR may carry arguments ("vi -n", "code --wait"); like sudo's
-- visudo it is split at blanks and run without a shell.
function M.editor_argv(file)
	local e = os.getenv("EDITOR")
	if e == nil or not e:find("%S") then e = "vi" end
	local argv = {}
	for w in e:gmatch("%S+") do argv[#argv + 1] = w end
	argv[#argv + 1] = file
	return argv
end

local function edit(argv)
	local r, err = core.run(argv, { stdin = "inherit" })
	if not r then return nil, err end
	if r.status ~= 0 then
		return nil, string.format("editor %s failed (%s)", argv[1],
			r.status and "exit status " .. r.status or
			"signal " .. tostring(r.signal))
	end
	return true
end

-- visudo's choices.  Saving a file that failed the checks takes the
-- capital Q, so it cannot happen by a slip of the finger.
local function what_now()
	while true do
		io.stderr:write("What now? (e)dit again, e(x)it without saving, " ..
			"(Q)uit and save anyway: ")
		io.stderr:flush()
		local a = io.stdin:read("l")
		if a == nil then return "x" end
		a = a:match("^%s*(.-)%s*$")
		if a == "e" or a == "E" then return "e" end
		if a == "x" or a == "X" then return "x" end
		if a == "Q" then return "Q" end
		io.stderr:write("Options are:\n",
			"  (e)dit again: edit the file again\n",
			"  e(x)it: leave the config unchanged\n",
			"  (Q)uit: save the file as it is, errors and all\n")
	end
end

local function install(tmp, path, orig)
	-- Someone may have written the file meanwhile (not through nvqctl,
	-- which holds the lock): do not overwrite their change blindly.
	if util.read_file(path) ~= orig then
		util.die("%s changed while you edited it; your version is in %s",
			path, tmp)
	end
	local ok, err = os.rename(tmp, path)
	if not ok then
		os.remove(tmp)
		util.die("%s", err)
	end
end

function M.run(pos)
	local name = pos[1]
	util.check(config.check_name(name))
	local path = paths.vmconf(name)
	local st = core.stat(path)
	if not st then util.die("no such VM: %s (%s)", name, path) end
	local orig, rerr = util.read_file(path)
	if not orig then util.die("%s", rerr) end
	-- A config that is a symlink is edited where it points: renaming the
	-- copy onto the link would replace the link and leave the file.
	local real = core.realpath(path) or path

	-- Two editors on one VM would lose one's work: a lock on the config
	-- file itself, released when this process ends.
	local lock, lerr = core.lock(path, core.now())
	if not lock then
		if lerr == "timeout" then
			util.die("%s is being edited by another nvqctl config", path)
		end
		util.die("%s", lerr)
	end

	-- The copy sits next to the file, so the rename is atomic; the leading
	-- dot and the inner dot keep it out of the VM list.
	local tmp = string.format("%s/.%s.edit-%d.conf", real:match("^(.*)/"),
		name, core.getpid())
	local f, ferr = io.open(tmp, "wb")
	if not f then util.die("%s", ferr) end
	f:write(orig)
	f:close()
	core.chmod(tmp, st.mode)

	-- As system(3) does: ^C and ^\ at the terminal belong to the editor,
	-- and nvqctl must live on to remove its copy.  The editor itself
	-- gets the default actions back when it is executed.
	core.catch_signals({ "INT", "QUIT" })
	local argv = M.editor_argv(tmp)
	while true do
		local ok, eerr = edit(argv)
		core.caught()
		if not ok then
			os.remove(tmp)
			util.die("%s; %s unchanged", eerr, path)
		end
		local new = util.read_file(tmp)
		if new == nil then
			util.die("%s has gone; %s unchanged", tmp, path)
		end
		if new == orig then
			os.remove(tmp)
			util.printf("%s: no changes\n", path)
			return 0
		end
		local cfg, msg = config.check_file(tmp, name, path)
		if cfg then
			for _, w in ipairs(cfg.warnings) do util.warn("%s", w) end
			for _, w in ipairs(macs.of(cfg)) do util.warn("%s", w) end
			install(tmp, real, orig)
			util.printf("%s: saved\n", path)
			return 0
		end
		io.stderr:write("nvqctl: ", msg, "\n")
		local choice = core.isatty(0) and what_now() or "x"
		if choice == "x" then
			os.remove(tmp)
			io.stderr:write("nvqctl: ", path, " unchanged\n")
			return 1
		elseif choice == "Q" then
			install(tmp, real, orig)
			util.warn("%s saved with errors: start will refuse it", path)
			return 0
		end
	end
end

return M
