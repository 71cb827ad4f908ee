-- vm/force.lua: the one forcing of a VM that would not stop: QMP quit,
-- then SIGTERM, then SIGKILL, each given until its time on one schedule
-- counted from when forcing began.  Used by stop at its deadline (after
-- the shutdown policy) and by stopall at the global deadline, where
-- every VM forced at once shares the moment t0.  Written against the
-- handle alone (its clock too), so that a fake one can test it.
local M = {}

-- Seconds from t0 by which each rung must have ended QEMU before the
-- next is applied.
M.SCHEDULE = { quit = 2, term = 5, kill = 9 }
local REFUSED_WAIT = 0.5

local RUNGS = {
	{ name = "quit", what = "QMP quit", at = "quit",
		apply = function(v, t0) return v:quit(t0 + M.SCHEDULE.quit) end },
	{ name = "sigterm", what = "SIGTERM", at = "term",
		apply = function(v) return v:signal("TERM") end },
	{ name = "sigkill", what = "SIGKILL", at = "kill",
		apply = function(v) return v:signal("KILL") end },
}

-- force(v, t0 [, last]) -> the rung that ended QEMU | nil, why.
-- last is the rung applied before forcing (a guest slow to obey it may
-- go on its own): a QEMU found gone before a rung was reported as
-- ended by last (or "exited"); a rung refused (QMP not answering, the
-- process just going) does not count.
function M.force(v, t0, last)
	local pid = v.pid
	for _, r in ipairs(RUNGS) do
		if v:wait_exit(v:now()) then return last or "exited" end
		v:log("forcing: %s", r.what)
		local until_ = t0 + M.SCHEDULE[r.at]
		if r.apply(v, t0) then
			last = r.name
		else
			-- Refused: QEMU may be just going; a moment to finish.
			until_ = math.max(until_, v:now() + REFUSED_WAIT)
		end
		if v:wait_exit(until_) then return last or "exited" end
	end
	return nil, "QEMU (pid " .. tostring(pid) .. ") survived SIGKILL"
end

return M
