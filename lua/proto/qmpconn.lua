-- proto/qmpconn.lua: a QMP client over a core channel.  The server greets first;
-- nothing but qmp_capabilities works before negotiation; replies carry
-- our id; events may come between any two replies and are queued.
-- Messages are read through protoread.read only.
local core = require "nvq.core"
local protoread = require "proto.lineread"
local util = require "base.util"

local M = {}

local MAXLINE = 4 * 1024 * 1024
local GARBAGE = "garbage on the QMP socket"

local Conn = {}
Conn.__index = Conn
Conn.__close = function(c) c:close() end

-- receive(deadline, want [, max]) -> line, kind, msg, id | nil, why:
-- protoread.read on this connection (want as there); max bounds a line
-- (MAXLINE unless given).  What commands use to read replies.
function Conn:receive(deadline, want, max)
	return protoread.read(self.ch, { deadline = deadline,
		max = max or MAXLINE }, want)
end

-- A line that is not JSON at all ends the client's own reads: the peer
-- is no QMP server, and waiting on would only fill the deadline.
local function garbage(kind, msg)
	return kind == "garbage" and msg == nil
end

-- send(cmd, args, deadline [, fd]): fd, when given, goes with the
-- command's bytes (SCM_RIGHTS), as getfd and add-fd want it.
function Conn:send(cmd, args, deadline, fd)
	self.nextid = self.nextid + 1
	local id = "nvq-" .. self.nextid
	local req = { execute = cmd, id = id }
	if args ~= nil and next(args) ~= nil then req.arguments = args end
	local text = util.json().encode(req) .. "\n"
	local ok, why
	if fd then
		ok, why = self.ch:sendfd(fd, text, deadline)
	else
		ok, why = self.ch:send(text, deadline)
	end
	if not ok then return nil, why end
	return id
end

-- send_line(text, deadline): a request already written as JSON text
-- (the commands a person types keep their arguments exactly).
function Conn:send_line(text, deadline)
	return self.ch:send(text .. "\n", deadline)
end

-- call(cmd, args, deadline [, fd]) -> return value | nil, message, class
function Conn:call(cmd, args, deadline, fd)
	local id, why = self:send(cmd, args, deadline, fd)
	if not id then return nil, why end
	-- Events are queued; a reply to an id no longer waited for is dropped.
	local _, rwhy, msg = self:receive(deadline, function(kind, m)
		if garbage(kind, m) then return GARBAGE end
		if kind == "event" then
			self.events[#self.events + 1] = m
			return false
		end
		return m.id == id
	end)
	if not msg then return nil, rwhy end
	return protoread.result(msg)
end

local function wanted(names, ev)
	if names == nil then return true end
	for _, n in ipairs(names) do
		if n == ev.event then return true end
	end
	return false
end

-- wait_event(names|nil, deadline) -> event | nil, "timeout"|"eof"|...
function Conn:wait_event(names, deadline)
	for i, ev in ipairs(self.events) do
		if wanted(names, ev) then
			table.remove(self.events, i)
			return ev
		end
	end
	local _, why, msg = self:receive(deadline, function(kind, m)
		if garbage(kind, m) then return GARBAGE end
		if kind ~= "event" then return false end
		if wanted(names, m) then return true end
		self.events[#self.events + 1] = m
		return false
	end)
	if not msg then return nil, why end
	return msg
end

-- For a caller's poll: the socket, and whether lines are already
-- buffered (poll cannot see those).
function Conn:fileno() return self.ch:fileno() end
function Conn:pending() return self.ch:pending() > 0 end
function Conn:close() self.ch:close() end

-- connect(path, deadline) -> conn | nil, message [, errno of the connect]
function M.connect(path, deadline)
	local ch, err, code = core.connect(path, deadline)
	if not ch then return nil, err, code end
	local c = setmetatable({ ch = ch, events = {}, nextid = 0 }, Conn)
	local _, why, greet = c:receive(deadline, function(kind, m)
		return garbage(kind, m) and GARBAGE or true
	end)
	if not greet or type(greet.QMP) ~= "table" then
		ch:close()
		return nil, "no QMP greeting (" ..
			(greet and "unexpected message" or why) .. ")"
	end
	local ok, cwhy = c:call("qmp_capabilities", nil, deadline)
	if not ok then
		ch:close()
		return nil, "QMP negotiation failed (" .. tostring(cwhy) .. ")"
	end
	return c
end

return M
