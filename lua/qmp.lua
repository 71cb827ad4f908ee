-- qmp.lua: a QMP client over a core channel.  The server greets first;
-- nothing but qmp_capabilities works before negotiation; replies carry
-- our id; events may come between any two replies and are queued.
local core = require "nvq.core"
local util = require "util"

local M = {}

local MAXLINE = 4 * 1024 * 1024

local Conn = {}
Conn.__index = Conn
Conn.__close = function(c) c:close() end

-- Reads one message; nil, why on timeout, EOF or garbage.
function Conn:read(deadline)
	local line, why = self.ch:readline(deadline, MAXLINE)
	if not line then return nil, why end
	local ok, msg = pcall(util.json().decode, line)
	if not ok or type(msg) ~= "table" then
		return nil, "garbage on the QMP socket"
	end
	return msg
end

function Conn:send(cmd, args, deadline)
	self.nextid = self.nextid + 1
	local id = "nvq-" .. self.nextid
	local req = { execute = cmd, id = id }
	if args ~= nil and next(args) ~= nil then req.arguments = args end
	local ok, why = self.ch:send(util.json().encode(req) .. "\n", deadline)
	if not ok then return nil, why end
	return id
end

-- call(cmd, args, deadline) -> return value | nil, message, class
function Conn:call(cmd, args, deadline)
	local id, why = self:send(cmd, args, deadline)
	if not id then return nil, why end
	while true do
		local msg, rwhy = self:read(deadline)
		if not msg then return nil, rwhy end
		if msg.event then
			self.events[#self.events + 1] = msg
		elseif msg.id == id then
			if msg.error then
				local e = type(msg.error) == "table" and msg.error or {}
				return nil, tostring(e.desc or "malformed error reply"),
					e.class
			end
			return msg["return"]
		end
		-- A reply to an id we no longer wait for: dropped.  A stream
		-- of events never lets a read wait: look at the clock.
		if core.now() >= deadline then return nil, "timeout" end
	end
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
	while true do
		local msg, why = self:read(deadline)
		if not msg then return nil, why end
		if msg.event then
			if wanted(names, msg) then return msg end
			self.events[#self.events + 1] = msg
		end
		if core.now() >= deadline then return nil, "timeout" end
	end
end

function Conn:fileno() return self.ch:fileno() end
function Conn:close() self.ch:close() end

-- connect(path, deadline) -> conn | nil, message [, errno of the connect]
function M.connect(path, deadline)
	local ch, err, code = core.connect(path, deadline)
	if not ch then return nil, err, code end
	local c = setmetatable({ ch = ch, events = {}, nextid = 0 }, Conn)
	local greet, why = c:read(deadline)
	if not greet or type(greet.QMP) ~= "table" then
		ch:close()
		return nil, "no QMP greeting (" .. (why or "unexpected message") .. ")"
	end
	local ok, cwhy = c:call("qmp_capabilities", nil, deadline)
	if not ok then
		ch:close()
		return nil, "QMP negotiation failed (" .. tostring(cwhy) .. ")"
	end
	return c
end

return M
