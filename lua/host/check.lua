-- host/check.lua: what this host offers nvqctl and what is wrong with it,
-- in the spirit of libvirt's virt-host-validate.  check(env) returns a
-- list of { check = name, level = PASS|NOTE|WARN|FAIL, detail = text };
-- cmd/host prints it.  Nothing here starts a VM: QEMU is only asked
-- for its --version.
local accel = require "qemu.accel"
local bootgraph = require "boot.graph"
local config = require "conf.load"
local core = require "nvq.core"
local bridge = require "net.bridge"
local macs = require "vm.macs"
local hooks = require "ulua.phases"
local paths = require "base.paths"
local qbin = require "qemu.bin"
local usertrust = require "ulua.trust"

local format = string.format

local M = {}

-- NOTE: a fact that is neither a success nor a problem (an accelerator
-- that cannot exist on this operating system).  Only FAIL makes the
-- command exit 1.
M.LEVELS = { "PASS", "NOTE", "WARN", "FAIL" }

local VERSION_WAIT = 5	-- seconds QEMU has to answer --version
local MAX_NAME = 64	-- paths.valid_name's limit
local AGENT_SOCK = "guest-agent.sock"	-- the longest socket name
local GROUP_OTHER_W = tonumber("022", 8)
local OTHER_W = tonumber("002", 8)

local function add(out, check, level, fmt, ...)
	out[#out + 1] = { check = check, level = level,
		detail = format(fmt, ...) }
end

local function octal(mode) return format("%04o", mode) end

-- Accelerators: the survey auto decides with, one line each.  TCG always
-- works, so an accelerator is at most a WARN: guests still run.
local function accelerators(out, facts)
	local native = facts.sysname == "NetBSD" and "nvmm" or
		facts.sysname == "Linux" and "kvm"
	local chosen
	for _, a in ipairs(accel.survey(facts)) do
		local check = "accel " .. a.name
		if a.ok then
			local tail = ""
			if not chosen then
				chosen = a.name
				tail = "; ACCEL=auto uses it"
			end
			add(out, check, "PASS", "usable: %s%s", a.why, tail)
		elseif a.present or a.name == native then
			add(out, check, "WARN", "not usable: %s", a.why)
		else
			add(out, check, "NOTE", "not on this system: %s", a.why)
		end
	end
end

-- Every VM's config, loaded as list loads it, and the names of those
-- that do not load with the message.
local function load_vms()
	local cfgs, bad = {}, {}
	for _, name in ipairs(paths.vm_names()) do
		local cfg, msg = config.load(name, "list")
		if cfg then
			cfgs[#cfgs + 1] = cfg
		else
			bad[#bad + 1] = { name = name, msg = msg }
		end
	end
	return cfgs, bad
end

-- A VM whose ACCEL names an accelerator this host lacks will not start;
-- one that is there but unusable starts and its guest never runs.
local function vm_accels(out, cfgs, facts)
	local survey = {}
	for _, a in ipairs(accel.survey(facts)) do survey[a.name] = a end
	for _, cfg in ipairs(cfgs) do
		local a = survey[cfg.ACCEL]
		if a and a.present and not a.ok then
			add(out, "vm " .. cfg.name, "WARN", "ACCEL=%s: %s: ordinary " ..
				"guests will not run with it (ACCEL=auto picks one that " ..
				"does)", cfg.ACCEL, a.why)
		elseif a and not a.ok then
			add(out, "vm " .. cfg.name, "FAIL", "ACCEL=%s: %s: QEMU " ..
				"cannot start with it", cfg.ACCEL, a.why)
		end
	end
end

-- QEMU's version, or nil and why it cannot be run.
local function qemu_version(bin)
	local path = qbin.which(bin)
	if not path then return nil, "not found in PATH" end
	local st = core.stat(path)
	if not st then return nil, "does not exist" end
	if st.type ~= "file" then return nil, "is not a file" end
	if not core.access(path, "x") then return nil, "is not executable" end
	local r, err = core.run({ bin, "--version" }, { stdout = "capture",
		stderr = "capture", deadline = core.now() + VERSION_WAIT })
	if not r then return nil, "cannot be run: " .. tostring(err) end
	if r.timedout then
		return nil, format("did not answer --version within %d s",
			VERSION_WAIT)
	end
	local v = r.stdout:match("QEMU emulator version (%d+%.%d+%.?%d*)")
	if r.status ~= 0 or not v then
		local why = r.signal and "killed by signal " .. r.signal or
			r.status ~= 0 and "exit " .. tostring(r.status) or
			"no \"QEMU emulator version\" line"
		local said = r.stderr ~= "" and r.stderr or r.stdout
		local msg = said:match("[^\n]+")
		return nil, format("--version failed (%s)%s", why,
			msg and ": " .. msg or "")
	end
	return v
end

M.qemu_version = qemu_version	-- for nvqctl -V

-- Each distinct QEMU_BIN once: the global one (the default, or the
-- global file's) and every VM's.  A binary a VM needs is a FAIL when it
-- cannot run; the global one that no VM uses only a WARN.
local function qemus(out, cfgs, global, origin)
	local users, order = {}, {}
	local function use(bin, who)
		if not users[bin] then
			users[bin] = {}
			order[#order + 1] = bin
		end
		if who then table.insert(users[bin], who) end
	end
	if global then use(global) end
	for _, cfg in ipairs(cfgs) do use(cfg.QEMU_BIN, cfg.name) end
	for _, bin in ipairs(order) do
		local who = users[bin]
		local whom = #who == 0 and "used by no VM" or
			"used by " .. table.concat(who, ", ")
		if bin == global then
			whom = (origin == "(default)" and "the default QEMU_BIN" ..
				qbin.how(bin) or
				"QEMU_BIN of " .. origin) .. "; " .. whom
		end
		local v, why = qemu_version(bin)
		if v then
			add(out, "qemu " .. bin, "PASS", "QEMU %s (%s)", v, whom)
		else
			add(out, "qemu " .. bin, #who > 0 and "FAIL" or "WARN",
				"%s (%s)", why, whom)
		end
	end
end

local function lua_libs(out)
	add(out, "lua", "PASS", "%s", _VERSION)
	local ok, cjson = pcall(require, "cjson")
	if ok then
		add(out, "lua-cjson", "PASS", "%s", tostring(cjson._VERSION or
			"loaded, version unknown"))
	else
		add(out, "lua-cjson", "FAIL", "cannot be loaded: QMP, the guest " ..
			"agent and --json need it (Debian: apt-get install " ..
			"lua-cjson; NetBSD: pkgin install lua54-cjson)")
	end
end

-- Who may change what nvqctl trusts: as root, a directory or file that
-- another user owns or that group or others may write lets them plant
-- a VM config (a QEMU_BIN, PRE_START) or a socket that nvqctl then
-- uses as root.  As another user it is only a warning.
local function trust(path, st, env, what)
	local root = env.euid == 0
	local level = root and "FAIL" or "WARN"
	if st.mode & GROUP_OTHER_W ~= 0 then
		local who = st.mode & OTHER_W ~= 0 and "anyone" or
			format("anyone in group %d", st.gid)
		return level, format("%s is writable by %s (mode %s): they " ..
			"could %s", path, who, octal(st.mode), what)
	end
	if st.uid ~= 0 and st.uid ~= env.euid then
		return level, format("%s is owned by uid %d, not %s: that user " ..
			"could %s", path, st.uid, root and "root" or "us", what)
	end
end

local function owner_mode(st)
	return format("owner %d, group %d, mode %s", st.uid, st.gid,
		octal(st.mode))
end

local PLANT = "plant a VM config that nvqctl runs as root"

local function confdirs(out, env)
	for _, d in ipairs({ { "confdir", paths.confdir() },
	    { "vmdir", paths.vmconfdir() } }) do
		local check, path = d[1], d[2]
		local st = core.stat(path)
		if not st then
			add(out, check, "WARN", "%s does not exist: no VM is " ..
				"configured (nvqctl create makes it)", path)
		elseif st.type ~= "dir" then
			add(out, check, "FAIL", "%s is not a directory", path)
		else
			local level, why = trust(path, st, env, PLANT)
			if level then
				add(out, check, level, "%s", why)
			elseif not core.access(path, "rx") then
				add(out, check, "WARN", "%s is not readable by uid " ..
					"%d: VM configs cannot be read (%s)", path, env.euid,
					owner_mode(st))
			else
				add(out, check, "PASS", "%s (%s)", path, owner_mode(st))
			end
		end
	end
end

-- The config files themselves: a writable nvqctl.conf or VM file is as
-- dangerous as a writable directory.  One line per bad file, else one.
local function conffiles(out, env)
	local files = { paths.global_conf() }
	for _, n in ipairs(paths.vm_names()) do
		files[#files + 1] = paths.vmconf(n)
	end
	local n, bad = 0, false
	for _, f in ipairs(files) do
		local st = core.stat(f)
		if st then
			n = n + 1
			local level, why = trust(f, st, env, PLANT)
			if level then
				add(out, "config files", level, "%s", why)
				bad = true
			end
		end
	end
	if not bad then
		add(out, "config files", "PASS", "%d file%s, none writable by " ..
			"others", n, n == 1 and "" or "s")
	end
end

-- A broken global file breaks every VM alike: its own line says so.
local function vm_errors(out, bad, global_err)
	for _, b in ipairs(bad) do
		if b.msg ~= global_err then
			add(out, "vm " .. b.name, "FAIL", "%s", b.msg)
		end
	end
end

-- Files in vm/ that list, start and startall never see, and why.
local function ignored_conf(f)
	if f:sub(1, 1) == "." then return nil end	-- hidden: left alone
	local n = f:match("^(.+)%.conf$")
	if not n then return nil end
	if #n > MAX_NAME then
		return format("its name has %d characters (at most %d)", #n,
			MAX_NAME)
	end
	local bad = n:match("[^%w_-]")
	if bad then
		return format("its name holds %q (only letters, digits, _ " ..
			"and - make a VM name)", bad)
	end
end

local function ignored_confs(out)
	for _, f in ipairs(core.readdir(paths.vmconfdir()) or {}) do
		local why = ignored_conf(f)
		if why then
			add(out, "config files", "WARN", "%s/%s is ignored: %s",
				paths.vmconfdir(), f, why)
		end
	end
end

-- What startall would refuse: a VM waiting for itself, for a VM that
-- does not exist, or a cycle (boot.graph's own check, as startall runs
-- it).  A config that does not load counts as a VM with no relations.
local function boot_graph(out, cfgs, bad)
	local byname = {}
	for _, c in ipairs(cfgs) do byname[c.name] = c end
	for _, b in ipairs(bad) do
		byname[b.name] = { name = b.name, file = paths.vmconf(b.name) }
	end
	local ok, why = bootgraph.check(byname)
	if ok then
		add(out, "boot graph", "PASS", "BOOT_AFTER and BOOT_REQUIRES " ..
			"make no cycle")
		return
	end
	for l in why:gmatch("[^\n]+") do
		add(out, "boot graph", "FAIL", "%s: startall starts nothing", l)
	end
end

-- The hook and policy files the next start or startall runs, checked
-- by the runner's own check: what it refuses here, it refuses there.
-- The hooks directory is checked as such: left writable, anyone could
-- put a hook into it.
local function userfiles(out, cfgs, env)
	if env.euid ~= 0 then
		add(out, "user lua", "NOTE", "hooks and policies are checked " ..
			"when nvqctl runs as root (run nvqctl host as root)")
		return
	end
	local files = { hooks.dir(), hooks.all_file(),
		paths.confdir() .. "/policies" }
	for _, c in ipairs(cfgs) do files[#files + 1] = hooks.vm_file(c.name) end
	for _, f in ipairs(core.readdir(paths.confdir() .. "/policies") or {}) do
		if f:match("%.lua$") then
			files[#files + 1] = paths.confdir() .. "/policies/" .. f
		end
	end
	local n, bad = 0, false
	for _, f in ipairs(files) do
		if core.stat(f) then
			n = n + 1
			local ok, why = usertrust.check(f)
			if not ok then
				add(out, "user lua", "FAIL", "%s: every start that runs " ..
					"it is refused", why)
				bad = true
			end
		end
	end
	if not bad then
		add(out, "user lua", "PASS", "hooks and policies (%d paths): " ..
			"none writable by others", n)
	end
end

local function parent(path)
	local p = path:match("^(.*[^/])/+[^/]+/*$")
	return p or (path:sub(1, 1) == "/" and "/" or ".")
end

local function rundir(out, env)
	local path = paths.rundir()
	local st = core.stat(path)
	if not st then
		local up = parent(path)
		local ust = core.stat(up)
		if ust and ust.type == "dir" and core.access(up, "wx") then
			add(out, "rundir", "PASS", "%s does not exist yet: nvqctl " ..
				"start creates it (%s is writable)", path, up)
		else
			add(out, "rundir", "WARN", "%s does not exist and %s %s: " ..
				"nvqctl start cannot create it", path, up,
				ust and "is not writable by uid " .. env.euid or
				"does not exist")
		end
		return
	end
	if st.type ~= "dir" then
		add(out, "rundir", "FAIL", "%s is not a directory", path)
		return
	end
	local level, why = trust(path, st, env, "replace a VM's run " ..
		"directory and the sockets nvqctl talks to as root")
	if level then
		add(out, "rundir", level, "%s", why)
	else
		add(out, "rundir", "PASS", "%s (%s)", path, owner_mode(st))
	end
end

-- The guest agent's socket (the longest of a VM's socket names) must
-- be creatable: the run directory writable, and the path short enough
-- for sun_path, NUL included.
local function sockets(out, env, cfgs)
	local check = "agent socket"
	local dir = paths.rundir()
	-- A run directory still to be made is the rundir line's business.
	if core.stat(dir) and not core.access(dir, "wx") then
		add(out, check, "FAIL", "%s is not writable by uid %d: no VM " ..
			"socket can be made there (run as root, or set NVQCTL_RUNDIR)",
			dir, env.euid)
	end
	local room = core.SUN_PATH_MAX - 1
	local function sock(name)
		return format("%s/%s/%s", dir, name, AGENT_SOCK)
	end
	local base = #sock("")
	local fits = room - base	-- the longest VM name that fits
	local fix = "set NVQCTL_RUNDIR to a shorter directory"
	if fits < 1 then
		add(out, check, "FAIL", "%s is too long: a VM's socket %s would " ..
			"need %d bytes or more, sun_path holds %d; %s", dir, AGENT_SOCK,
			base + 1, room, fix)
		return
	end
	local longest
	for _, cfg in ipairs(cfgs) do
		local p = sock(cfg.name)
		if #p > room then
			add(out, check, "FAIL", "VM %s: %s is %d bytes, sun_path " ..
				"holds %d; %s", cfg.name, p, #p, room, fix)
		end
		if not longest or #p > #longest then longest = p end
	end
	if fits < MAX_NAME then
		add(out, check, "WARN", "VM names longer than %d characters would " ..
			"not fit in sun_path (%d bytes) under %s; %s", fits, room, dir,
			fix)
	else
		add(out, check, "PASS", "%s/<%d-character name>/%s is %d bytes, " ..
			"sun_path holds %d%s", dir, MAX_NAME, AGENT_SOCK, base + MAX_NAME,
			room, longest and format("; longest configured: %s (%d)",
			longest, #longest) or "")
	end
end

-- Two VMs with one MAC cannot both talk on a shared segment.
local function shared_macs(out)
	local clashes = macs.all()
	for _, m in ipairs(clashes) do add(out, "macs", "FAIL", "%s", m) end
	if #clashes == 0 then
		add(out, "macs", "PASS", "no MAC is used by two VMs")
	end
end

-- The bridges VMs name, and the tap cloning device their NICs need.
local function bridges(out, cfgs, env)
	local users = {}
	for _, cfg in ipairs(cfgs) do
		for _, n in ipairs(cfg.nets or {}) do
			if n.kind == "bridge" then
				users[n.bridge] = users[n.bridge] or {}
				local u = users[n.bridge]
				if u[#u] ~= cfg.name then u[#u + 1] = cfg.name end
			end
		end
	end
	local names = {}
	for b in pairs(users) do names[#names + 1] = b end
	if #names == 0 then return end
	table.sort(names)
	for _, b in ipairs(names) do
		local ok, why = bridge.exists(b)
		local who = "used by " .. table.concat(users[b], ", ")
		if ok then
			add(out, "bridge " .. b, "PASS", "exists (%s)", who)
		else
			add(out, "bridge " .. b, "FAIL", "%s: every start of %s " ..
				"is refused", why, table.concat(users[b], ", "))
		end
	end
	if env.euid ~= 0 then
		add(out, "taps", "WARN", "only root can open %s for bridge NICs",
			bridge.clone_device())
		return
	end
	local ok, why = bridge.clone_check()
	if ok then
		add(out, "taps", "PASS", "%s opens", bridge.clone_device())
	else
		add(out, "taps", "FAIL", "%s", why)
	end
end

-- check(env) -> list of checks.  env (all optional, for tests): facts =
-- accel.facts(), euid = the effective uid.
function M.check(env)
	env = env or {}
	env.facts = env.facts or accel.facts()
	env.euid = env.euid or core.geteuid()
	local out = {}
	accelerators(out, env.facts)
	local cfgs, bad = load_vms()
	local global, origin = config.global_value("QEMU_BIN")
	local global_err = not global and origin or nil
	global = global and qbin.qemu(global)
	if global_err then
		add(out, "global config", "FAIL", "%s", global_err)
	end
	qemus(out, cfgs, global, origin)
	lua_libs(out)
	confdirs(out, env)
	conffiles(out, env)
	ignored_confs(out)
	userfiles(out, cfgs, env)
	vm_errors(out, bad, global_err)
	boot_graph(out, cfgs, bad)
	vm_accels(out, cfgs, env.facts)
	rundir(out, env)
	sockets(out, env, cfgs)
	shared_macs(out)
	bridges(out, cfgs, env)
	return out
end

-- The worst level in the list.
function M.worst(list)
	local rank = {}
	for i, l in ipairs(M.LEVELS) do rank[l] = i end
	local w = "PASS"
	for _, c in ipairs(list) do
		if rank[c.level] > rank[w] then w = c.level end
	end
	return w
end

return M
