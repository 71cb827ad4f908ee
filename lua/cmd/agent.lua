-- agent [--timeout s] <vm> <command> [json-args]: one guest-agent
-- command, printed as qmp prints QMP's.  The whole call, guest-sync
-- included, is bounded by --timeout.
local core = require "nvq.core"
local oneshot = require "cmd.oneshot"
local qmptext = require "proto.qmptext"
local util = require "base.util"

-- Commands the agent answers only when they fail: the guest goes away.
local NO_REPLY = {
	["guest-shutdown"] = true, ["guest-suspend-disk"] = true,
	["guest-suspend-ram"] = true, ["guest-suspend-hybrid"] = true,
}
-- How long such a command is given to fail (bad arguments, say).  The
-- connection stays open meanwhile: QEMU drops what an isa-serial UART
-- has not yet taken from a socket that closes.
local FAIL_WAIT = 1

return { run = function(pos, opts)
	local v, args, timeout = oneshot.setup("agent", pos, opts)
	if not v.cfg.GUEST_AGENT then
		util.die("%s has no guest agent (GUEST_AGENT=no in %s)", v.name,
			v.cfg.file)
	end
	oneshot.running(v)
	local deadline = core.now() + timeout
	local a, err = v:agent(deadline)
	if not a then
		util.die("%s: the guest agent did not answer within %d s: %s",
			v.name, timeout, err)
	end
	local _ <close> = a
	local ok, why = a:send_line(qmptext.request(pos[2], args), deadline)
	if not ok then util.die("%s: sending to the agent: %s", v.name, why) end
	local function is_reply(kind) return kind == "reply" end
	if NO_REPLY[pos[2]] then
		local line, msg = oneshot.reply(a,
			math.min(deadline, core.now() + FAIL_WAIT), is_reply)
		if line then return oneshot.print(v, line, msg) end
		io.stderr:write(string.format("nvqctl: %s: %s sent (the agent " ..
			"does not answer it when it succeeds)\n", v.name, pos[2]))
		return 0
	end
	local line, msg = oneshot.reply(a, deadline, is_reply)
	if not line then
		util.die("%s: the guest agent did not reply to %s within %d s (%s)",
			v.name, pos[2], timeout, msg)
	end
	return oneshot.print(v, line, msg)
end }
