-- console <vm>: the serial console, relayed by nvqctl itself.
--
-- QEMU's socket chardev serves one client at a time; a second one is
-- accepted by the kernel, never served, and what it typed is delivered
-- when the first leaves.  So a console holds console.lock in the run
-- directory while attached, and before connecting asks QMP whether any
-- other client (socat, a script) holds the serial socket.
local core = require "nvq.core"
local util = require "base.util"
local vm = require "vm.handle"
local vmarg = require "vm.arg"

local LOCK_WAIT = 0.3	-- a console that is just leaving releases it
local CHECK_WAIT = 1	-- for QMP's view of the socket; skipped if late
local SEND_WAIT = 10	-- for the guest to take what we type
local QUIET = 0.75	-- after stdin's EOF: this long without output ends
local GRACE = 10	-- and this long in all

local SIGNO = { INT = 2, HUP = 1, QUIT = 3, TERM = 15, PIPE = 13 }

-- "^]" for the banner.
local function caret(c)
	local b = c:byte()
	return b == 127 and "^?" or "^" .. string.char(b + 64)
end

local function attach(v)
	if not v.cfg.SERIAL then
		util.die("%s has no serial console (SERIAL=no in %s)", v.name,
			v.cfg.file)
	end
	util.check(vmarg.running(v))
	local lk = core.lock(v.rt.dir .. "/console.lock", core.now() + LOCK_WAIT)
	if not lk then
		util.die("%s: another console is already attached", v.name)
	end
	if vm.serial_taken(v, core.now() + CHECK_WAIT) then
		util.die("%s: another client is attached to the serial console (%s)",
			v.name, v.rt.serial)
	end
	local ch, err = core.connect(v.rt.serial, core.now() + 2)
	if not ch then
		util.die("%s: cannot connect to the console: %s", v.name, err)
	end
	return ch, lk
end

-- The relay.  Returns how it ended: "detach", "eof" (stdin, piped),
-- "closed" (the socket), or a signal name; and an error message if any.
local function relay(ch, esc)
	local sock = ch:fileno()
	while true do
		local sig = core.caught()
		if sig then return sig end
		local ready = core.poll({ 0, sock }, core.now() + 1)
		if ready[2] or ch:pending() > 0 then
			local data, why = ch:read(core.now() + 0.1)
			if data then
				local ok, werr = core.write_fd(1, data)
				if not ok then return "closed", werr end
			elseif why ~= "timeout" then
				return "closed", why ~= "eof" and why or nil
			end
		end
		if ready[1] then
			local data, rerr = core.read_fd(0, 4096)
			if data == "" then return "eof" end
			if data == nil and rerr ~= "EINTR" and rerr ~= "EAGAIN" then
				return "closed", rerr
			end
			local cut = data and esc and data:find(esc, 1, true)
			if cut then data = data:sub(1, cut - 1) end
			if data and data ~= "" then
				local ok, why = ch:send(data, core.now() + SEND_WAIT)
				if not ok then
					return "closed", "sending to the guest: " .. why
				end
			end
			if cut then return "detach" end
		end
	end
end

-- After a piped stdin ends: what the guest still says, until it has
-- been quiet a moment.  Closing at once would also lose what the UART
-- has not yet taken from the socket.
local function drain(ch)
	local stop = core.now() + GRACE
	local quiet = core.now() + QUIET
	while core.now() < math.min(stop, quiet) do
		local sig = core.caught()
		if sig then return sig end
		local ready = core.poll({ ch:fileno() }, math.min(stop, quiet))
		if ready[1] or ch:pending() > 0 then
			local data, why = ch:read(core.now() + 0.1)
			if data then
				core.write_fd(1, data)
				quiet = core.now() + QUIET
			elseif why ~= "timeout" then
				return "closed"
			end
		end
	end
	return "eof"
end

return { run = function(pos)
	local v = util.check(vmarg.open(pos[1]))
	-- lk, the console lock, is held until the process ends.
	local ch, lk = attach(v)
	local _ <close> = ch
	local tty = core.isatty(0)
	core.catch_signals({ "INT", "TERM", "HUP", "QUIT", "PIPE" })
	local how, err
	if tty then
		io.stderr:write(string.format("Connected to %s's console; " ..
			"escape is %s\n", v.name, caret(v.cfg.escape_char)))
		local raw, rerr = core.tty_raw(0, "raw")
		if not raw then util.die("%s: %s", v.name, rerr) end
		-- Closed on every way out of this block, errors included.
		do
			local _ <close> = raw
			how, err = relay(ch, v.cfg.escape_char)
		end
	else
		how, err = relay(ch, nil)
		if how == "eof" then how = drain(ch) end
	end
	if how == "detach" then
		io.stderr:write(string.format("\nDetached from %s.\n", v.name))
		return 0
	elseif how == "eof" then
		return 0
	elseif how == "closed" then
		if err then
			util.die("%s: console: %s", v.name, err)
		elseif v:wait_exit(core.now() + 1) then
			io.stderr:write(string.format("\nnvqctl: %s has stopped.\n",
				v.name))
			return 0
		end
		util.die("%s: QEMU closed the console", v.name)
	end
	io.stderr:write(string.format("\nnvqctl: %s: console closed by SIG%s\n",
		v.name, how))
	return 128 + SIGNO[how]
end }
