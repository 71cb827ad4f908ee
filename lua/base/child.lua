-- base/child.lua: the one way nvqctl runs a piece of itself in a child
-- process -- the boot orchestrator's per-VM tasks and user Lua alike.
-- The child is a fork of the interpreter in a process group of its own
-- (so what it runs dies with it); it says what happens as report lines
-- on a pipe; the parent reads them without blocking, holds every
-- deadline and, at one, ends the whole group.
local core = require "nvq.core"

local M = {}

-- Bytes of one report's text a parent keeps: a report may carry text a
-- guest or a user wrote, and no one line may cost more than this to
-- read, hold or print.
M.MAX_TEXT = 16 * 1024

local TERM_WAIT = 1	-- seconds for a child told to end to do so
local REAP_WAIT = 2	-- seconds for a killed child to be reaped

-- Report lines: "kind<TAB>text\n", backslash, newline and tab escaped.
local ESC = { ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
local UNESC = { ["\\"] = "\\", n = "\n", t = "\t" }

function M.encode(kind, text)
	return kind .. "\t" .. tostring(text or ""):gsub("[\\\n\t]", ESC) .. "\n"
end

local function decode(line)
	local kind, text = line:match("^(%w+)\t(.*)$")
	if not kind then return "log", line end
	return kind, (text:gsub("\\(.)", UNESC):gsub("\\$", ""))
end

local Child = {}
Child.__index = Child

-- spawn(body, opt) -> child | nil, why
-- body(send) runs in the child; send(kind, text) reports.  An error body
-- raises is reported as "error"; the child then ends with _exit.
-- opt.close: descriptors the child closes first (other children's
-- pipes); opt.setup(): runs in the child before body (limits, stdio);
-- opt.outlive: the child goes on when its parent dies (otherwise it
-- gets SIGTERM then, where the system can say so).
function M.spawn(body, opt)
	opt = opt or {}
	local rfd, wfd = core.pipe()
	if not rfd then return nil, wfd end
	local pid, err = core.fork()
	if not pid then
		core.fdclose(rfd)
		core.fdclose(wfd)
		return nil, err
	end
	if pid == 0 then
		core.task_init(opt.outlive)
		core.fdclose(rfd)
		for _, fd in ipairs(opt.close or {}) do core.fdclose(fd) end
		local function send(kind, text)
			core.write_fd(wfd, M.encode(kind, text))
		end
		local ok, e = pcall(function()
			if opt.setup then opt.setup() end
			return body(send)
		end)
		if not ok then
			pcall(send, "error", type(e) == "table" and e.msg or tostring(e))
		end
		core._exit(0)
	end
	core.fdclose(wfd)
	return setmetatable({ pid = pid, fd = rfd, part = {}, partlen = 0,
		cut = 0, t0 = core.now() }, Child)
end

-- One complete line: the part held so far and the rest up to the
-- newline, cut to MAX_TEXT.
function Child:line(data, i, j)
	local keep = M.MAX_TEXT - self.partlen
	local piece = data:sub(i, math.min(j, i + keep - 1))
	local cut = self.cut + (j - i + 1 - #piece)
	self.part[#self.part + 1] = piece
	local kind, text = decode(table.concat(self.part))
	self.part, self.partlen, self.cut = {}, 0, 0
	if cut > 0 then
		text = text .. string.format(" [%d bytes cut]", cut)
	end
	return { kind = kind, text = text }
end

-- read() -> list of the reports that arrived whole; self.eof once the
-- child has closed its end (it has said all).  Each byte is looked at
-- once, however long a line grows.
function Child:read()
	local out = {}
	while self.fd do
		local data, why = core.fdread(self.fd)
		if data == nil and why == "again" then break end
		if not data or data == "" then
			core.fdclose(self.fd)
			self.fd, self.eof = nil, true
			break
		end
		local i = 1
		while true do
			local nl = data:find("\n", i, true)
			if not nl then
				-- An unfinished line: kept up to MAX_TEXT, counted beyond.
				local room = M.MAX_TEXT - self.partlen
				local piece = data:sub(i, i + room - 1)
				if #piece > 0 then
					self.part[#self.part + 1] = piece
					self.partlen = self.partlen + #piece
				end
				self.cut = self.cut + (#data - i + 1 - #piece)
				break
			end
			out[#out + 1] = self:line(data, i, nl - 1)
			i = nl + 1
		end
	end
	return out
end

-- reap(wait) -> status ({status=n} or {signal=n}) | nil while it runs
function Child:reap(wait)
	if self.exit then return self.exit end
	local deadline = core.now() + (wait or 0)
	while true do
		local st = core.waitpid(self.pid)
		if st then
			self.exit = st
			return st
		end
		if core.now() >= deadline then return nil end
		-- Woken at its exit (pidfd, kqueue), not on a polling tick.
		core.wait_exit(self.pid, deadline)
	end
end

-- kill(term_wait): SIGTERM first (a task passes it on to the program it
-- waits for), then SIGKILL to the child and its whole group; reaped.
-- term_wait 0 kills at once.
function Child:kill(term_wait)
	if not self.exit and not self:reap(0) then
		-- Unreaped, the PID and its group are still the child's.
		term_wait = term_wait or TERM_WAIT
		if term_wait > 0 then
			core.kill(self.pid, "TERM")
			core.wait_exit(self.pid, core.now() + term_wait)
		end
		core.killpg(self.pid)
		core.kill(self.pid, "KILL")
		self:reap(REAP_WAIT)
	end
	if self.fd then
		core.fdclose(self.fd)
		self.fd = nil
	end
end

-- How a child that ended without its last word ended, as text.
function Child:how()
	local st = self:reap(REAP_WAIT)
	if not st then return "ended" end
	if st.signal then return "killed by signal " .. st.signal end
	return "exited " .. tostring(st.status)
end

-- poll(children, deadline) -> the children with something to read (or
-- at EOF); empty at the deadline.
function M.poll(children, deadline)
	local fds, by = {}, {}
	for _, c in ipairs(children) do
		if c.fd then
			fds[#fds + 1] = c.fd
			by[#fds] = c
		end
	end
	if #fds == 0 then return {} end
	local out = {}
	for i, yes in ipairs(core.poll(fds, deadline)) do
		if yes then out[#out + 1] = by[i] end
	end
	return out
end

return M
