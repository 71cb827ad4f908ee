-- proto/qga.lua: a QEMU guest agent client.  The agent has no greeting and
-- may hold stale bytes from an earlier client, so every connection
-- starts with 0xFF and guest-sync-delimited and discards everything up
-- to the matching reply.  All the agent says is guest-controlled:
-- lines are bounded and every read has a deadline (protoread.read,
-- the only way replies are read).
local core = require "nvq.core"
local protoread = require "proto.lineread"
local util = require "base.util"

local M = {}

local MAXLINE = 1024 * 1024
local SYNC_MAXLINE = 4096	-- a sync reply is short; longer is stale
local SYNC_TRY = 0.5	-- seconds before a lost sync is sent again

local Agent = {}
Agent.__index = Agent
Agent.__close = function(a) a:close() end

local seeded = false
local function fresh_id()
	if not seeded then
		math.randomseed(math.floor(core.time() * 1000), core.getpid())
		seeded = true
	end
	return math.random(1, 0x7fffffff)
end

-- One sync attempt: true, or nil, why.
local function sync_once(a, deadline)
	local id = fresh_id()
	local req = util.json().encode({ execute = "guest-sync-delimited",
		arguments = { id = id } })
	local ok, why = a.ch:send("\255" .. req .. "\n", deadline)
	if not ok then return nil, why end
	-- Everything up to the 0xFF before our reply is stale or noise.
	local line
	line, why = protoread.read(a.ch, { deadline = deadline,
		max = SYNC_MAXLINE, resync = 0xff }, function(_, msg)
		return msg ~= nil and msg["return"] == id
	end)
	if not line then return nil, why end
	return true
end

-- sync(deadline): retries with a fresh id until the deadline, since a
-- sync sent before the guest opened its port is simply lost.
function Agent:sync(deadline)
	local why
	repeat
		local try = math.min(deadline, core.now() + SYNC_TRY)
		local ok
		ok, why = sync_once(self, try)
		if ok then return true end
		if why ~= "timeout" then return nil, why end
	until core.now() >= deadline
	return nil, "no answer to guest-sync"
end

-- receive(deadline, want [, max]) -> line, kind, msg, id | nil, why:
-- protoread.read on this connection (want as there); max bounds a line
-- (MAXLINE unless given).  What commands use to read replies.
function Agent:receive(deadline, want, max)
	return protoread.read(self.ch, { deadline = deadline,
		max = max or MAXLINE }, want)
end

local function is_reply(kind) return kind == "reply" end

-- call(cmd, args, deadline) -> return value | nil, message, class
function Agent:call(cmd, args, deadline)
	local ok, why = self:send(cmd, args, deadline)
	if not ok then return nil, why end
	local _, rwhy, msg = self:receive(deadline, is_reply)
	if not msg then return nil, rwhy end
	return protoread.result(msg)
end

-- send(cmd, args, deadline): for commands that never reply on success
-- (guest-shutdown); the caller watches the VM instead.
function Agent:send(cmd, args, deadline)
	local req = { execute = cmd }
	if args ~= nil and next(args) ~= nil then req.arguments = args end
	return self:send_line(util.json().encode(req), deadline)
end

-- send_line(text, deadline): a request already written as JSON text.
function Agent:send_line(text, deadline)
	return self.ch:send(text .. "\n", deadline)
end

function Agent:close() self.ch:close() end

-- connect(path, deadline) -> agent | nil, message: synced and ready.
function M.connect(path, deadline)
	local ch, err = core.connect(path, deadline)
	if not ch then return nil, err end
	local a = setmetatable({ ch = ch }, Agent)
	local ok, why = a:sync(deadline)
	if not ok then
		ch:close()
		return nil, why
	end
	return a
end

return M
