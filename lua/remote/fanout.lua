-- remote/fanout.lua: one nvqctl command on several hosts at once, each
-- ssh in a child of its own (base/child), its output and exit status
-- reported back; the parent holds the one deadline.
local child = require "base.child"
local core = require "nvq.core"
local ssh = require "remote.ssh"

local M = {}

local CHUNK = 4096	-- bytes of output per report: escaped, a report
			-- stays under child.MAX_TEXT

local function send_all(send, kind, s)
	for i = 1, #s, CHUNK do send(kind, s:sub(i, i + CHUNK - 1)) end
end

-- In the child: ssh, its output captured, all of it reported.
local function body(argv, deadline)
	return function(send)
		local r, err = core.run(argv, { stdin = "null", stdout = "capture",
			stderr = "capture", deadline = deadline })
		if not r then
			send("fail", err)
			return
		end
		send_all(send, "out", r.stdout)
		send_all(send, "err", r.stderr)
		if r.timedout then
			send("timeout", "")
		elseif r.signal then
			send("signal", r.signal)
		else
			send("status", r.status)
		end
	end
end

-- run(hosts, args, deadline) -> { { host, status | signal | timedout |
-- fail, stdout, stderr, note }, ... } in the order of hosts.
function M.run(hosts, args, deadline)
	local results, kids = {}, {}
	for i, h in ipairs(hosts) do
		local argv, note = ssh.argv(h, args, false)
		local res = { host = h, out = {}, err = {}, note = note }
		results[i] = res
		local c, why = child.spawn(body(argv, deadline))
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
			for _, r in ipairs(c:read()) do
				local res = c.res
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
			if c.eof then live = live - 1 end
		end
	end
	for _, c in ipairs(kids) do
		local res = c.res
		if not c.eof then res.timedout = true else c:reap(2) end
		c:kill(0)
		if not (res.status or res.signal or res.timedout or res.fail) then
			res.fail = "the ssh child " .. c:how()
		end
		res.stdout, res.stderr = table.concat(res.out), table.concat(res.err)
		res.out, res.err = nil, nil
	end
	for _, res in ipairs(results) do
		res.stdout, res.stderr = res.stdout or "", res.stderr or ""
	end
	return results
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
