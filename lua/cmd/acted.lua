-- What start, stop, kill, restart and reboot say they did: nothing on
-- success (their log lines say it), --json a document with "changed";
-- "nothing to do" (the VM already was as asked) is exit status 3.
local core = require "nvq.core"
local jsonout = require "base.jsonout"
local userlua = require "ulua.runner"
local util = require "base.util"

local M = {}

-- begin(opts) -> the time the action began.  With --json, standard
-- output holds the document alone: the log lines go to standard error.
function M.begin(opts)
	if opts.json then userlua.out = io.stderr end
	return core.now()
end

-- done(v, opt) -> exit status.  opt = { action, changed, how (the rung
-- or way it took), t0, json, why (when unchanged) }.
function M.done(v, opt)
	if opt.json then
		local state, pid = v:state()
		print(jsonout.encode({ name = v.name, action = opt.action,
			changed = opt.changed, state = jsonout.opt(state),
			pid = jsonout.opt(pid), how = jsonout.opt(opt.how),
			elapsed_s = jsonout.round(core.now() - opt.t0, 2) }))
	end
	if not opt.changed then
		io.stdout:flush()
		util.unchanged("%s", opt.why)
	end
	return 0
end

-- result(v, opt, ok, why, kind) -> exit status: an action's outcome,
-- the end of the process on a failure.
function M.result(v, opt, ok, why, kind)
	if ok then
		opt.changed = true
		if type(ok) == "string" then opt.how = opt.how or ok end
		return M.done(v, opt)
	end
	if kind == "unchanged" then
		opt.changed, opt.why = false, why
		return M.done(v, opt)
	end
	util.die("%s", tostring(why))
end

return M
