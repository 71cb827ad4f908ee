-- qmp [--timeout s] <vm> <command> [json-args]: one QMP command; its
-- return value is printed as JSON, an error as "vm: CLASS: desc".
local core = require "nvq.core"
local oneshot = require "cmd.oneshot"
local qmp = require "proto.qmpconn"
local paths = require "base.paths"
local qmptext = require "proto.qmptext"
local util = require "base.util"

local ID = "nvq-oneshot"

return { run = function(pos, opts)
	local v, args, timeout = oneshot.setup("qmp", pos, opts)
	oneshot.running(v)
	local deadline = core.now() + timeout
	local c, err = qmp.connect(paths.qmp_socket(v.rt), deadline)
	if not c then
		util.die("%s: QMP did not answer within %d s: %s (QEMU stopped, " ..
			"or another client holds the monitor?)", v.name, timeout, err)
	end
	local _ <close> = c
	local ok, why = c:send_line(qmptext.request(pos[2], args, ID), deadline)
	if not ok then util.die("%s: sending to QMP: %s", v.name, why) end
	local want = util.json().encode(ID)
	local line, msg = oneshot.reply(c, deadline, function(kind, _, id)
		return kind == "reply" and (id == nil or id == want)
	end)
	if not line then
		util.die("%s: no reply to %s within %d s (%s)", v.name, pos[2],
			timeout, msg)
	end
	return oneshot.print(v, line, msg)
end }
