-- remote/ssh.lua: how nvqctl reaches another host -- the system's ssh,
-- one shared connection per host (ControlMaster) kept a short while, so
-- that a series of commands pays the handshake once.  Hosts, the ssh
-- command and the remote command are named here and nowhere else.
local config = require "conf.load"
local core = require "nvq.core"
local hosts = require "base.hosts"
local paths = require "base.paths"
local util = require "base.util"

local M = {}

M.CONNECT_TIMEOUT = 10	-- seconds for ssh to reach a host
M.PERSIST = "60s"	-- how long an idle shared connection stays

-- The hosts -H names when given none: NVQCTL_HOSTS, else HOSTS in
-- nvqctl.conf.  list | nil, why.
function M.default_hosts()
	local e = os.getenv("NVQCTL_HOSTS")
	if e and e:find("%S") then return hosts.split(e, "NVQCTL_HOSTS") end
	local g, why = config.global()
	if not g then return nil, why end
	if #g.HOSTS == 0 then
		return nil, "-H names no host, and neither NVQCTL_HOSTS nor " ..
			"HOSTS in nvqctl.conf names a default set"
	end
	return g.HOSTS
end

-- A word list as the remote shell reads it: each word single-quoted.
function M.quote(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function words(s)
	local out = {}
	for w in s:gmatch("%S+") do out[#out + 1] = w end
	return out
end

local function env(name)
	local v = os.getenv(name)
	if v == nil or v:find("^%s*$") then return nil end
	return v
end

-- The command the remote shell runs for nvqctl on host h: the host's
-- own NVQCTL_REMOTE_<host> (host as in [user@]host, every character
-- other than a letter, digit or "_" made "_"), else NVQCTL_REMOTE,
-- else "nvqctl" from the remote PATH.  Taken as shell text on purpose
-- ("env NVQCTL_CONFDIR=/x nvqctl", "sudo -n nvqctl"): the administrator
-- writes it, like a line of ssh_config.
function M.remote_command(h)
	local bare = h:match("@(.*)$") or h
	return env("NVQCTL_REMOTE_" .. bare:gsub("[^%w_]", "_")) or
		env("NVQCTL_REMOTE") or "nvqctl"
end

-- The private directory of the shared connections' sockets: made 0700
-- if missing, refused unless it is ours, a real directory and closed
-- to others (a socket there is a way onto every host).  dir | nil, why.
function M.control_dir()
	local d = paths.ssh_control_dir()
	local st = core.stat(d, "l")
	if not st then
		local old = core.umask("077")
		local ok, why = core.mkdir(d, "0700")
		core.umask(string.format("%o", old))
		if not ok then return nil, why end
		st = core.stat(d, "l")
	end
	if not st or st.type ~= "dir" or st.uid ~= core.geteuid() or
	    st.mode & 0x3f ~= 0 then
		return nil, string.format("%s: not a directory of this user's " ..
			"closed to others; not sharing ssh connections through it", d)
	end
	return d
end

-- What names a shared connection besides the host: the ssh command
-- and the state of the ssh configuration files it reads (ssh's own %C
-- changes with the HostName or Port they give; a new -F file, an edit
-- of one, also starts a new connection here).
local function ssh_identity()
	local cmd = env("NVQCTL_SSH") or "ssh"
	local files, w = { "/etc/ssh/ssh_config" }, words(cmd)
	local home = env("HOME")
	if home then files[#files + 1] = home .. "/.ssh/config" end
	for i = 1, #w - 1 do
		if w[i] == "-F" then files[#files + 1] = w[i + 1] end
	end
	local parts = { cmd }
	for _, f in ipairs(files) do
		local st = core.stat(f)
		parts[#parts + 1] = st and (st.mtime .. ":" .. st.size) or "-"
	end
	return table.concat(parts, "\n")
end

-- The shared connection's socket for host h: named by nvqctl, not by
-- ssh's %C, so that remote/mux finds it without running ssh to ask.
-- path | nil, why.
function M.control_path(h)
	local dir, why = M.control_dir()
	if not dir then return nil, why end
	return dir .. "/" .. util.fnv64(ssh_identity() .. "\n" .. h)
end

-- The line the remote shell runs for the words args on host h.
function M.command_line(h, args)
	local q = {}
	for i, a in ipairs(args) do q[i] = M.quote(a) end
	return M.remote_command(h) .. " " .. table.concat(q, " ")
end

-- argv for running the words args (nvqctl's) on host h.  tty: ssh -t
-- (an interactive command), else -T with no input.
function M.argv(h, args, tty)
	local argv = words(env("NVQCTL_SSH") or "ssh")
	local function o(opt) argv[#argv + 1] = "-o"; argv[#argv + 1] = opt end
	o("BatchMode=yes")
	o("ConnectTimeout=" .. M.CONNECT_TIMEOUT)
	-- A host that goes silent is found out within 45 s.
	o("ServerAliveInterval=15")
	o("ServerAliveCountMax=3")
	local path, why = M.control_path(h)
	if path then
		o("ControlMaster=auto")
		o("ControlPath=" .. path)
		o("ControlPersist=" .. M.PERSIST)
	end
	argv[#argv + 1] = tty and "-t" or "-T"
	if not tty then argv[#argv + 1] = "-n" end
	argv[#argv + 1] = "--"
	argv[#argv + 1] = h
	argv[#argv + 1] = M.command_line(h, args)
	return argv, not path and why or nil
end

return M
