-- move [--keep] [--json] <vm> [user@]host: the VM's config, its hook
-- file, its cloud-init files and the files of VM_DIR/VM (its disks: a
-- disk elsewhere is refused) go to the other host through one ssh
-- connection and "nvqctl receive" there.  A VM that runs here is saved
-- (its memory goes too, and it is restored there) where QEMU can save
-- it, else stopped through its ladder and booted there; it is removed
-- here only once it runs there.  Refused before anything stops when the
-- name or its directories exist there or room is short.  Whatever
-- fails, the VM stays whole here (and runs again if it ran).
local config = require "conf.load"
local core = require "nvq.core"
local fanout = require "remote.fanout"
local hosts = require "base.hosts"
local jsonout = require "base.jsonout"
local lifecycle = require "vm.lifecycle"
local merge = require "remote.merge"
local paths = require "base.paths"
local phases = require "ulua.phases"
local restamp = require "vm.restamp"
local savefile = require "vm.savefile"
local saver = require "vm.saver"
local stream = require "remote.stream"
local userlua = require "ulua.runner"
local util = require "base.util"
local vmarg = require "vm.arg"

local ASK_WAIT = 60		-- seconds for a question to the other host
local START_WAIT = 300		-- seconds for the start there
local SEND_WAIT = 7 * 86400	-- seconds for the files (a big disk, a
				-- slow link: ServerAlive finds a dead one)

local function plain(s) return (s:gsub("%p", "%%%0")) end

local STATE_MARGIN = 64 * 2^20	-- bytes beyond RAM for a saved state

-- The files under dir as list entries of role.
local function add_tree(list, role, dir)
	for _, rel in ipairs(util.check(stream.files(dir))) do
		list[#list + 1] = { role = role, path = dir .. "/" .. rel,
			rel = rel }
	end
end

-- What goes: list of { role, path, rel [, data] }, and the bytes, or
-- the end of the command with why not.  mark: the sender's directories,
-- put in a saved state's sidecar for the other side (vm/restamp.lua).
local function gather(v, vmdir, mark)
	local text = assert(io.open(v.cfg.file, "rb")):read("a")
	local list = { { role = "conf", path = v.cfg.file, rel = "conf",
		data = text } }
	local hook = phases.dir() .. "/" .. v.name .. ".lua"
	if core.stat(hook) then
		list[#list + 1] = { role = "hook", path = hook, rel = "hook" }
	end
	for _, d in ipairs(v.cfg.disks or {}) do
		if d.path:sub(1, #vmdir + 1) ~= vmdir .. "/" then
			util.die("%s: disk %s is not in %s: move carries only the " ..
				"VM's own directory", v.name, d.path, vmdir)
		end
	end
	add_tree(list, "cidata", paths.cloud_init_dir(v.name))
	add_tree(list, "vm", vmdir)
	local bytes = #text
	for i = 2, #list do
		local e = list[i]
		if mark and e.role == "vm" and e.rel == "state.json" then
			local m = jsonout.decode(util.read_file(e.path) or "")
			if m then
				m.moved = mark
				e.data = util.json().encode(m) .. "\n"
			end
		end
		bytes = bytes + (e.data and #e.data or core.stat(e.path).size)
	end
	return list, bytes
end

-- One command there: its JSON document, or the end with why not.
local function ask(h, args)
	local r = fanout.run({ h }, args, core.now() + ASK_WAIT)[1]
	local kind, why = merge.failure(r)
	if kind then util.die("%s: %s", h, why) end
	if r.status ~= 0 then
		util.die("%s: %s", h, (r.stderr:match("([^\n]+)\n?$") or
			"exit " .. r.status):gsub("^nvqctl: ", ""))
	end
	return jsonout.decode(r.stdout) or util.die("%s: %s answered no JSON",
		h, args[1])
end

-- How the VM will be made still: nil when it does not run, "saved"
-- where QEMU can save it, else "stopped" and why it cannot be saved.
local function plan(v)
	if not v:alive() then return nil end
	local blocked = saver.blocker(v)
	if blocked then return "stopped", blocked end
	return "saved"
end

-- The step that makes the VM still: its state saved (the guest keeps
-- its memory), or a stop through its ladder.
local function quiesce(v, how)
	if not how then return { ran = false } end
	local t0 = core.now()
	if how == "saved" then
		local size, why = saver.save(v, { context = "manual" })
		if not size then util.die("%s: not moved: %s", v.name, why) end
	else
		local rung, why = lifecycle.stop(v, { context = "manual",
			force = v.cfg.SHUTDOWN_FORCE })
		if not rung then util.die("%s: not moved: %s", v.name, why) end
	end
	return { ran = true, how = how, t0 = t0 }
end

-- Back as it was here, after a failure past the stop.
local function undo(v, still, fmt, ...)
	local msg = string.format(fmt, ...)
	if still.ran then
		local pid, why = lifecycle.start(v, { context = "manual" })
		msg = msg .. (pid and "; started again here" or
			"; it did not start again here: " .. tostring(why))
	end
	util.die("%s", msg)
end

local function interrupted()
	local sig = core.caught()
	if sig then return nil, "interrupted by SIG" .. sig end
	return true
end

local function progress_line(name, total)
	if not core.isatty(2) then return nil end
	local t0, last = core.now(), 0
	return function(done)
		local now = core.now()
		if now - last >= 0.5 or done >= total then
			last = now
			io.stderr:write(string.format("\r%s: %d of %d MiB, %.0f MiB/s ",
				name, done // 2^20, total // 2^20,
				done / 2^20 / math.max(now - t0, 0.001)))
		end
		return interrupted()
	end
end

-- The last line of a command's stderr, without the program's name.
local function last_err(r)
	return ((r.stderr or ""):match("([^\n]+)\n?$") or ""):gsub(
		"^nvqctl: ", "")
end

-- Refused, before anything stops, when the other side cannot take it.
local function check_there(v, h, bytes)
	local there = ask(h, { "receive", "--check", v.name, tostring(bytes) })
	if type(there.problems) == "table" and there.problems[1] then
		util.die("%s: not moved to %s: %s", v.name, h,
			table.concat(there.problems, "; "))
	end
	return there
end

-- The files to the other side: its receive's JSON document, or the
-- VM back as it was here.
local function send(v, h, still, list, bytes)
	local feeder, ferr = fanout.feed(h, { "receive", v.name },
		core.now() + SEND_WAIT)
	if not feeder then undo(v, still, "%s: not moved: %s", v.name, ferr) end
	local ok, serr = stream.send(feeder.write, list,
		progress_line(v.name, bytes) or interrupted)
	local r = feeder.finish()
	if core.isatty(2) then io.stderr:write("\n") end
	local kind, rwhy = merge.failure(r)
	if not ok or kind or r.status ~= 0 then
		rwhy = rwhy or last_err(r)
		undo(v, still, "%s: not moved to %s: %s; the VM is whole here",
			v.name, h, ok and rwhy or serr .. (rwhy ~= "" and
			" (" .. rwhy .. ")" or ""))
	end
	return ok, jsonout.decode(r.stdout or "") or {}
end

-- Started there (a saved state restored), and answering.
local function start_there(v, h, still)
	local s = fanout.run({ h }, { "start", v.name },
		core.now() + START_WAIT)[1]
	local skind, swhy = merge.failure(s)
	if skind or s.status ~= 0 then
		undo(v, still, "%s: copied to %s but it did not start there " ..
			"(%s): it is whole on both hosts", v.name, h,
			swhy or last_err(s))
	end
	local st = ask(h, { "status", "--json", v.name })
	if st.state ~= "running" then
		undo(v, still, "%s: copied to %s but it is %s there: it is " ..
			"whole on both hosts", v.name, h, tostring(st.state))
	end
end

-- What is left here: nothing, or with --keep the stopped VM (a saved
-- state went with it: booting both copies from it would make twins).
local function leave(v, list, vmdir, keep)
	if keep then
		local sf = savefile.files(v.name)
		if sf then savefile.discard(sf) end
		return
	end
	v:clear_stale()
	for i = #list, 1, -1 do os.remove(list[i].path) end
	util.rmtree(paths.cloud_init_dir(v.name))
	util.rmtree(vmdir)
end

local function report(v, h, opts, r)
	if opts.json then
		print(jsonout.encode({ name = v.name, host = h, changed = true,
			how = jsonout.opt(r.how), running = r.ran,
			files = r.files, bytes = r.bytes, data_bytes = r.data,
			seconds = jsonout.round(r.sent, 3),
			downtime_s = jsonout.opt(jsonout.round(r.down, 3)),
			kept = opts.keep == true, note = jsonout.opt(r.note) }))
		return
	end
	if r.note then util.warn("%s: %s: %s", v.name, h, r.note) end
	util.printf("%s: moved to %s%s: %d file%s, %.1f MiB (%.1f MiB of " ..
		"data, holes left out) in %.1fs%s%s\n", v.name, h,
		r.how == "saved" and " and restored there (saved here)" or
		r.ran and " and running there" or "", r.files,
		r.files == 1 and "" or "s", r.bytes / 2^20,
		r.data / 2^20, r.sent, r.down and string.format("; down %.1fs",
		r.down) or "", opts.keep and "; kept here (stopped)" or "")
end

return { run = function(pos, opts)
	local h = pos[2]
	if not hosts.valid(h) then
		util.usage_error("move: '%s' is not a host ([user@]host)", h)
	end
	-- With --json, standard output holds the document alone.
	if opts.json then userlua.out = io.stderr end
	local v = util.check(vmarg.open(pos[1]))
	util.check(v:lock())
	local vmdir = util.check(config.vm_dir(v.name))
	local how, blocked = plan(v)
	local list, bytes = gather(v, vmdir)
	local need = bytes + (how == "saved" and
		v.cfg.MEMORY * 2^20 + STATE_MARGIN or 0)
	local there = check_there(v, h, math.ceil(need))
	if how == "stopped" and not opts.json then
		util.warn("%s: QEMU cannot save it (%s): it is shut down here " ..
			"and booted there", v.name, blocked)
	end
	core.catch_signals({ "INT", "TERM", "HUP", "PIPE" })
	local still = quiesce(v, how)
	if how == "saved" then
		list, bytes = gather(v, vmdir, restamp.mark(vmdir))
	end
	-- Disk paths in the config follow the directory to its place there.
	if type(there.vm_dir) == "string" and there.vm_dir ~= vmdir then
		local to = (there.vm_dir .. "/"):gsub("%%", "%%%%")
		list[1].data = list[1].data:gsub(plain(vmdir .. "/"), to)
	end
	local t0 = core.now()
	local data, got = send(v, h, still, list, bytes)
	local sent = core.now() - t0
	if still.ran then start_there(v, h, still) end
	local down = still.ran and core.now() - still.t0 or nil
	leave(v, list, vmdir, opts.keep)
	report(v, h, opts, { how = still.how, ran = still.ran,
		files = #list, bytes = bytes, data = data, sent = sent,
		down = down, note = type(got.note) == "string" and got.note
		or nil })
	return 0
end }
