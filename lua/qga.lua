-- qga.lua: a QEMU guest agent client.  The agent has no greeting and
-- may hold stale bytes from an earlier client, so every connection
-- starts with 0xFF and guest-sync-delimited and discards everything up
-- to the matching reply.  All the agent says is guest-controlled:
-- lines are bounded and every read has a deadline.
local core = require "nvq.core"
local util = require "util"

local M = {}

local MAXLINE = 1024 * 1024
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

local function decode(line)
	local ok, msg = pcall(util.json().decode, line)
	if ok and type(msg) == "table" then return msg end
end

-- One sync attempt: true, or nil, why.
local function sync_once(a, deadline)
	local id = fresh_id()
	local req = util.json().encode({ execute = "guest-sync-delimited",
		arguments = { id = id } })
	local ok, why = a.ch:send("\255" .. req .. "\n", deadline)
	if not ok then return nil, why end
	while true do
		ok, why = a.ch:skipto(0xff, deadline)
		if not ok then return nil, why end
		local line
		line, why = a.ch:readline(deadline, 4096)
		if not line then
			if why ~= "too long" then return nil, why end
		else
			local msg = decode(line)
			if msg and msg["return"] == id then return true end
		end
		-- A guest that never stops talking never lets a read wait for
		-- the deadline: look at the clock after every line.
		if core.now() >= deadline then return nil, "timeout" end
	end
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

-- call(cmd, args, deadline) -> return value | nil, message, class
function Agent:call(cmd, args, deadline)
	local ok, why = self:send(cmd, args, deadline)
	if not ok then return nil, why end
	while true do
		local line, rwhy = self.ch:readline(deadline, MAXLINE)
		if not line then return nil, rwhy end
		local msg = decode(line)
		if msg and msg.error then
			local e = type(msg.error) == "table" and msg.error or {}
			return nil, tostring(e.desc or "malformed error reply"),
				e.class
		elseif msg and msg["return"] ~= nil then
			return msg["return"]
		end
		if core.now() >= deadline then return nil, "timeout" end
	end
end

-- send(cmd, args, deadline): for commands that never reply on success
-- (guest-shutdown); the caller watches the VM instead.
function Agent:send(cmd, args, deadline)
	local req = { execute = cmd }
	if args ~= nil and next(args) ~= nil then req.arguments = args end
	return self.ch:send(util.json().encode(req) .. "\n", deadline)
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
