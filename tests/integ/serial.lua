-- serial.lua SOCKET ping SECONDS: types a probe into the guest's serial
-- console until its shell echoes the answer (exit 0) or time runs out.
-- serial.lua SOCKET run SECONDS COMMAND: runs a command, prints output.
local core = require "nvq.core"

local sock, what, secs, cmd = arg[1], arg[2], tonumber(arg[3]), arg[4]
local deadline = core.now() + secs

local ch
while not ch do
	ch = core.connect(sock, deadline)
	if not ch then
		if core.now() >= deadline then
			io.stderr:write("serial.lua: cannot connect to ", sock, "\n")
			return 1
		end
		core.sleep(0.1)
	end
end

local tag = "NVQ" .. math.random(100000, 999999)
-- The shell echoes what we type, so the expected answer is built by
-- the shell from two halves and never appears in the echo.
local line = what == "run"
	and string.format("echo %s-B''EGIN; %s; echo %s-E''ND\n", tag, cmd, tag)
	or string.format("echo %s-P''ONG\n", tag)
local want = what == "run" and tag .. "%-END" or tag .. "%-PONG"

local seen = ""
while core.now() < deadline do
	ch:send(line, deadline)
	local try = what == "run" and deadline or math.min(deadline, core.now() + 1)
	while core.now() < try do
		local data = ch:read(try)
		if not data then break end
		seen = seen .. data
		if seen:find(want .. "[\r\n]") then
			if what == "run" then
				local out = seen:match(tag .. "%-BEGIN\r?\n(.-)" .. tag .. "%-END")
				io.write(out or "")
			end
			return 0
		end
	end
	if what == "run" then break end
end
io.stderr:write("serial.lua: no answer from the guest shell\n")
return 1
