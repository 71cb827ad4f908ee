-- remote.lua: -H's pieces against a fake ssh (a script that runs the
-- remote command with sh, as sshd would, or fails as ssh does).
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local fanout = require "remote.fanout"
local hosts = require "base.hosts"
local jsonout = require "base.jsonout"
local merge = require "remote.merge"
local ssh = require "remote.ssh"

local tmp = os.getenv("TESTTMP")

-- Host names: nothing ssh could take for an option or a shell could
-- take apart.
t.ok(hosts.valid("h1.example.org") and hosts.valid("root@h1") and
	hosts.valid("10.0.0.1") and hosts.valid("fe80::1"), "host names")
for _, bad in ipairs({ "-oProxyCommand=x", "root@-x", "a b", "h;id",
	"h$(id)", "", "@h", "h'" }) do
	t.ok(not hosts.valid(bad), "not a host: " .. bad)
end
t.same(hosts.split("a, b,,a  c", "-H"), { "a", "b", "c" },
	"split: commas and blanks, repeats dropped")
t.is(select(2, hosts.split(",", "-H")), "-H: no host named", "split: none")

-- Each argument reaches the remote nvqctl as it was.
local function through_sh(s)
	local r = core.run({ "sh", "-c", "printf '%s' " .. ssh.quote(s) },
		{ stdout = "capture" })
	return r.stdout
end
for _, s in ipairs({ "plain", "it's", "'", "''", "$(id)", "a b\tc",
	"`x`", "\\", "!*?[", "" }) do
	t.is(through_sh(s), s, "quoted for the remote shell: " .. s)
end

-- The remote command: per host, then NVQCTL_REMOTE, then nvqctl.
t.is(ssh.remote_command("h1.example.org"), "nvqctl", "remote: nvqctl")
core.setenv("NVQCTL_REMOTE", "sudo -n nvqctl")
t.is(ssh.remote_command("h1"), "sudo -n nvqctl", "remote: NVQCTL_REMOTE")
core.setenv("NVQCTL_REMOTE_h1_example_org", "/opt/nvqctl")
t.is(ssh.remote_command("root@h1.example.org"), "/opt/nvqctl",
	"remote: NVQCTL_REMOTE_<host>, the user left out, '.' as '_'")

-- The fake ssh: its last two words are the host and the command.
local fake = tmp .. "/ssh"
local f = assert(io.open(fake, "w"))
f:write([[
#!/bin/sh
for a; do shift; set -- "$@" "$a"; h=$cmd; cmd=$a; done
echo "$*" > "$TESTTMP/argv.$h"
case $h in
down) echo "ssh: connect to host down port 22: Connection refused" >&2
	exit 255 ;;
slow) sleep 20 ;;
big) head -c 100000 /dev/zero | tr '\0' x; exit 0 ;;
esac
exec sh -c "$cmd"
]])
f:close()
core.chmod(fake, "0755")
core.setenv("NVQCTL_SSH", "sh " .. fake .. " -q")
core.setenv("NVQCTL_REMOTE", "printf '<%s>\\n'")
core.setenv("NVQCTL_REMOTE_h1_example_org", "printf '[%s]\\n'")
local t0 = core.now()
local res = fanout.run({ "root@h1.example.org", "down", "big", "slow" },
	{ "status", "--json", "it's $(x)" }, core.now() + 1.5)
local took = core.now() - t0
t.ok(took < 4, string.format("hosts in parallel, the slow one cut at " ..
	"the deadline (%.1fs)", took))
t.is(res[1].host, "root@h1.example.org", "results in the order of the hosts")
t.is(res[1].stdout, "[status]\n[--json]\n[it's $(x)]\n",
	"h1: its own remote command; each word arrives as it was")
local argv = io.open(tmp .. "/argv.down"):read("l")
t.ok(argv:find("^%-q %-o BatchMode=yes .*%-o ControlMaster=auto %-o " ..
	"ControlPath=" .. tmp:gsub("%p", "%%%0") .. "/nvqctl%-ssh%.%d+/%x+ " ..
	"%-o ControlPersist=60s %-T %-n %-%- down printf"),
	"ssh: batch mode, a shared connection, no terminal, -- before the host")
t.is(res[2].status, 255, "down: ssh's 255")
t.same({ merge.failure(res[2]) }, { "unreachable",
	"ssh: connect to host down port 22: Connection refused" },
	"down: unreachable, ssh's reason")
t.is(#res[3].stdout, 100000, "big: 100000 bytes of output whole")
t.ok(res[4].timedout, "slow: timed out")
t.is((merge.failure(res[4])), "unreachable", "slow: counted unreachable")
local d = core.stat(ssh.control_dir())
t.is(d and d.mode, 448, "the control directory is 0700")

-- A control directory others can enter is not used.
core.chmod(ssh.control_dir() or tmp .. "/nvqctl-ssh." .. core.geteuid(),
	"0755")
local a2, note = ssh.argv("h", { "list" }, false)
t.ok(not table.concat(a2, " "):find("ControlMaster"),
	"a control directory open to others: no sharing")
t.like(note, "not a directory of this user's", "... and a warning says why")

-- What a host's exit status says.
local function r(status, stderr) return { status = status,
	stderr = stderr or "", stdout = "" } end
t.is((merge.failure(r(0))), nil, "0: nvqctl answered")
t.is((merge.failure(r(1, "nvqctl: no such VM: x\n"))), nil,
	"1: nvqctl answered (its message is relayed)")
t.is(select(2, merge.failure(r(127, "sh: 1: nvqctl: not found\n"))),
	"no nvqctl there (sh: 1: nvqctl: not found); name it with " ..
	"NVQCTL_REMOTE", "127: no nvqctl there")
t.is(select(2, merge.failure(r(2, "nvqctl: list: unknown option " ..
	"--json\nusage: nvqctl list\n"))), "its nvqctl is too old: it does " ..
	"not know the option --json (upgrade nvqctl there)",
	"2 with unknown option: too old, said so")
t.like(select(2, merge.failure(r(2, "nvqctl: unknown command: host\n"))),
	"does not know the command host", "2 with unknown command: too old")
t.is(merge.status(r(255)), 1, "an unreachable host counts as 1")
local w
for _, s in ipairs({ 0, 3, 0 }) do w = merge.worst(w, s) end
t.is(w, 3, "worst: nothing to do over success")
t.is(merge.worst(merge.worst(3, 1), 0), 1, "worst: a failure over both")
t.is(merge.worst(1, 2), 2, "worst: a usage error over a failure")

-- A document read back encodes as it was: empty arrays stay arrays.
local text = '[{"a":[],"b":"[]","c":[ ],"d":{"e":[]},"f":"q\\"[]"}]'
t.is(jsonout.encode(jsonout.decode(text)),
	jsonout.encode({ { a = jsonout.array({}), b = "[]",
	c = jsonout.array({}), d = { e = jsonout.array({}) }, f = 'q"[]' } }),
	"decode: [] outside strings stays [], inside strings untouched")
t.is(jsonout.decode("{"), nil, "decode: not JSON is nil")

-- The merged JSON: each row with its host; a dead host's row.
local rows = merge.json({
	{ host = "a", status = 0, stderr = "", stdout = '[{"name":"x"}]\n' },
	{ host = "b", status = 0, stderr = "", stdout = "[]\n" },
	{ host = "c", status = 255, stderr = "ssh: no route\r\n", stdout = "" },
}, nil)
local function flat(row)
	local keys = {}
	for k, v in pairs(row) do keys[#keys + 1] = k .. "=" .. tostring(v) end
	table.sort(keys)
	return table.concat(keys, " ")
end
t.is(#rows, 2, "json: a's row and c's, none for b's empty list")
t.is(flat(rows[1]), "error=" .. tostring(require("cjson").null) ..
	" host=a name=x", "json: a's row with its host, error null")
t.is(flat(rows[2]), "error=ssh: no route host=c state=unreachable",
	"json: c's row says why")
-- The move stream: a sparse file and a small one through and back.
local stream = require "remote.stream"
local src = tmp .. "/src"
core.mkdir(src, "0700")
local big = assert(io.open(src .. "/disk", "wb"))
big:seek("set", 3 * stream.BLOCK + 5)
big:write("data in the middle")
big:seek("set", 40 * stream.BLOCK - 1)
big:write("\0")
big:close()
assert(io.open(src .. "/small", "wb")):write("x"):close()
local buf = {}
local list = { { role = "conf", path = "-", rel = "conf", data = "K=v\n" } }
for _, rel in ipairs(stream.files(src)) do
	list[#list + 1] = { role = "vm", path = src .. "/" .. rel, rel = rel }
end
local sent = stream.send(function(b) buf[#buf + 1] = b return true end,
	list)
t.is(sent, stream.BLOCK + 4 + 1, "send: only the data blocks are sent")
local text = table.concat(buf)
local function receive(s)
	local f = io.tmpfile()
	f:write(s)
	f:seek("set", 0)
	local dst = tmp .. "/dst"
	core.mkdir(dst, "0700")
	local got, why = stream.receive(f, function(role, rel)
		return dst .. "/" .. (role == "conf" and "conf" or rel)
	end)
	return got, why, dst
end
local got, _, dst = receive(text)
t.is(got and got.files, 3, "receive: three files")
local function read(p) local f = io.open(p, "rb") local d = f:read("a")
	f:close() return d end
t.is(read(dst .. "/disk"), read(src .. "/disk"), "receive: the sparse file whole")
t.is(read(dst .. "/small"), "x", "receive: the small one")
t.is(read(dst .. "/conf"), "K=v\n", "receive: data given as text")
local cut, why = receive(text:sub(1, #text - 100))
t.is(cut, nil, "receive: a stream cut short fails")
t.is(why, "the stream was cut short", "... and says so")
t.is(select(2, receive("NVQMOVE 1\nF vm 1 ../x\n")),
	"a path that leaves the VM's directory: ../x", "receive: no .. paths")
t.done()
