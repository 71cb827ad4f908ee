-- proto/lineread.lua: the one way a QMP or guest-agent message is read.
-- Everything the peer sends is untrusted: a line is bounded, every wait
-- has a deadline, and a peer that talks without pause (events, stale
-- replies, a guest's garbage) cannot keep a reader past its deadline,
-- because the clock is looked at here after every line not wanted.
-- The QMP and agent clients and qmpbatch read through read() alone.
local core = require "nvq.core"
local qmptext = require "proto.qmptext"
local util = require "base.util"

local M = {}

-- read(ch, opt, want) -> line, kind, msg, id | nil, why
-- Reads lines from the channel ch and classifies each (qmptext.classify:
-- kind "reply", "event", "greeting" or "garbage"; msg the decoded
-- object; id the reply's id as compact JSON text) until
-- want(kind, msg, id, line) returns true, which takes that line; a
-- string returned ends the read with nil, that string; anything else
-- skips the line.  why is "timeout", "eof", "too long" or the system's
-- message.  opt:
--   deadline  absolute (core.now()); "timeout" once it has passed
--   max       bytes in a line ("too long" beyond)
--   wait      how long to wait for a line, if not until the deadline
--             (0: only what has already come; qmpbatch polls many)
--   resync    a byte (the agent's 0xFF): input up to it is dropped
--             before each line, and a line too long is skipped
function M.read(ch, opt, want)
	local deadline, max, resync = opt.deadline, opt.max, opt.resync
	local wait = opt.wait or deadline
	while true do
		local line, why
		if resync then
			local ok
			ok, why = ch:skipto(resync, wait)
			if ok then line, why = ch:readline(wait, max) end
			if not line and why ~= "too long" then return nil, why end
		else
			line, why = ch:readline(wait, max)
			if not line then return nil, why end
		end
		if line then
			local kind, msg, id = qmptext.classify(line)
			local w = want(kind, msg, id, line)
			if w == true then return line, kind, msg, id end
			if type(w) == "string" then return nil, w end
		end
		if core.now() >= deadline then return nil, "timeout" end
	end
end

-- result(msg) -> a reply's return value | nil, desc, class: QMP and the
-- agent shape replies alike.  The peer's words are escaped where they
-- enter nvqctl's messages.
function M.result(msg)
	if msg.error ~= nil then
		local e = type(msg.error) == "table" and msg.error or {}
		return nil, util.printable(e.desc or "malformed error reply"),
			e.class and util.printable(e.class)
	end
	return msg["return"]
end

return M
