-- move [--keep] <vm> [user@]host: the VM's config, its hook file and
-- the files of VM_DIR/VM (its disks: a disk elsewhere is refused) go to
-- the other host through one ssh connection and "nvqctl receive" there;
-- a VM that ran here is stopped first and started there, and removed
-- here only once it answers there.  Refused before anything stops when
-- the name or its directory exists there or room is short.  Whatever
-- fails, the VM stays whole here (and is started again if it ran).
local config = require "conf.load"
local core = require "nvq.core"
local fanout = require "remote.fanout"
local hosts = require "base.hosts"
local jsonout = require "base.jsonout"
local lifecycle = require "vm.lifecycle"
local merge = require "remote.merge"
local paths = require "base.paths"
local phases = require "ulua.phases"
local stream = require "remote.stream"
local util = require "base.util"
local vmarg = require "vm.arg"

local ASK_WAIT = 60		-- seconds for a question to the other host
local START_WAIT = 300		-- seconds for the start there
local SEND_WAIT = 7 * 86400	-- seconds for the files (a big disk, a
				-- slow link: ServerAlive finds a dead one)

local function plain(s) return (s:gsub("%p", "%%%0")) end

-- What goes: list of { role, path, rel }, and the bytes, or the end
-- of the command with why not.
local function gather(v, vmdir)
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
	for _, rel in ipairs(util.check(stream.files(vmdir))) do
		list[#list + 1] = { role = "vm", path = vmdir .. "/" .. rel,
			rel = rel }
	end
	local bytes = #text
	for i = 2, #list do bytes = bytes + core.stat(list[i].path).size end
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

-- The step that makes the VM still: today a stop through its ladder.
-- (A saved state would go here: saved, sent, restored there.)
local function quiesce(v)
	if not v:alive() then return { ran = false } end
	local t0 = core.now()
	local rung, why = lifecycle.stop(v, { context = "manual",
		force = v.cfg.SHUTDOWN_FORCE })
	if not rung then util.die("%s: not moved: %s", v.name, why) end
	return { ran = true, how = "stopped", t0 = t0 }
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
		local sig = core.caught()
		if sig then return nil, "interrupted by SIG" .. sig end
		return true
	end
end

local function rmtree(p)
	local st = core.stat(p, "l")
	if st and st.type == "dir" then
		for _, n in ipairs(core.readdir(p) or {}) do rmtree(p .. "/" .. n) end
		core.rmdir(p)
	elseif st then
		os.remove(p)
	end
end

return { run = function(pos, opts)
	local h = pos[2]
	if not hosts.valid(h) then
		util.usage_error("move: '%s' is not a host ([user@]host)", h)
	end
	local v = util.check(vmarg.open(pos[1]))
	util.check(v:lock())
	local vmdir = util.check(config.vm_dir(v.name))
	local list, bytes = gather(v, vmdir)
	local there = ask(h, { "receive", "--check", v.name, tostring(bytes) })
	local why = type(there.problems) == "table" and there.problems[1]
	if why then
		util.die("%s: not moved to %s: %s", v.name, h,
			table.concat(there.problems, "; "))
	end
	-- Disk paths in the config follow the directory to its place there.
	if type(there.vm_dir) == "string" and there.vm_dir ~= vmdir then
		local to = (there.vm_dir .. "/"):gsub("%%", "%%%%")
		list[1].data = list[1].data:gsub(plain(vmdir .. "/"), to)
	end
	core.catch_signals({ "INT", "TERM", "HUP", "PIPE" })
	local still = quiesce(v)
	local t0 = core.now()
	local feeder, ferr = fanout.feed(h, { "receive", v.name },
		t0 + SEND_WAIT)
	if not feeder then undo(v, still, "%s: not moved: %s", v.name, ferr) end
	local ok, serr = stream.send(feeder.write, list,
		progress_line(v.name, bytes) or function()
			local sig = core.caught()
			if sig then return nil, "interrupted by SIG" .. sig end
			return true
		end)
	local r = feeder.finish()
	if core.isatty(2) then io.stderr:write("\n") end
	local kind, rwhy = merge.failure(r)
	if not ok or kind or r.status ~= 0 then
		rwhy = rwhy or (r.stderr:match("([^\n]+)\n?$") or ""):gsub(
			"^nvqctl: ", "")
		undo(v, still, "%s: not moved to %s: %s; the VM is whole here",
			v.name, h, ok and rwhy or serr .. (rwhy ~= "" and
			" (" .. rwhy .. ")" or ""))
	end
	local sent = core.now() - t0
	if still.ran then
		local s = fanout.run({ h }, { "start", v.name },
			core.now() + START_WAIT)[1]
		local skind, swhy = merge.failure(s)
		if skind or s.status ~= 0 then
			undo(v, still, "%s: copied to %s but it did not start there " ..
				"(%s): it is whole on both hosts", v.name, h, swhy or
				(s.stderr:match("([^\n]+)\n?$") or ""):gsub("^nvqctl: ", ""))
		end
		local st = ask(h, { "status", "--json", v.name })
		if st.state ~= "running" then
			undo(v, still, "%s: copied to %s but it is %s there: it is " ..
				"whole on both hosts", v.name, h, tostring(st.state))
		end
	end
	local down = still.ran and core.now() - still.t0 or nil
	if not opts.keep then
		v:clear_stale()
		for i = #list, 1, -1 do os.remove(list[i].path) end
		rmtree(vmdir)
	end
	util.printf("%s: moved to %s%s: %d files, %.1f MiB (%.1f MiB of " ..
		"data, holes left out) in %.1fs%s%s\n", v.name, h,
		still.ran and " and running there" or "", #list, bytes / 2^20,
		ok / 2^20, sent, down and string.format("; down %.1fs", down)
		or "", opts.keep and "; kept here (stopped)" or "")
	return 0
end }
