-- boot/ready.lua: BOOT_READY, the condition under which a started VM counts
-- as up for the VMs that wait for it (startall's BOOT_AFTER and
-- BOOT_REQUIRES).  Each condition is tried again, with short naps,
-- until it holds or the caller's deadline passes:
--   started        QMP answers query-status;
--   agent          the guest agent answers guest-ping;
--   tcp:HOST:PORT  the service at HOST:PORT answers (below);
--   serial:TEXT    TEXT appears on the serial console.
-- The last three depend on the guest, and are declared only of a VM
-- still running CONFIRM seconds after they held: a guest that prints
-- TEXT (or answers) and powers off at once is gone, not ready.
--
-- tcp:HOST:PORT: a connection that is accepted is not enough.  QEMU's
-- user-mode forward accepts on the host before the guest has even
-- booted, and then holds the connection while it tries to reach the
-- guest (its table says SYN_SENT).  So the connection must also
--   - stay open SETTLE seconds (neither reset nor closed: a forward
--     closes it when the guest refuses), unless the service speaks
--     first (a banner: SSH, SMTP, MySQL), which is an answer at once;
--   - and, when PORT is one of this VM's user-mode forwards (QEMU's
--     "info usernet" lists it), be established with the guest there.
-- A port open on the host itself (not this VM's forward) answers at
-- once whatever the guest does: startall --dry-run names such targets.
--
-- QEMU throws away serial output that no client reads, so serial:TEXT
-- needs a watcher connected right after QEMU starts:
--   local w = ready.begin(v)          -- right after lifecycle.start
--   local ok, why = ready.wait(v, deadline, w)
-- begin() is cheap for the other kinds, so callers need not tell them
-- apart.  The console is never taken from a user: `nvqctl console`
-- holds console.lock while attached, and a watcher that cannot take
-- that lock reports "console in use" (and keeps trying until the
-- deadline, in case the user detaches); the watcher holds the lock
-- itself while it reads, and wait() lets go of it when it returns.
--
-- Everything the guest writes on its console is hostile: it is read in
-- bounded chunks and only the last #TEXT - 1 bytes are kept between two
-- of them, so a guest that floods the console neither grows memory nor
-- holds the wait past its deadline.  TEXT is matched as plain bytes.
local core = require "nvq.core"
local vm = require "vm.handle"

local M = {}

local NAP = 0.2		-- seconds between two attempts
local TRY = 2		-- seconds one attempt may take at most
local CHUNK = 4096	-- bytes read from the serial console at once
local SETTLE = 0.5	-- seconds a silent TCP connection must stay open
local CONFIRM = 0.5	-- seconds a VM must outlive its readiness

local CHECK = {}

function CHECK.started(v, try)
	local r, why = v:qmp_call("query-status", nil, try)
	if type(r) == "table" then return true end
	return nil, "QMP: " .. tostring(why)
end

function CHECK.agent(v, try)
	local a, why = v:agent(try)
	if not a then return nil, "guest agent: " .. tostring(why) end
	local r, pwhy = a:call("guest-ping", nil, try)
	a:close()
	if r ~= nil then return true end
	return nil, "guest agent: " .. tostring(pwhy)
end

-- The connection stays open SETTLE seconds, or the peer speaks first.
local function settles(ch, try)
	local data, why = ch:read(math.min(try, core.now() + SETTLE), 1)
	if data or why == "timeout" then return true end
	if why == "eof" then return nil, "connection closed by the peer" end
	return nil, tostring(why)
end

-- nil when PORT is none of this VM's user-mode forwards; else whether a
-- connection through one has reached the guest (QEMU's slirp table, as
-- HMP's "info usernet" prints it: "TCP[STATE] FD ADDR PORT ...").
local function forwarded(v, port, try)
	local text = v:qmp_call("human-monitor-command",
		{ ["command-line"] = "info usernet" }, try)
	if type(text) ~= "string" then return nil end
	local fwd, est = false, false
	for state, p in text:gmatch("TCP%[([%w_]+)%]%s+%-?%d+%s+%S+%s+(%d+)") do
		if tonumber(p) == port then
			if state == "HOST_FORWARD" then fwd = true end
			if state == "ESTABLISHED" then est = true end
		end
	end
	if fwd then return est end
end

function CHECK.tcp(v, try)
	local r = v.cfg.BOOT_READY
	local ch, why = core.tcp_connect(r.host, r.port, try)
	if not ch then return nil, why end
	local ok
	ok, why = settles(ch, try)
	if ok and forwarded(v, r.port, try) == false then
		ok, why = nil, "QEMU's user-mode forward has not reached the " ..
			"guest's port"
	end
	ch:close()
	return ok, why
end

-- The VM still runs CONFIRM seconds after its condition held (a moment
-- for a guest that powers off at once to be seen doing so), and QEMU
-- says it runs: true, or nil and why.
local function outlives(v, deadline)
	core.sleep(math.max(0, math.min(CONFIRM, deadline - core.now())))
	local pid = v:alive()
	if not pid then return nil, "QEMU ended right after" end
	local st, why = v:qmp_call("query-status", nil,
		math.min(deadline, core.now() + TRY))
	if type(st) ~= "table" then return nil, "QMP: " .. tostring(why) end
	if st.status ~= "running" then
		return nil, "the VM is " .. tostring(st.status) .. " right after"
	end
	return true
end

local Watcher = {}
Watcher.__index = Watcher

function Watcher:close()
	if self.ch then self.ch:close() end
	if self.lk then self.lk:unlock() end
	self.ch, self.lk = nil, nil
end
Watcher.__close = Watcher.close
Watcher.__gc = Watcher.close

-- Takes console.lock and connects to the serial socket: true, or nil
-- and why (the caller tries again after a nap).
function Watcher:open(deadline)
	local v = self.v
	local lk, why = core.lock(v.rt.dir .. "/console.lock", core.now())
	if not lk then
		if why == "timeout" then
			return nil, "console in use (a user is attached with " ..
				"nvqctl console)"
		end
		return nil, "console.lock: " .. tostring(why)
	end
	if vm.serial_taken(v, deadline) then
		lk:unlock()
		return nil, "console in use (another client holds " ..
			v.rt.serial .. ")"
	end
	local ch, cwhy = core.connect(v.rt.serial, deadline)
	if not ch then
		lk:unlock()
		return nil, "serial console: " .. tostring(cwhy)
	end
	self.ch, self.lk = ch, lk
	return true
end

-- Reads until TEXT shows up or the deadline: true, or nil and why.
function Watcher:step(deadline)
	if not self.ch then
		local ok, why = self:open(deadline)
		if not ok then return nil, why end
	end
	local text = self.text
	repeat
		local data, why = self.ch:read(deadline, CHUNK)
		if not data then
			if why == "timeout" then
				return nil, "serial console: '" .. text .. "' not seen"
			end
			self:close()
			return nil, "serial console: " .. tostring(why)
		end
		local hay = self.tail .. data
		if hay:find(text, 1, true) then return true end
		-- A match may straddle two reads: keep what could start one.
		self.tail = #text > 1 and hay:sub(1 - #text) or ""
	-- A guest that never pauses never lets read() wait: the clock is
	-- looked at after every chunk.
	until core.now() >= deadline
	return nil, "serial console: '" .. text .. "' not seen"
end

-- taken(v) -> true when v's tcp: target already accepts connections
-- (asked before v runs: then something else answers there, and its
-- readiness cannot be told from that port).  Bounded by TAKEN_WAIT.
local TAKEN_WAIT = 0.5
function M.taken(v)
	local r = v.cfg.BOOT_READY
	if type(r) ~= "table" or r.kind ~= "tcp" then return false end
	local ch = core.tcp_connect(r.host, r.port, core.now() + TAKEN_WAIT)
	if not ch then return false end
	ch:close()
	return true
end

-- begin(v) -> watcher: call it right after QEMU starts.  For serial:TEXT
-- it connects to the console at once (or, if it cannot, remembers
-- nothing and wait() tries again); for the others it does nothing.
function M.begin(v)
	local r = v.cfg.BOOT_READY
	local w = setmetatable({ v = v, kind = r.kind, text = r.text,
		tail = "" }, Watcher)
	if r.kind == "serial" then w:open(core.now() + TRY) end
	return w
end

-- wait(v, deadline [, watcher]) -> true | nil, why: blocks until v's
-- BOOT_READY holds, v's QEMU is gone, or the deadline.  Without a
-- watcher, serial:TEXT only sees what the guest writes from now on.
-- The watcher is closed on return.
function M.wait(v, deadline, w)
	local r = v.cfg.BOOT_READY
	local t0 = core.now()
	w = w or M.begin(v)
	local last
	while true do
		local pid, awhy = v:alive()
		if not pid and vm.stopped(awhy) then
			w:close()
			return nil, string.format("BOOT_READY=%s: QEMU is not " ..
				"running%s", r.spec, last and " (" .. last .. ")" or "")
		end
		local try = math.min(deadline, core.now() + TRY)
		local ok, why
		if r.kind == "serial" then
			ok, why = w:step(try)
		else
			ok, why = CHECK[r.kind](v, try)
		end
		if ok and r.kind ~= "started" then ok, why = outlives(v, deadline) end
		if ok then
			w:close()
			return true
		end
		-- An attempt the deadline cut short says only that time ran out;
		-- the reason a full one gave before tells more.
		if try < deadline or not last then last = why or last end
		-- The serial read already waited; an open that failed did not.
		if core.now() < deadline and (r.kind ~= "serial" or not w.ch) then
			core.sleep(math.min(NAP, deadline - core.now()))
		end
		-- No attempt with no time left: it could only time out, and
		-- would hide the reason the last real one gave.
		if core.now() >= deadline then
			w:close()
			return nil, string.format("BOOT_READY=%s: not ready after " ..
				"%.1fs (%s)", r.spec, core.now() - t0, tostring(last))
		end
	end
end

return M
