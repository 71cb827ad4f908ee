-- main.lua: command-line dispatch.  One table describes every command;
-- it drives parsing, dispatch and usage(), as in OpenBSD's vmctl.
local core = require "nvq.core"
local util = require "base.util"

local M = {}

-- name, synopsis, module, positional bounds, options, summary.
-- Options: flag = true (boolean), "value" (takes an argument) or
-- "values" (takes one each time it is given: a list).
local commands = {
	{ "list", "[--json]", "cmd.list", 0, 0, { json = true },
		"list configured VMs and their state" },
	{ "top", "[-n count] [--json] [interval]", "cmd.top", 0, 1,
		{ n = "value", json = true }, "live view of running VMs" },
	{ "start", "[--fresh] [--json] <vm>", "cmd.start", 1, 1,
		{ fresh = true, json = true },
		"start a VM (restoring its saved state, unless --fresh)" },
	{ "stop", "[--force] [--json] <vm> [timeout]", "cmd.stop", 1, 2,
		{ force = true, json = true }, "shut a VM down (agent, then ACPI)" },
	{ "startall", "[-n|--dry-run] [--json] [vm ...]", "cmd.startall", 0,
		math.huge, { n = true, ["dry-run"] = true, json = true },
		"start AUTOSTART (or the named) VMs in boot order" },
	{ "stopall", "[-n|--dry-run] [--timeout s] [--json] [vm ...]",
		"cmd.stopall", 0, math.huge, { n = true, ["dry-run"] = true,
		timeout = "value", json = true },
		"stop every running (or the named) VM within one deadline" },
	{ "save", "<vm>", "cmd.save", 1, 1, {},
		"save a VM's state to disk and stop it; start restores it" },
	{ "kill", "[--json] <vm>", "cmd.kill", 1, 1, { json = true },
		"stop a VM at once (guest data may be lost)" },
	{ "restart", "[--force] [--json] <vm> [timeout]", "cmd.restart", 1,
		2, { force = true, json = true }, "stop, then start a VM" },
	{ "reboot", "[--hard] [--json] <vm>", "cmd.reboot", 1, 1,
		{ hard = true, json = true },
		"reboot a VM through its agent (--hard: reset)" },
	{ "status", "[--json] <vm>", "cmd.status", 1, 1, { json = true },
		"show a VM's live state" },
	{ "console", "<vm>", "cmd.console", 1, 1, {},
		"attach to a VM's serial console" },
	{ "vnc", "<vm>", "cmd.vnc", 1, 1, {},
		"how to reach a VM's VNC display" },
	{ "monitor", "<vm>", "cmd.monitor", 1, 1, {},
		"interactive QMP shell" },
	{ "qmp", "[--timeout s] <vm> <command> [json-args]", "cmd.qmp", 2, 3,
		{ timeout = "value" }, "one QMP command, reply as JSON" },
	{ "agent", "[--timeout s] <vm> <command> [json-args]", "cmd.agent",
		2, 3, { timeout = "value" }, "one guest-agent command" },
	{ "create", "[--cpus n] [--memory size] [--disk size[:format]]... " ..
		"[--from image [--linked]] [--iso file] [--cloud-init] " ..
		"[--network nic]... [--json] <vm>", "cmd.create", 1, 1,
		{ cpus = "value", memory = "value", disk = "values",
		from = "value", linked = true, iso = "value",
		["cloud-init"] = true, network = "values", json = true },
		"make a new VM: its config and disks" },
	{ "clone", "[--linked] [--json] <src> <dst>", "cmd.clone", 2, 2,
		{ linked = true, json = true },
		"a new VM with copies of (or overlays on) another's disks" },
	{ "snapshot", "[--json] <vm> create|list|revert|delete [name]",
		"cmd.snapshot", 2, 3, { json = true },
		"snapshots of a VM's qcow2 disks" },
	{ "disk", "<vm> resize <disk> <size> | <vm> add <size[:format]>",
		"cmd.disk", 3, 4, {}, "grow a VM's disk, or add a new one" },
	{ "config", "<vm>", "cmd.config", 1, 1, {},
		"edit a VM config, checked before it is saved" },
	{ "dryrun", "[--json] <vm>", "cmd.dryrun", 1, 1, { json = true },
		"print the QEMU command line" },
	{ "host", "[--json]", "cmd.host", 0, 0, { json = true },
		"check what this host offers and what is wrong" },
	{ "policy", "list | show [--builtin] <name>", "cmd.policy", 1, 2,
		{ builtin = true }, "list the policies, or print one's source" },
	{ "hooks", "<vm>", "cmd.hooks", 1, 1, {},
		"list and check the hooks that apply to a VM" },
	{ "move", "[--keep] [--json] <vm> [user@]host", "cmd.move", 2, 2,
		{ keep = true, json = true },
		"move a VM (config, disks, memory) to another host" },
	{ "receive", "[--check] <vm> [bytes]", "cmd.receive", 1, 2,
		{ check = true }, "the other end of move (run by it over ssh)" },
	{ "help", "", nil, 0, 0, {}, "this text" },
}

local by_name = {}
for _, c in ipairs(commands) do
	by_name[c[1]] = { name = c[1], synopsis = c[2], module = c[3],
		min = c[4], max = c[5], opts = c[6], summary = c[7] }
end

local function usage(out)
	out:write("usage: nvqctl [-V] [-H [user@]host[,host...]] command " ..
		"[options] [vm] [arguments]\n\n")
	for _, c in ipairs(commands) do
		local s = c[1] .. (c[2] ~= "" and " " .. c[2] or "")
		-- A synopsis too long for its column gets a line of its own.
		if #s > 44 then s = s .. "\n" .. string.rep(" ", 46) end
		out:write(string.format("  %-44s %s\n", s, c[7]))
	end
end

local function command_usage(cmd)
	io.stderr:write(string.format("usage: nvqctl %s %s\n", cmd.name,
		cmd.synopsis))
end

-- Splits argv into options and positional arguments for one command.
local function parse(cmd, argv, first)
	local opts, pos = {}, {}
	local i = first
	while i <= #argv do
		local a = argv[i]
		if a == "--" then
			table.move(argv, i + 1, #argv, #pos + 1, pos)
			break
		end
		local name, inline = a:match("^%-%-?([%w-]+)=(.*)$")
		name = name or a:match("^%-%-?([%w-]+)$")
		-- "-n1": a one-letter option with its value attached.
		local letter, attached = a:match("^%-(%a)(.+)$")
		if letter and cmd.opts[letter] == "value" then
			name, inline = letter, attached
		end
		if name and a:sub(1, 1) == "-" and not a:match("^%-%d") then
			local kind = cmd.opts[name]
			if kind == nil then
				util.usage_error("%s: unknown option %s", cmd.name, a)
			elseif kind == true then
				if inline then
					util.usage_error("%s: %s takes no value", cmd.name, name)
				end
				opts[name] = true
			else
				if not inline then
					i = i + 1
					inline = argv[i]
					if inline == nil then
						util.usage_error("%s: %s needs a value", cmd.name, a)
					end
				end
				if kind == "values" then
					opts[name] = opts[name] or {}
					table.insert(opts[name], inline)
				else
					opts[name] = inline
				end
			end
		else
			pos[#pos + 1] = a
		end
		i = i + 1
	end
	if #pos < cmd.min then
		util.usage_error("%s: missing argument", cmd.name)
	elseif #pos > cmd.max then
		util.usage_error("%s: too many arguments", cmd.name)
	end
	return opts, pos
end

-- -H: the hosts named, or (-H right before a command) the default set,
-- NVQCTL_HOSTS or HOSTS in nvqctl.conf; and where the command starts.
local function hosts_of(argv)
	local a = argv[1]
	local list, i = a:match("^%-H(.+)$"), 2
	if not list then
		list, i = argv[2], 3
		if list == nil then util.usage_error("-H needs hosts") end
		if by_name[list] or list == "-V" or list == "--version" then
			return util.check(require("remote.ssh").default_hosts()), 2
		end
	end
	local why
	list, why = require("base.hosts").split(list, "-H")
	return util.check(list, why, "usage"), i
end

-- nvqctl -H hosts command ...: checked here as it would be there (a
-- usage error costs no connection), then run there.
local function remote(argv)
	local hosts, i = hosts_of(argv)
	if (argv[i] == "-V" or argv[i] == "--version") and #argv == i then
		return require("cmd.remote").run(hosts, "version", { "-V" }, {})
	end
	local cmd = by_name[argv[i]]
	if cmd == nil or cmd.module == nil then
		util.usage_error("-H: %s", argv[i] and "unknown command: " ..
			argv[i] or "no command")
	end
	local opts, pos = parse(cmd, argv, i + 1)
	-- The VM it is about, for a host's row that has no answer.
	opts.vm = cmd.synopsis:find("<vm>") and pos[1] or nil
	return require("cmd.remote").run(hosts, cmd.name,
		table.move(argv, i, #argv, 1, {}), opts)
end

local function dispatch(argv)
	local first = argv[1]
	if first and first:find("^%-H") then return remote(argv) end
	local alone = { ["-V"] = true, ["--version"] = true, ["-h"] = true,
		["--help"] = true, help = true }
	if first == nil or (alone[first] and #argv > 1) then
		if first then
			io.stderr:write("nvqctl: ", first, " takes no arguments\n")
		end
		usage(io.stderr)
		return 2
	elseif first == "-V" or first == "--version" then
		return require("cmd.version").run()
	elseif first == "-h" or first == "--help" or first == "help" then
		usage(io.stdout)
		return 0
	end
	local cmd = by_name[first]
	if cmd == nil then
		io.stderr:write("nvqctl: unknown command: ", first, "\n")
		usage(io.stderr)
		return 2
	end
	-- A usage error is reported by main, with this command's usage.
	local opts, pos = parse(cmd, argv, 2)
	local rc = require(cmd.module).run(pos, opts)
	return rc or 0
end

local function handler(e)
	if util.is_failure(e) then return e end
	return debug.traceback(tostring(e), 2)
end

function M.main(argv)
	local ok, rc = xpcall(dispatch, handler, argv)
	-- Output that could not be written (a full disk) is a failure, not
	-- a silent success for the script that redirected it.
	local fok, ferr = io.stdout:flush()
	if ok and not fok then
		io.stderr:write("nvqctl: standard output: ", tostring(ferr), "\n")
		return 1
	end
	if ok then return rc end
	if util.is_failure(rc) then
		io.stderr:write("nvqctl: ", rc.msg, "\n")
		if rc.usage then
			local cmd = by_name[argv[1]]
			if argv[1] and argv[1]:find("^%-H") then
				for _, a in ipairs(argv) do cmd = cmd or by_name[a] end
			end
			if cmd then command_usage(cmd) else usage(io.stderr) end
		end
		return rc.code
	end
	io.stderr:write("nvqctl: internal error: ", rc, "\n")
	return 1
end

return M
