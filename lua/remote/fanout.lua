-- remote/fanout.lua: one nvqctl command on several hosts at once, each
-- ssh in a child of its own (base/child), its output and exit status
-- reported back; the parent holds the one deadline.
local child = require "base.child"
local core = require "nvq.core"
local mux = require "remote.mux"
local ssh = require "remote.ssh"

local M = {}

local CHUNK = 4096	-- bytes of output per report: escaped, a report
			-- stays under child.MAX_TEXT

local function send_all(send, kind, s)
	for i = 1, #s, CHUNK do send(kind, s:sub(i, i + CHUNK - 1)) end
end

-- Through the shared connection when there is one (remote/mux), else
-- ssh, which makes it: the result | nil, why.
local function run_one(h, args, argv, deadline)
	local path = ssh.control_path(h)
	if path and core.stat(path) then
		local r, why, started = mux.run(path, ssh.command_line(h, args),
			deadline)
		if r or started then return r, why end
	end
	return core.run(argv, { stdin = "null", stdout = "capture",
		stderr = "capture", deadline = deadline })
end

-- In the child: the command run, its output captured, all of it
-- reported.
local function body(run)
	return function(send)
		local r, err = run()
		if not r then
			send("fail", err)
			return
		end
		send_all(send, "out", r.stdout)
		send_all(send, "err", r.stderr)
		if r.fail then
			send("fail", r.fail)
		elseif r.timedout then
			send("timeout", "")
		elseif r.signal then
			send("signal", r.signal)
		else
			send("status", r.status)
		end
	end
end

-- One report of a child into its host's result.
local function collect(res, r)
	if r.kind == "out" or r.kind == "err" then
		local t = res[r.kind]
		t[#t + 1] = r.text
	elseif r.kind == "status" or r.kind == "signal" then
		res[r.kind] = tonumber(r.text)
	elseif r.kind == "timeout" then
		res.timedout = true
	else
		res.fail = r.text
	end
end

-- The child reaped (killed if it still runs), its result made whole.
local function finish(c, res)
	if not c.eof then res.timedout = true else c:reap(2) end
	c:kill(0)
	if not (res.status or res.signal or res.timedout or res.fail) then
		res.fail = "the ssh child " .. c:how()
	end
	res.stdout, res.stderr = table.concat(res.out), table.concat(res.err)
	res.out, res.err = nil, nil
	return res
end

-- run_here(h, args, deadline) -> one result as run's, in this process.
function M.run_here(h, args, deadline)
	local argv, note = ssh.argv(h, args, false)
	local r, why = run_one(h, args, argv, deadline)
	r = r or { fail = why }
	return { host = h, note = note, status = r.status, signal = r.signal,
		timedout = r.timedout, fail = r.fail, stdout = r.stdout or "",
		stderr = r.stderr or "" }
end

-- run(hosts, args, deadline) -> { { host, status | signal | timedout |
-- fail, stdout, stderr, note }, ... } in the order of hosts.
function M.run(hosts, args, deadline)
	-- One host: no child to run it beside the others.
	if #hosts == 1 then return { M.run_here(hosts[1], args, deadline) } end
	local results, kids = {}, {}
	for i, h in ipairs(hosts) do
		local argv, note = ssh.argv(h, args, false)
		local res = { host = h, out = {}, err = {}, note = note }
		results[i] = res
		local c, why = child.spawn(body(function()
			return run_one(h, args, argv, deadline)
		end))
		if c then
			c.res = res
			kids[#kids + 1] = c
		else
			res.fail = why
		end
	end
	-- A little past the deadline: the children kill their ssh at it.
	local hard = deadline + 2
	local live = #kids
	while live > 0 do
		local ready = child.poll(kids, hard)
		if #ready == 0 then break end
		for _, c in ipairs(ready) do
			for _, r in ipairs(c:read()) do collect(c.res, r) end
			if c.eof then live = live - 1 end
		end
	end
	for _, c in ipairs(kids) do finish(c, c.res) end
	for _, res in ipairs(results) do
		res.stdout, res.stderr = res.stdout or "", res.stderr or ""
	end
	return results
end

-- feed(host, args, deadline) -> feeder | nil, why: the command run
-- with its standard input a pipe from here.  feeder.write(bytes) ->
-- true | nil, why; feeder.finish() -> the result as run's (stdin
-- closed first, so the command sees its end).
function M.feed(h, args, deadline)
	local argv = ssh.argv(h, args, false)
	for i = #argv, 1, -1 do
		-- Its input is ours: no -n.
		if argv[i] == "-n" then table.remove(argv, i) break end
	end
	local rfd, wfd = core.pipe()
	if not rfd then return nil, wfd end
	local res = { host = h, out = {}, err = {} }
	local c, why = child.spawn(body(function()
		return core.run(argv, { stdin = "inherit", stdout = "capture",
			stderr = "capture", deadline = deadline })
	end), {
		close = { wfd },
		setup = function() assert(core.dup2(rfd, 0)) end })
	core.fdclose(rfd)
	if not c then
		core.fdclose(wfd)
		return nil, why
	end
	local feeder = {}
	function feeder.write(data)
		local ok, werr = core.write_fd(wfd, data)
		if not ok then return nil, "ssh to " .. h .. ": " .. tostring(werr) end
		return true
	end
	function feeder.finish()
		if wfd then core.fdclose(wfd) end
		wfd = nil
		while not c.eof do
			if #child.poll({ c }, deadline + 2) == 0 then break end
			for _, r in ipairs(c:read()) do collect(res, r) end
		end
		return finish(c, res)
	end
	return feeder
end

-- interactive(host, args) -> exit status: ssh -t, the terminal the
-- user's until the remote command ends (no deadline: a console lasts
-- as long as its user wants).
function M.interactive(h, args)
	local argv, note = ssh.argv(h, args, true)
	local r, err = core.run(argv, { stdin = "inherit", stdout = "inherit",
		stderr = "inherit" })
	if not r then return nil, err end
	return r, note
end

return M
