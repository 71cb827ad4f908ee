-- cmd/oneshot.lua: what the one-shot commands qmp and agent share: their
-- arguments, waiting for the reply, and printing it.
local qmptext = require "proto.qmptext"
local util = require "base.util"
local vmarg = require "vm.arg"

local M = {}

local TIMEOUT = 10	-- seconds, when --timeout is not given
local MAXLINE = 16 * 1024 * 1024

-- setup(what, pos, opts) -> VM handle, json-args text | nil, seconds.
-- Bad arguments are usage errors before anything is opened.
function M.setup(what, pos, opts)
	local timeout = opts.timeout and
		util.check(vmarg.seconds(opts.timeout, "--timeout")) or TIMEOUT
	local args = pos[3]
	if args then
		local ok, err = qmptext.check_object(args)
		if not ok then
			util.usage_error("%s: json-args: %s: %s", what, err, args)
		end
	end
	return util.check(vmarg.open(pos[1])), args, timeout
end

function M.running(v)
	util.check(vmarg.running(v))
end

-- reply(conn, deadline, want) -> line, message | nil, why: the first
-- message on conn (a QMP or agent connection) for which
-- want(kind, msg, id) is true; others, garbage too, are skipped.
function M.reply(conn, deadline, want)
	local line, why, msg = conn:receive(deadline, function(kind, m, id)
		return want(kind, m, id) == true
	end, MAXLINE)
	if not line then return nil, why end
	return line, msg
end

-- The return value on stdout, exit 0; an error as "vm: CLASS: desc".
function M.print(v, line, msg)
	if msg.error ~= nil then
		util.die("%s: %s", v.name, qmptext.error_text(msg))
	end
	io.stdout:write(qmptext.return_text(line), "\n")
	return 0
end

return M
