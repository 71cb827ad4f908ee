-- boot/sim.lua: the boot policy's API over a simulated clock, for
-- --dry-run: nothing is acted on, and every task takes its worst case,
-- so running the policy itself prints the plan it would follow and how
-- long it could take.
local bootrun = require "boot.run"
local ready = require "boot.ready"
local saver = require "vm.saver"

local M = {}

local function list(t)
	return type(t) == "table" and t or {}
end

-- Every task takes its worst case: a start its whole BOOT_READY_TIMEOUT
-- (0 for "started"), a stop its whole timeout, a forcing FORCE.kill.
function M.new(vms, opt)
	local run = bootrun.new(vms, opt)
	local api = bootrun.api({ dry_run = true }, run)
	local clock = run.t0

	function api.now() return clock end
	run.now = api.now
	function api.sleep_until(t) if t > clock then clock = t end end

	local function sim(v, kind, events)
		local t = { vm = v, name = v.name, kind = kind, pending = events,
			queue = {}, t0 = clock }
		run.rec[v.name].t0 = run.rec[v.name].t0 or clock
		return t
	end

	local function names(l)
		local s = {}
		for _, n in ipairs(list(l)) do s[#s + 1] = n end
		return #s > 0 and table.concat(s, " ") or nil
	end

	function api.start(v, o)
		o = o or {}
		local c = v.cfg
		local limit = c.BOOT_READY_TIMEOUT or 120
		local rd = o.ready_deadline or clock + limit
		local kind = type(c.BOOT_READY) == "table" and c.BOOT_READY.kind
		local worst = (kind == nil or kind == "started") and 0 or rd - clock
		local parts = { "ready when " .. bootrun.describe_ready(c) ..
			(worst > 0 and string.format(" (up to %ds)",
			math.floor(worst + 0.5))
			or "") }
		if (c.BOOT_DELAY or 0) > 0 then
			parts[#parts + 1] = "then " .. c.BOOT_DELAY .. "s delay"
		end
		if names(c.BOOT_AFTER) then
			parts[#parts + 1] = "after " .. names(c.BOOT_AFTER)
		end
		if names(c.BOOT_REQUIRES) then
			parts[#parts + 1] = "requires " .. names(c.BOOT_REQUIRES)
		end
		if not v.running and not c.broken and ready.taken(v) then
			parts[#parts + 1] = string.format("but %s:%s already " ..
				"accepts connections before the VM runs: that port " ..
				"cannot tell when it is ready", c.BOOT_READY.host,
				c.BOOT_READY.port)
		end
		if c.broken then
			api.log(v, "cannot start: %s", c.broken)
			return sim(v, "start", { { at = clock, kind = "failed",
				arg = c.broken } })
		end
		local what = v.running and "check (already running)" or
			(v.check and "check (needed, not in the list)" or
			v.saved and "restore its saved state" or "start")
		api.log(v, "would %s: %s", what, table.concat(parts, "; "))
		return sim(v, "start", {
			{ at = clock, kind = v.running and "already" or "started",
				arg = "" },
			{ at = clock + worst, kind = "ready", arg = "" } })
	end

	function api.stop(v, o)
		o = o or {}
		local timeout = o.timeout or v.cfg.SHUTDOWN_TIMEOUT
		local worst = timeout + (o.force_after and bootrun.FORCE.kill or 0)
		local blocked = o.action == "save" and v.running and
			saver.blocker(v)
		local act = o.action == "hibernate" and "hibernate it " ..
			"(HOST_SHUTDOWN=hibernate), else stop" or "stop"
		if blocked then
			act = "stop (HOST_SHUTDOWN=save, but QEMU cannot save it: " ..
				blocked .. ")"
		elseif o.action == "save" then
			api.log(v, "would save its state (HOST_SHUTDOWN=save), else " ..
				"stop through its shutdown policy (up to %ds)",
				math.floor(timeout + 0.5))
			return sim(v, "stop", { { at = clock, kind = "saved",
				arg = "state" } })
		end
		api.log(v, "would %s through its shutdown policy (up to %ds%s)",
			act, math.floor(timeout + 0.5), o.force_after and
			string.format(", then forced: up to %ds",
			math.floor(worst + 0.5)) or "")
		if o.force_after then
			return sim(v, "stop", {
				{ at = clock + timeout, kind = "forcing", arg = "" },
				{ at = clock + worst, kind = "forced", arg = "sigkill" } })
		end
		return sim(v, "stop", { { at = clock + worst, kind = "stopped",
			arg = "acpi" } })
	end

	function api.force(l)
		local out = {}
		for _, v in ipairs(l) do
			api.log(v, "would force: QMP quit, SIGTERM, SIGKILL (up to %ds)",
				bootrun.FORCE.kill)
			out[#out + 1] = sim(v, "force", { { at = clock +
				bootrun.FORCE.kill, kind = "stopped", arg = "sigkill" } })
		end
		return out
	end

	function api.leave(v, why)
		api.log(v, "would be left running: %s", why)
	end

	function api.wait(tasks, deadline)
		local best, bt
		for _, t in ipairs(tasks) do
			local e = t.pending[1]
			if e and (not best or e.at < best.at) then best, bt = e, t end
		end
		if not best then return nil, "idle" end
		if best.at > deadline then
			api.sleep_until(deadline)
			return nil, "timeout"
		end
		api.sleep_until(best.at)
		table.remove(bt.pending, 1)
		bt.done = #bt.pending == 0
		bt.state = best.kind
		bootrun.apply(run.rec[bt.name], bt, best.kind, best.arg)
		run.rec[bt.name].t1 = clock
		return bt, { kind = best.kind, arg = best.arg }
	end

	function api.current() return nil end

	return api, run
end

return M
