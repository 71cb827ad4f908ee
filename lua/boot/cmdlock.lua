-- boot/cmdlock.lua: startall and stopall find each other through the
-- lock each holds while it runs (paths.boot_lock).  A stopall (the
-- host shutting down) ends a startall in progress, as SIGINT would,
-- before it looks at what runs, so that what that startall started is
-- stopped too and nothing starts after it; a startall refuses to run
-- during a stopall.  Each takes its own lock before it looks at the
-- other's, so of two that race, one always sees the other.
local core = require "nvq.core"
local paths = require "base.paths"

local M = {}

local END_WAIT = 10	-- seconds at most a startall gets to end on SIGTERM

local function take(command, deadline)
	local dir = paths.rundir()
	if not core.stat(dir) then core.mkdir(dir, "0755") end
	return core.lock(paths.boot_lock(command), deadline)
end

-- The PID holding command's lock, or nil.
local function holder(command)
	local pid = core.alive(paths.boot_lock(command))
	return pid
end

-- for_startall() -> lock | nil, why
function M.for_startall()
	local lk, why = take("startall", core.now())
	if not lk then
		if why ~= "timeout" then return nil, why end
		return nil, string.format("another startall (pid %s) is running",
			tostring(holder("startall")))
	end
	local pid = holder("stopall")
	if pid then
		lk:unlock()
		return nil, string.format("stopall (pid %d) is running", pid)
	end
	return lk
end

-- for_stopall(deadline, say) -> the locks (keep them) | nil, why
-- Waits for another stopall until deadline; ends a startall (SIGTERM,
-- then SIGKILL if it has not ended within END_WAIT or a third of the
-- time left) and waits for it.  say(fmt, ...) tells the progress.
function M.for_stopall(deadline, say)
	local other = holder("stopall")
	if other then say("waiting for another stopall (pid %d)", other) end
	local lk, why = take("stopall", deadline)
	if not lk then return nil, "stopall.lock: " .. tostring(why) end
	local pid = holder("startall")
	if not pid then return { lk } end
	say("ending startall (pid %d) first", pid)
	core.kill(pid, "TERM")
	local wait = math.min(END_WAIT, (deadline - core.now()) / 3)
	local slk = take("startall", core.now() + math.max(0, wait))
	if not slk then
		say("startall (pid %d) did not end on SIGTERM: SIGKILL", pid)
		core.kill(pid, "KILL")
		slk = take("startall", core.now() + 1)
	end
	return { lk, slk }
end

return M
