-- remote/mux.lua: one command through an ssh connection already shared
-- (ControlMaster), asked of its control socket directly in OpenSSH's
-- multiplexing protocol (PROTOCOL.mux, version 4) instead of through a
-- new ssh process: on a slow host starting ssh costs more than the
-- command.  Only what -H needs: a session without a terminal, standard
-- input /dev/null, its output through two pipes, its exit status.
local core = require "nvq.core"

local M = {}

local HELLO, NEW_SESSION = 0x00000001, 0x10000002
local S_DENIED, S_FAILURE = 0x80000002, 0x80000003
local S_EXIT, S_OPENED, S_TTY_FAIL = 0x80000004, 0x80000006, 0x80000008
local VERSION = 4
local MAX_PACKET = 65536	-- bytes; the master's messages are tiny
local NO_ESCAPE = 0xffffffff

local function u32(...) return string.pack(">" .. ("I4"):rep(select("#",
	...)), ...) end
local function str(s) return string.pack(">s4", s) end

-- Packets from the control socket: next(deadline) -> type, body | nil,
-- why; parse() -> type, body | nil when no whole packet is buffered.
local function reader(ch)
	local buf = ""
	local r = {}
	function r.parse()
		if #buf < 4 then return nil end
		local len = string.unpack(">I4", buf)
		if len < 4 or len > MAX_PACKET then
			return nil, "a packet of " .. len .. " bytes"
		end
		if #buf < 4 + len then return nil end
		local body = buf:sub(5, 4 + len)
		buf = buf:sub(5 + len)
		return string.unpack(">I4", body), body:sub(5)
	end
	function r.fill(deadline)
		local d, why = ch:read(deadline)
		if not d then return nil, why end
		buf = buf .. d
		return true
	end
	function r.next(deadline)
		while true do
			local t, body = r.parse()
			if t then return t, body end
			if body then return nil, body end
			local ok, why = r.fill(deadline)
			if not ok then return nil, why end
		end
	end
	return r
end

local function send(ch, body, deadline)
	return ch:send(str(body), deadline)
end

-- The descriptors the session gets: /dev/null, two pipes' write ends.
local function stdio()
	local null, nwhy = core.openfile("/dev/null")
	if not null then return nil, nwhy end
	local outr, outw = core.pipe()
	local errr, errw = core.pipe()
	if not (outr and errr) then
		for _, fd in ipairs({ null, outr, outw, errr, errw }) do
			core.fdclose(fd)
		end
		return nil, "no pipe"
	end
	return { null, outw, errw }, outr, errr
end

-- Opens the session: the session id | nil, why.
local function open(ch, rd, command, deadline)
	local ok, why = send(ch, u32(HELLO, VERSION), deadline)
	if not ok then return nil, why end
	local t, body = rd.next(deadline)
	if not t then return nil, body end
	if t ~= HELLO or #body < 4 then
		return nil, "no hello from the ssh master: " .. tostring(body)
	end
	if string.unpack(">I4", body) ~= VERSION then
		return nil, "the ssh master speaks another multiplexing version"
	end
	ok, why = send(ch, u32(NEW_SESSION, 1) .. str("") ..
		u32(0, 0, 0, 0, NO_ESCAPE) .. str("") .. str(command), deadline)
	if not ok then return nil, why end
	local fds, outr, errr = stdio()
	if not fds then return nil, outr end
	for _, fd in ipairs(fds) do
		if ok then ok, why = ch:sendfd(fd, "\0", deadline) end
		core.fdclose(fd)
	end
	if not ok then
		core.fdclose(outr)
		core.fdclose(errr)
		return nil, why
	end
	t, body = rd.next(deadline)
	if t == S_OPENED and #body >= 8 then
		return select(2, string.unpack(">I4I4", body)), outr, errr
	end
	core.fdclose(outr)
	core.fdclose(errr)
	if not t then return nil, body end
	if (t == S_DENIED or t == S_FAILURE) and #body >= 8 then
		return nil, "ssh master: " .. string.unpack(">s4", body, 5)
	end
	return nil, "ssh master: no session (" .. tostring(t or body) .. ")"
end

-- Drains one pipe: false at EOF.
local function drain(fd, acc)
	while true do
		local d, why = core.fdread(fd)
		if d == "" then return false end
		if not d then return why == "again" end
		acc[#acc + 1] = d
	end
end

-- Until the session's output ends and the master closes the socket
-- (before that it sends the exit status): status | nil, why.
local function wait(ch, rd, sid, pipes, deadline)
	local cfd, status, live = ch:fileno(), nil, true
	while live or next(pipes) do
		local fds = { live and cfd or nil }
		for fd in pairs(pipes) do fds[#fds + 1] = fd end
		local ready, any = core.poll(fds, deadline), false
		for i, fd in ipairs(fds) do
			if ready[i] then
				any = true
				if fd ~= cfd then
					if not drain(fd, pipes[fd]) then pipes[fd] = nil end
				else
					local ok = rd.fill(core.now())
					while true do
						local t, body = rd.parse()
						if not t then break end
						if t == S_EXIT and #body >= 8 then
							local s, v = string.unpack(">I4I4", body)
							if s == sid then status = v end
						elseif t ~= S_TTY_FAIL then
							live = false
						end
					end
					if not ok then live = false end
				end
			end
		end
		if not any and core.now() >= deadline then return nil, "timeout" end
	end
	if not status then
		return nil, "the shared ssh connection ended without an exit status"
	end
	return status
end

-- run(path, command, deadline) -> { status, stdout, stderr } | nil,
-- why, started.  started: the command may have run (do not run it
-- again); when false, nothing was asked of the other host.
function M.run(path, command, deadline)
	local ch, cwhy = core.connect(path, deadline)
	if not ch then return nil, cwhy, false end
	local rd = reader(ch)
	local sid, outr, errr = open(ch, rd, command, deadline)
	if not sid then
		ch:close()
		return nil, outr, false
	end
	local out, err = {}, {}
	local status, why = wait(ch, rd, sid, { [outr] = out, [errr] = err },
		deadline)
	ch:close()
	core.fdclose(outr)
	core.fdclose(errr)
	local r = { status = status, stdout = table.concat(out),
		stderr = table.concat(err) }
	if not status then
		if why == "timeout" then r.timedout = true else r.fail = why end
	end
	return r
end

return M
