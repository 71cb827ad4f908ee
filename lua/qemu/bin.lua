-- qemu/bin.lua: where QEMU's programs are on this host.  pkgsrc installs
-- them in /usr/pkg/bin, which rc.d's PATH may lack; elsewhere (Debian:
-- /usr/bin) they are found on PATH, as execvp would find them.
local core = require "nvq.core"

local M = {}

M.PKGSRC = "/usr/pkg/bin"
M.QEMU = "qemu-system-x86_64"

local function executable(p)
	local st = core.stat(p)
	return st and st.type == "file" and core.access(p, "x") and p or nil
end

-- The file exec would run for prog: prog itself when it has a slash,
-- else the first executable of that name in PATH.
function M.which(prog)
	if prog:find("/", 1, true) then return prog end
	for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
		local p = executable(dir .. "/" .. prog)
		if p then return p end
	end
end

-- prog's path: pkgsrc's copy when there is one, else the one on PATH;
-- nil when neither exists.
function M.find(prog)
	return executable(M.PKGSRC .. "/" .. prog) or M.which(prog)
end

-- What an empty QEMU_BIN (the default) stands for: the path found,
-- or the bare name (exec then fails with "not found", as host says).
function M.qemu(raw)
	if raw ~= "" then return raw end
	-- How an empty QEMU_BIN became path, for host: ", pkgsrc's",
-- ", found on PATH", or nothing (not found: host says so).
function M.how(path)
	if path == M.PKGSRC .. "/" .. M.QEMU then return ", pkgsrc's" end
	if path:find("/", 1, true) then return ", found on PATH" end
	return ""
end

return M.find(M.QEMU) or M.QEMU
end

-- How an empty QEMU_BIN became path, for host: ", pkgsrc's",
-- ", found on PATH", or nothing (not found: host says so).
function M.how(path)
	if path == M.PKGSRC .. "/" .. M.QEMU then return ", pkgsrc's" end
	if path:find("/", 1, true) then return ", found on PATH" end
	return ""
end

return M
