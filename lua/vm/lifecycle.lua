-- vm/lifecycle.lua: start, stop and kill one VM.  The commands (and
-- restart, which chains two of them under one lock) are built on these.
local config = require "conf.load"
local core = require "nvq.core"
local display = require "vm.display"
local force = require "vm.force"
local hooks = require "ulua.phases"
local macs = require "vm.macs"
local poststop = require "vm.poststop"
local qemuargv = require "qemu.argv"
local seed = require "vm.seed"
local restore = require "vm.restore"
local savefile = require "vm.savefile"
local taps = require "net.taps"
local userlua = require "ulua.runner"
local util = require "base.util"
local vm = require "vm.handle"

local M = {}

local START_WAIT = 60		-- seconds for QEMU to daemonize
local QMP_READY_WAIT = 10	-- seconds for QMP to answer after that
local PRE_START_WAIT = 300	-- seconds a PRE_START hook may take
local KILL_QUIT_WAIT = 0.25	-- seconds "kill" gives QMP quit
local POLICY_GRACE = 2		-- seconds a policy may take past its deadline
				-- to answer (a last QMP quit of its own)
				-- before it is killed

-- How a process run by core.run ended, for a message.
local function ended(r)
	return r.status and "exit " .. r.status or "signal " .. r.signal
end

-- true | nil, message.
local function pre_start(v)
	local hook = v.cfg.PRE_START
	if hook == nil or hook == "" then return true end
	v:log("running pre-start hook %s", hook)
	local r, err = core.run({ hook, v.name },
		{ deadline = core.now() + PRE_START_WAIT })
	if not r then
		return nil, string.format("%s: pre-start hook: %s", v.name, err)
	elseif r.timedout then
		return nil, string.format("%s: pre-start hook %s took over %ds; " ..
			"not starting", v.name, hook, PRE_START_WAIT)
	elseif r.status ~= 0 then
		return nil, string.format("%s: pre-start hook %s failed (%s); " ..
			"not starting", v.name, hook, ended(r))
	end
	return true
end

local function indent(s)
	return "  " .. s:gsub("\n$", ""):gsub("\n", "\n  ")
end

-- In the policy's child: loads it, calls fn(handle, args...): true and
-- what it returned, or false and why (file:line).
local function policy_body(v, name, fn, limit, args, builtin, note)
	local mod, where = userlua.load_policy(name, limit, builtin)
	if mod == nil then
		return false, string.format("%s: cannot load the %s policy: %s",
			v.name, name, where)
	end
	note(where)
	local f = type(mod) == "table" and rawget(mod, fn)
	if type(f) ~= "function" then
		return false, string.format("%s: the %s policy (%s) does not " ..
			"export %s()", v.name, name, tostring(where), fn)
	end
	local info = debug.getinfo(f, "S")
	if info.linedefined > 0 then note(where .. ":" .. info.linedefined) end
	local res = table.pack(userlua.call(f, limit, where, userlua.handle(v),
		table.unpack(args, 1, args.n)))
	if not res[1] then
		return false, string.format("%s: %s policy failed: %s", v.name, name,
			tostring(res[2]))
	end
	-- Only text crosses to the parent: a rung is a name.
	if fn == "stop" and res[2] ~= nil and type(res[2]) ~= "string" then
		return false, string.format("%s: the %s policy returned a %s, " ..
			"not the name of a rung", v.name, name, type(res[2]))
	end
	return true, table.unpack(res, 2, res.n)
end

-- Runs policies/NAME.lua's function fn(v, args...) in a child of its own
-- (args: a table.pack; the user's file or the built-in one; builtin
-- forces the latter):
-- true and what it returned, or false and why it could not run or
-- failed (file:line).  At limit the child is killed, whatever it does.
function M.run_policy(v, name, fn, limit, args, builtin)
	local ok, r1, r2 = userlua.isolated({ limit = limit,
		where = "the " .. name .. " policy",
		memory = v.cfg and v.cfg.LUA_MEMORY,
		stdout_to_stderr = userlua.out == io.stderr,
		body = function(note)
			return policy_body(v, name, fn, limit, args, builtin, note)
		end })
	if ok == nil then
		return false, string.format("%s: %s policy failed: %s", v.name, name,
			tostring(r1))
	end
	return ok, r1, r2
end

local ATTACH_TIME = 10	-- seconds the network policy may take per tap

-- The network policy's attach(vm, nic, opt) for one bridge NIC's tap, in
-- a child: true | nil, why.
local function network_attach(v, nic)
	local limit = core.now() + ATTACH_TIME
	local ran, ok, why = M.run_policy(v, "network", "attach", limit,
		table.pack(nic, { os = core.uname().sysname, deadline = limit }))
	if not ran then return nil, ok end
	if ok == true then return true end
	return nil, type(why) == "string" and why or
		"the network policy refused without saying why"
end

-- What start does once QEMU has daemonized: pid | nil, message.
-- vncpw: the VNC password to give it, or false.
local function started(v, r, vncpw)
	if r.stderr ~= "" then io.stderr:write(indent(r.stderr), "\n") end
	local pid, why = v:alive()
	if not pid then
		return nil, vm.stopped(why) and
			v.name .. ": QEMU exited right after starting" or why
	end
	config.save_started(v.cfg, v.rt)
	local ok, qwhy = v:qmp_call("query-status", nil,
		core.now() + QMP_READY_WAIT)
	if not ok then
		return nil, string.format("%s: started (pid %d) but QMP does not " ..
			"answer: %s", v.name, pid, qwhy)
	end
	-- QEMU's -daemonize sets umask 027 for itself; the directory is
	-- 0700 from the start (no one else reaches a socket in it, however
	-- briefly it is 0750), the sockets are narrowed to 0600 here.
	for _, k in ipairs({ "monitor", "control", "serial", "agent", "vnc" }) do
		if core.stat(v.rt[k]) then core.chmod(v.rt[k], "0600") end
	end
	local pok, pwhy = display.set_password(v, vncpw,
		core.now() + QMP_READY_WAIT)
	if not pok then
		util.warn("%s: the VNC display has no password, so it lets no " ..
			"one in: %s", v.name, pwhy)
	end
	return pid
end

-- start(v, opt) -> pid | nil, message [, "unchanged" when it already
-- ran: nothing to do, not a failure].  The caller holds the VM's lock.
-- opt.context ("manual", "boot") says who asked; nil is manual.  The
-- order: PRE_START, the pre_start hooks (either may refuse: nothing has
-- changed), the post_stop marker, QEMU, post_start once QMP answers.
function M.start(v, opt)
	opt = opt or {}
	local ctx = opt.context or "manual"
	local t0 = core.now()
	local pid, why = v:alive()
	if pid then
		return nil, string.format("%s is already running (pid %d)", v.name,
			pid), "unchanged"
	elseif not vm.stopped(why) then
		return nil, why
	end
	-- A run that ended without nvqctl gets its post_stop first.
	poststop.fire(v, "exited", { context = ctx })
	v:clear_stale()
	-- A saved state is restored, or refused before anything changes.
	local sf, smeta = restore.pending(v)
	if sf and opt.fresh then
		util.warn("%s: discarding its saved state: the guest loses what " ..
			"was in its memory", v.name)
		savefile.discard(sf)
		sf = nil
	elseif sf then
		local bad = restore.check(v, smeta, qemuargv.build(v.cfg))
		if bad then return nil, bad end
	end
	-- What QEMU will read, checked and made before anything runs.
	local vncpw, verr = display.password(v.cfg)
	if vncpw == nil then return nil, v.name .. ": " .. verr end
	if v.cfg.CLOUD_INIT then
		local s, serr = seed.ensure(v.cfg)
		if not s then return nil, v.name .. ": " .. serr end
		if s.rebuilt then v:log("cloud-init seed built (%s)", s.path) end
	end
	local ok, perr = pre_start(v)
	if not ok then return nil, perr end
	ok, perr = hooks.run(v, "pre_start", { context = ctx })
	if not ok then
		return nil, string.format("%s: not starting: %s", v.name, perr)
	end
	if v.cfg.accel_note then util.warn("%s", v.cfg.accel_note) end
	for _, w in ipairs(macs.of(v.cfg)) do util.warn("%s", w) end
	-- Bridge NICs' taps: opened and attached before QEMU, closed here
	-- once QEMU holds them, so that they live exactly as long as it.
	local opened, terr = taps.open(v, function(nic)
		return network_attach(v, nic)
	end)
	if not opened then return nil, terr end
	local keep = {}
	for i, o in ipairs(opened) do keep[i] = o.fd end
	local argv = qemuargv.build(v.cfg)
	if sf then table.move({ "-incoming", "defer" }, 1, 2, #argv + 1, argv) end
	ok, perr = poststop.arm(v)
	if not ok then
		taps.close(opened)
		return nil, v.name .. ": " .. perr
	end
	-- What pre_start set up is undone by post_stop, also when QEMU
	-- never came up.
	local function failed(msg)
		v:clear_stale()
		if not v:alive() then
			poststop.fire(v, "start-failed", { context = ctx })
		end
		return nil, msg
	end
	-- Sockets and pidfile are created by QEMU: owner-only.
	local old = core.umask("077")
	local r, err = core.run(argv, { stdout = "null", stderr = "capture",
		deadline = core.now() + START_WAIT, keep = keep })
	core.umask(string.format("%o", old))
	taps.close(opened)
	taps.record(v, opened)
	if not r then
		return failed(string.format("%s: cannot run QEMU: %s", v.name, err))
	elseif r.timedout then
		return failed(string.format("%s: QEMU did not start within %ds",
			v.name, START_WAIT))
	elseif r.status ~= 0 then
		local msg = r.stderr ~= "" and r.stderr or ended(r) .. "\n"
		return failed(string.format("%s: QEMU failed to start:\n%s", v.name,
			indent(msg)))
	end
	pid, why = started(v, r, vncpw)
	if not pid then return failed(why) end
	if sf then
		local lok, lwhy = restore.load(v, sf, smeta)
		if not lok then
			force.force(v, core.now())
			return failed(string.format("%s: not restored: %s; the saved " ..
				"state is kept (start --fresh discards it)", v.name, lwhy))
		end
	end
	hooks.run(v, "post_start", { context = ctx, restored = sf ~= nil })
	v:log("%s, pid %d (%.2fs)", sf and "restored" or "started", pid,
		core.now() - t0)
	return pid
end

-- A QEMU found gone by stop or kill: its run's post_stop, its files.
local function not_running(v, why, ctx)
	if not vm.stopped(why) then return nil, why end
	poststop.fire(v, "exited", { context = ctx })
	v:clear_stale()
	return nil, v.name .. " is not running", "unchanged"
end

-- Why a policy's answer cannot be taken: nil when it can.
local function nonsense(v, name, rung, why)
	if rung == nil then
		if type(why) ~= "string" then
			return string.format("%s: the %s policy returned neither a " ..
				"rung nor a reason", v.name, name)
		end
		return nil
	end
	local still = v:alive()
	if still then
		return string.format("%s: the %s policy says %s stopped it, but " ..
			"QEMU (pid %d) is still running", v.name, name, rung, still)
	end
end

-- The shutdown policy's answer: rung | nil, why (a policy's own "still
-- running after") | nil, why, true (broken: failed, killed at its
-- limit, nonsense).  A user's policy that broke (or has disappeared)
-- is reported and the built-in one finishes the stop in the time left.
local function shutdown(v, name, popt)
	local limit = popt.deadline + POLICY_GRACE
	local ran, rung, pwhy = M.run_policy(v, name, "stop", limit,
		table.pack(popt))
	local broken = not ran and rung or ran and nonsense(v, name, rung, pwhy)
	if not broken then return rung, pwhy end
	if name == "shutdown" and not userlua.find_policy(name).file then
		return nil, broken, true
	end
	util.warn("%s; finishing the stop with the built-in ladder", broken)
	if core.now() >= popt.deadline then
		return nil, string.format("still running after %ds", popt.timeout)
	end
	-- popt as it was: the broken policy changed only its child's copy.
	ran, rung, pwhy = M.run_policy(v, "shutdown", "stop", limit,
		table.pack(popt), true)
	broken = not ran and rung or ran and nonsense(v, "shutdown", rung, pwhy)
	if broken then return nil, broken, true end
	return rung, pwhy
end

-- stop(v, opt) -> rung | nil, message [, "unchanged": it was not
-- running], through the VM's shutdown policy
-- (SHUTDOWN_POLICY).  opt = { timeout = seconds (default
-- SHUTDOWN_TIMEOUT), force = bool, context = "manual"|"boot"|
-- "host-shutdown", deadline = absolute (a stopall's), ignore_veto =
-- bool (stop --force) }.  The caller holds the VM's lock.  The policy
-- has until the deadline; then, with force, vm/force.lua ends QEMU,
-- whatever the policy did.
function M.stop(v, opt)
	opt = opt or {}
	local ctx = opt.context or "manual"
	local pid, why = v:alive()
	if not pid then return not_running(v, why, ctx) end
	local ok, hwhy, kind = hooks.run(v, "pre_stop", { context = ctx,
		deadline = opt.deadline })
	if not ok then
		if kind == "veto" and ctx == "manual" and not opt.ignore_veto then
			return nil, string.format("%s: not stopping: %s (stop --force " ..
				"stops it all the same)", v.name, hwhy)
		end
		util.warn("%s: pre_stop: %s; stopping all the same", v.name, hwhy)
	end
	local timeout = opt.timeout or v.cfg.SHUTDOWN_TIMEOUT
	local t0 = core.now()
	-- What this stop's policy forces is told from what another does.
	v.stopping = string.format("%d.%d", core.getpid(), math.floor(t0 * 1e3))
	local deadline = opt.deadline or t0 + timeout
	local name = v.cfg.SHUTDOWN_POLICY or "shutdown"
	local rung, pwhy, broken = shutdown(v, name, { timeout = timeout,
		force = opt.force, start = t0, deadline = deadline })
	if not rung and not v:alive() then
		if broken then util.warn("%s", pwhy) end
		rung, broken = "exited", nil
	end
	if not rung and opt.force then
		if broken then util.warn("%s", pwhy) end
		-- Forcing only at the deadline: a policy may give up early.
		if not v:wait_exit(deadline) then
			v:log("still running after %ds", timeout)
			local fwhy
			rung, fwhy = force.force(v, core.now())
			if not rung then return nil, v.name .. ": " .. fwhy end
		else
			rung = "exited"
		end
	end
	if not rung then
		if broken then return nil, pwhy end
		return nil, string.format("%s: %s; left running (use --force to " ..
			"go on to quit and signals, or nvqctl kill)", v.name, pwhy)
	end
	-- An unreadable pidfile is not taken for "stopped".
	local still, swhy = v:alive()
	if not still and not vm.stopped(swhy) then return nil, swhy end
	-- Another command may have forced it while this one waited.
	local really = v:ended_by(rung, pid)
	if really ~= rung then
		util.warn("%s: forced (%s) by another nvqctl command while " ..
			"this stop waited on %s", v.name, really, rung)
		rung = really
	end
	poststop.fire(v, rung, { context = ctx, deadline = opt.deadline })
	v:clear_stale()
	v:log("stopped by %s after %.2fs", rung, core.now() - t0)
	return rung
end

-- kill(v) -> rung | nil, message [, "unchanged"].  The caller holds the VM's lock.
function M.kill(v)
	local pid, why = v:alive()
	if not pid then return not_running(v, why, "manual") end
	util.warn("killing %s: guest data not yet written to disk may be lost",
		v.name)
	local t0 = core.now()
	local rung = "quit"
	local deadline = t0 + KILL_QUIT_WAIT
	if not (v:quit(deadline) and v:wait_exit(deadline)) then
		rung = "sigkill"
		v:signal("KILL")
		if not v:wait_exit(core.now() + 5) then
			return nil, string.format("%s: pid %d survived SIGKILL", v.name,
				pid)
		end
	end
	poststop.fire(v, "killed", { context = "manual" })
	v:clear_stale()
	v:log("killed by %s after %.2fs", rung, core.now() - t0)
	return rung
end

return M
