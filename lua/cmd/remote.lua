-- -H [user@]host[,host...] COMMAND ...: the command run by nvqctl on
-- each host through ssh (remote/ssh).  Interactive commands go to one
-- host with a terminal; the others run on all hosts at once and their
-- answers are merged: a HOST column, or one --json array with a "host"
-- field.  The exit status is the worst of the hosts'.
local core = require "nvq.core"
local fanout = require "remote.fanout"
local jsonout = require "base.jsonout"
local merge = require "remote.merge"
local util = require "base.util"

local QUERY_WAIT = 120		-- seconds for a host to answer a query
local ACT_WAIT = 2 * 86400	-- and to finish an action (a stop has
				-- its own SHUTDOWN_TIMEOUT, up to a day)

local QUERIES = { list = true, status = true, top = true, host = true,
	dryrun = true, hooks = true, policy = true }

-- Whether the command needs the user's terminal there.
local function interactive(name, opts)
	if name == "console" or name == "monitor" or name == "config" then
		return true
	end
	return name == "top" and not opts.json and not opts.n and
		core.isatty(1)
end

local function one(hosts, name, args)
	if #hosts > 1 then
		util.usage_error("-H: %s is interactive: name one host, not %d",
			name, #hosts)
	end
	local r, note = fanout.interactive(hosts[1], args)
	if not r then util.die("%s: cannot run ssh: %s", hosts[1], note) end
	if note then util.warn("%s", note) end
	if r.status == 255 then
		util.die("%s: ssh failed (exit 255): cannot reach the host or " ..
			"the connection broke", hosts[1])
	end
	if r.status == 127 then
		util.die("%s: no nvqctl there; name it with NVQCTL_REMOTE", hosts[1])
	end
	return r.status or 128 + (r.signal or 0)
end

return { run = function(hosts, name, args, opts)
	if interactive(name, opts) then return one(hosts, name, args) end
	local deadline = core.now() + (QUERIES[name] and QUERY_WAIT or ACT_WAIT)
	local results = fanout.run(hosts, args, deadline)
	local rc
	for _, r in ipairs(results) do rc = merge.worst(rc, merge.status(r)) end
	if results[1] and results[1].note then util.warn("%s", results[1].note) end
	if opts.json then
		print(jsonout.encode(jsonout.array(merge.json(results, opts.vm))))
	else
		merge.text(results)
	end
	return rc
end }
