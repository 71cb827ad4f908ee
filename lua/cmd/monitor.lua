-- monitor <vm>: an interactive QMP shell.  A line is raw JSON or the
-- short form "command key=value ..." (qmptext.lua); replies are printed
-- pretty, errors as "error: CLASS: desc", and events as they arrive,
-- also while the shell waits for input.  From a pipe: no prompt, one
-- reply per command line, each command sent after the last reply.
local core = require "nvq.core"
local qmp = require "proto.qmpconn"
local qmptext = require "proto.qmptext"
local util = require "base.util"
local vmarg = require "vm.arg"

local CONNECT_WAIT = 5	-- for QEMU's greeting and negotiation
local REPLY_WAIT = 30	-- for the reply to one command
local LINGER = 0.25	-- after a pipe's last reply, for its events
local MAXLINE = 16 * 1024 * 1024	-- bytes in one message from QEMU

local PROMPT = "(qmp) "
local SIGNO = { HUP = 1, TERM = 15, PIPE = 13 }

local function out(s)
	io.stdout:write(s, "\n")
	io.stdout:flush()
end

local Shell = {}
Shell.__index = Shell

-- Takes the next line off the queue and sends it.
function Shell:dispatch()
	while not self.pending and #self.queue > 0 do
		local line = table.remove(self.queue, 1)
		self.n = self.n + 1
		local text, id, cmd = qmptext.parse_line(line, "nvqmon-" .. self.n)
		if text == false then
			out("error: " .. id)
			self.prompted = false
		elseif text then
			local ok, why = self.conn:send_line(text,
				core.now() + REPLY_WAIT)
			if not ok then return nil, "sending: " .. why end
			self.pending = { id = id, deadline = core.now() + REPLY_WAIT,
				hmp = cmd == "human-monitor-command" }
		else
			self.prompted = false
		end
	end
	return true
end

function Shell:show_event(line, msg)
	if self.tty and self.prompted then
		-- The prompt, and any half-typed line (^R shows it again).
		io.stdout:write("\r\27[K")
		self.prompted = false
	end
	out(qmptext.event_text(line, msg))
end

local function any() return true end

-- One message from QEMU: nil, why when the connection is gone.
function Shell:receive()
	local line, kind, msg, id = self.conn:receive(core.now() + 1, any,
		MAXLINE)
	if not line then
		local why = kind
		if why == "timeout" then return true end
		return nil, why
	end
	if kind == "event" then
		self:show_event(line, msg)
		self.last_seen = core.now()
	elseif kind == "reply" and self.pending
	    and (id == nil or id == self.pending.id) then
		if msg.error ~= nil then
			out("error: " .. qmptext.error_text(msg))
		elseif self.pending.hmp and type(msg["return"]) == "string" then
			-- HMP's answer is text for people: shown as such.
			io.stdout:write((msg["return"]:gsub("\r\n", "\n")))
			io.stdout:flush()
		else
			out(qmptext.return_text(line))
		end
		self.pending = nil
		self.prompted = false
		self.last_seen = core.now()
	end
	-- Anything else (a reply that came after its command timed out,
	-- garbage) is dropped.
	return true
end

function Shell:read_stdin()
	local data, err = core.read_fd(0, 4096)
	if data == "" then
		self.eof = true
		if self.buf ~= "" then self.queue[#self.queue + 1] = self.buf end
		self.buf = ""
		if self.tty then io.stdout:write("\n") end
	elseif data then
		self.buf = self.buf .. data
		for l in self.buf:gmatch("([^\n]*)\n") do
			self.queue[#self.queue + 1] = l
		end
		self.buf = self.buf:match("[^\n]*$")
	elseif err ~= "EINTR" and err ~= "EAGAIN" then
		return nil, err
	end
	return true
end

-- QEMU closed the connection: the VM's exit ends the shell quietly.
function Shell:closed(why)
	if self.tty and self.prompted then io.stdout:write("\n") end
	if self.vm:wait_exit(core.now() + 1) then
		io.stderr:write(string.format("nvqctl: %s has stopped.\n",
			self.vm.name))
		return 0
	end
	util.die("%s: QMP connection closed (%s)", self.vm.name, why)
end

-- The loop: returns an exit code.
function Shell:run()
	local name = self.vm.name
	local sock = self.conn:fileno()
	while true do
		local sig = core.caught()
		if sig then
			if self.tty then io.stdout:write("\n") end
			return sig == "INT" and 0 or 128 + SIGNO[sig]
		end
		local ok, why = self:dispatch()
		if not ok then util.die("%s: %s", name, why) end
		local idle = not self.pending and #self.queue == 0
		local linger = math.max(self.last_seen, self.eof_at) + LINGER
		if idle and self.eof and (self.tty or core.now() >= linger) then
			return 0
		end
		if idle and self.tty and not self.prompted and not self.eof then
			io.stdout:write(PROMPT)
			io.stdout:flush()
			self.prompted = true
		end
		local deadline = core.now() + 1
		if self.pending then
			deadline = math.min(deadline, self.pending.deadline)
		end
		if idle and self.eof then deadline = math.min(deadline, linger) end
		if self.conn:pending() then deadline = core.now() end
		local ready
		if self.eof then
			ready = core.poll({ sock }, deadline)
		else
			ready = core.poll({ sock, 0 }, deadline)
		end
		if ready[1] or self.conn:pending() then
			ok, why = self:receive()
			if not ok then return self:closed(why) end
		end
		if ready[2] then
			ok, why = self:read_stdin()
			if not ok then util.die("%s: reading input: %s", name, why) end
			if self.eof then self.eof_at = core.now() end
		end
		if self.pending and core.now() >= self.pending.deadline then
			out(string.format("error: no reply within %d s", REPLY_WAIT))
			self.pending = nil
			self.prompted = false
		end
	end
end

return { run = function(pos)
	local v = util.check(vmarg.open(pos[1]))
	util.check(vmarg.running(v))
	local conn, err = qmp.connect(v.rt.monitor, core.now() + CONNECT_WAIT)
	if not conn then
		util.die("%s: QMP did not answer: %s (QEMU stopped, or another " ..
			"client holds the monitor?)", v.name, err)
	end
	local _ <close> = conn
	local sh = setmetatable({ vm = v, conn = conn, tty = core.isatty(0),
		queue = {}, buf = "", n = 0, last_seen = 0, eof_at = 0 }, Shell)
	-- Events queued while qmp_capabilities was answered.
	for _, ev in ipairs(conn.events) do
		out(qmptext.event_text(util.json().encode(ev), ev))
	end
	core.catch_signals({ "INT", "TERM", "HUP", "PIPE" })
	if sh.tty then
		io.stderr:write(string.format("Connected to %s's QMP monitor; " ..
			"Ctrl-D or Ctrl-C leaves.\n", v.name))
	end
	return sh:run()
end }
