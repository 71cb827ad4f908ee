-- vm/poststop.lua: post_stop runs exactly once for every QEMU run, with no
-- daemon to notice an exit.  start leaves a marker in the run directory
-- before it runs QEMU; whichever command first finds QEMU gone while the
-- marker is there (stop, kill, list, status, start, top, ...) removes it
-- under the VM's lock and runs the post_stop hooks.  The lock makes two
-- commands noticing at once run them once; the marker's renaming to
-- run.firing decides who runs them even if a hook is slow.  run.firing
-- (the runner's PID and the reason) goes only once the hooks are done:
-- post_stop cut off with its runner (a stopall task killed at the
-- deadline) is run again by the next command that finds it there with
-- its runner gone.
local child = require "base.child"
local core = require "nvq.core"
local hooks = require "ulua.phases"
local paths = require "base.paths"
local userlua = require "ulua.runner"
local vm = require "vm.handle"
local vmarg = require "vm.arg"

local M = {}

local function marker(v) return v.rt.dir .. "/run.pending" end
local function firing(dir) return dir .. "/run.firing" end

-- The reason of a post_stop cut off with its runner, or nil.
local function orphaned(dir)
	local f = io.open(firing(dir), "rb")
	if not f then return nil end
	local line = f:read("l") or ""
	f:close()
	local pid, reason = line:match("^(%d+)\t(.*)$")
	pid = tonumber(pid)
	if not pid or pid == core.getpid() or core.procstat(pid) then
		return nil
	end
	return reason
end

-- Called by start with the lock held, before QEMU runs.
function M.arm(v)
	local f = io.open(marker(v), "wb")
	if not f then return nil, "cannot write " .. marker(v) end
	f:write(string.format("%.0f\n", core.time()))
	f:close()
	return true
end

function M.pending(v)
	return core.stat(marker(v)) ~= nil or orphaned(v.rt.dir) ~= nil
end

-- fire(v, reason, opt): the caller holds the lock and QEMU is gone.
-- Runs post_stop if this run's marker is still there.  opt: context,
-- deadline.
function M.fire(v, reason, opt)
	opt = opt or {}
	local fmark = firing(v.rt.dir)
	if not os.rename(marker(v), fmark) then
		local again = orphaned(v.rt.dir)
		if not again then return false end
		reason = again
	end
	local f = io.open(fmark, "wb")
	if f then
		f:write(string.format("%d\t%s\n", core.getpid(), reason))
		f:close()
	end
	hooks.run(v, "post_stop", { reason = reason,
		context = opt.context or "manual", deadline = opt.deadline })
	os.remove(fmark)
	return true
end

-- How long a command that only looks waits for the post_stop it set off
-- (seconds): a quick hook's lines still come with the command's output;
-- a slow one goes on alone.
M.NOTICE_WAIT = 1

-- The post_stop runs notice() set off that had not ended when it
-- returned: reaped by a later call (top calls it every frame).
local running = {}

local function reap_finished()
	for c in pairs(running) do
		if c:reap(0) then running[c] = nil end
	end
end

-- notice(name): for commands that only look (list, status, top): a
-- QEMU gone with its marker still there gets its post_stop now, if the
-- lock is free at once; a command holding it will see to it (or the
-- next command will).  Never waits for the lock, and waits for the
-- hooks at most NOTICE_WAIT: they run in a child process in a group of
-- its own that holds the lock and finishes them after the command has
-- returned or been interrupted (standard output left to the command;
-- a reader of its standard error still waits for them, at most their
-- HOOK_TIMEOUT).  What the hooks print goes to standard
-- error: standard output is the command's (--json).
function M.notice(name)
	reap_finished()
	local rt = paths.runtime(name)
	if not (core.stat(rt.dir .. "/run.pending") or orphaned(rt.dir)) or
	    core.alive(rt.pidfile) then
		return
	end
	local c = child.spawn(function()
		-- Standard output is the command's, maybe a pipe whose reader
		-- waits for every writer to end (list --json | jq): let go of
		-- it, /dev/null taking descriptor 1 (the lowest free one) so no
		-- file opened later gets it.  The hooks' lines go to standard
		-- error.
		io.stdout:flush()
		core.fdclose(1)
		local null <close> = io.open("/dev/null", "w")
		local lk = core.lock(rt.lock, core.now())
		if not lk then return end
		vm.held(rt.lock)
		local v = vm.open(name, vmarg.config(name, "list"))
		if not v:alive() and M.pending(v) then
			userlua.out = io.stderr
			M.fire(v, "exited")
			v:clear_stale()
		end
		lk:unlock()
	end, { outlive = true })
	if not c then return end
	core.fdclose(c.fd)
	c.fd = nil
	if not c:reap(M.NOTICE_WAIT) then running[c] = true end
end

return M
