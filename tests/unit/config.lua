-- config.lua: cases for lua/conf/load.lua, run by config.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local config = require "conf.load"
local util = require "base.util"

-- config.load returns nil, message; the cases expect the failure a
-- command would end with.
local function load(...) return util.check(config.load(...)) end
local core = require "nvq.core"
local paths = require "base.paths"
local util = require "base.util"

local TMP = assert(os.getenv("TESTTMP"))
local CONF = paths.confdir()
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/vm", "755"))
local VMFILE = CONF .. "/vm/t.conf"
local GLOBAL = CONF .. "/nvqctl.conf"
local SHELL = "the file is parsed, not run by a shell"

local function write(path, text)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end

-- Loads VM "t" from text, with gtext as the global file (or none).
local function vm(text, mode, gtext)
	write(VMFILE, text)
	if gtext then write(GLOBAL, gtext) else os.remove(GLOBAL) end
	return load("t", mode or "list")
end

-- The load must fail with a message containing VMFILE:want.
local function err(text, want, desc, mode, gtext)
	return t.fails(function() vm(text, mode, gtext) end, VMFILE .. ":" .. want,
		desc)
end

local function fields(list, key)
	local out = {}
	for i, e in ipairs(list) do out[i] = e[key] == nil and "-" or e[key] end
	return out
end

-- Defaults ----------------------------------------------------------------

local c = vm("")
t.is(c.name, "t", "cfg.name")
t.is(c.file, VMFILE, "cfg.file")
t.is(c.global_file, nil, "no global file")
t.is(c.QEMU_BIN, require("qemu.bin").qemu(""),
	"default QEMU_BIN: found on this host")
t.is(c.ACCEL, "auto", "default ACCEL")
t.is(c.CPU, "host", "default CPU")
local cn = vm("ACCEL=nvmm\n")
t.is(cn.accel, "nvmm", "nvmm is not resolved")
t.is(cn.cpu, "host", "host stays host under nvmm")
t.is(math.type(c.NCPU) .. c.NCPU, "integer1", "default NCPU is the integer 1")
t.is(math.type(c.MEMORY) .. c.MEMORY, "integer1024", "default MEMORY 1024")
t.is(c.DISPLAY_OPT, "none", "default DISPLAY_OPT")
t.is(c.SERIAL, true, "default SERIAL yes")
t.is(c.GUEST_AGENT, false, "default GUEST_AGENT no")
t.is(c.GUEST_AGENT_METHOD, "isa-serial", "default GUEST_AGENT_METHOD")
t.is(c.VIRTIO_RNG, true, "default VIRTIO_RNG yes")
t.is(c.RTC_BASE, "localtime", "default RTC_BASE")
t.is(c.SHUTDOWN_TIMEOUT, 120, "default SHUTDOWN_TIMEOUT")
t.is(c.SHUTDOWN_FORCE, false, "default SHUTDOWN_FORCE no")
t.is(c.CONSOLE_ESCAPE, "^]", "default CONSOLE_ESCAPE")
t.is(c.escape_char, "\29", "^] is byte 29")
t.is(c.EXTRA_ARGS, "", "default EXTRA_ARGS")
t.is(c.PRE_START, "", "default PRE_START")
t.is(#c.disks + #c.nets + #c.extra_args, 0, "no disks, nets, extra args")
t.is(#c.warnings, 0, "no warnings")

-- config.KEYS: ordered, described, and every key present in cfg.
local ok = #config.KEYS == 41
for _, k in ipairs(config.KEYS) do
	ok = ok and type(k.key) == "string" and type(k.default) == "string"
		and type(k.desc) == "string" and k.desc ~= "" and c[k.key] ~= nil
end
t.ok(ok, "config.KEYS: 39 keys with default and description, all in cfg")
t.is(config.KEYS[1].key, "QEMU_BIN", "config.KEYS is ordered")

-- Accepted forms ----------------------------------------------------------

c = vm([[
# a comment

   # an indented comment
	NCPU=2 # two, after the value
MEMORY="512"
QEMU_BIN='/opt/qemu $HOME "x"'
export SHUTDOWN_TIMEOUT=30
CPU=host
]])
t.is(c.NCPU, 2, "unquoted value, tab indent, comment after it")
t.is(c.MEMORY, 512, "double-quoted value")
t.is(c.QEMU_BIN, '/opt/qemu $HOME "x"', "single quotes are literal")
t.is(c.SHUTDOWN_TIMEOUT, 30, "export KEY=value is accepted")

c = vm([[
DISKS="
  /vm/a.img:raw

	/vm/b.img:qcow2:writeback
  /vm/c.img::none
/vm/d.img:raw:ro
"
NETWORK='
  tap0:52:54:00:AB:cd:ef
  tap1
'
]])
t.same(fields(c.disks, "path"), { "/vm/a.img", "/vm/b.img", "/vm/c.img",
	"/vm/d.img" }, "DISKS over several lines, trimmed, blank lines skipped")
t.same(fields(c.disks, "format"), { "raw", "qcow2", "raw", "raw" },
	"disk formats, raw by default")
t.same(fields(c.disks, "cache"), { "-", "writeback", "none", "-" },
	"disk cache modes, none when left out")
t.same(fields(c.disks, "line"), { 2, 4, 5, 6 }, "each disk knows its line")
t.same(fields(c.disks, "readonly"), { false, false, false, true },
	"ro: read-only")
t.same(fields(c.nets, "tap"), { "tap0", "tap1" }, "NETWORK in single quotes")
t.same(fields(c.nets, "mac"), { "52:54:00:AB:cd:ef", "52:54:3b:ce:d4:56" },
	"MAC is everything after the first colon; without one, derived")
t.same(fields(c.nets, "derived"), { "-", true }, "only the second derived")
t.same(fields(c.nets, "line"), { 9, 10 }, "each tap knows its line")

c = vm([[
VMDIR=/vm/t
D2=${VMDIR}/two.img
DISKS="${VMDIR}/root.img
$D2:qcow2"
EXTRA_ARGS="-m ${MEMORY} '${VMDIR}'"
QEMU_BIN='${VMDIR}'
]])
t.same(fields(c.disks, "path"), { "/vm/t/root.img", "/vm/t/two.img" },
	"${NAME} and $NAME expand helper variables")
t.same(c.extra_args, { "-m", "1024", "/vm/t" },
	"a key's default expands; quotes inside a value are literal")
t.is(c.QEMU_BIN, "${VMDIR}", "no expansion in single quotes")

c = vm([[
QEMU_BIN=a"b c"'d'\ e\$f
PRE_START="x\$y \"q\" \\ \z "
]])
t.is(c.QEMU_BIN, "ab cd e$f", "concatenated quoted parts, backslashes")
t.is(c.PRE_START, 'x$y "q" \\ \\z ', "backslash in double quotes as in sh")

c = vm('EXTRA_ARGS="one \\\ntwo"\nDISKS=/vm/a\\\n.img\nNCPU=3\n')
t.same(c.extra_args, { "one", "two" }, "backslash-newline inside quotes")
t.is(c.disks[1].path, "/vm/a.img", "backslash-newline continues a value")
t.is(c.NCPU, 3, "line counting goes on after a continuation")

c = vm("EXTRA_ARGS='-x\\'\nPRE_START=/bin/hook\\")
t.same(c.extra_args, { "-x\\" }, "a backslash ending EXTRA_ARGS is a word's")
t.is(c.PRE_START, "/bin/hook\\", "a backslash ending the file is kept, as sh does")

c = vm([[
EXTRA_ARGS="-append 'a;b|c&d<e>f (g)'"
PRE_START="x$ $/ y$"
]])
t.same(c.extra_args, { "-append", "a;b|c&d<e>f (g)" },
	"; | & < > ( ) are literal inside double quotes, as in sh")
t.is(c.PRE_START, "x$ $/ y$", "a $ that starts no name is literal")

c = vm("PRE_START=\nEXTRA_ARGS=a#b\nDISPLAY_OPT=vnc=:1,share=ignore\n")
t.is(c.PRE_START, "", "empty value")
t.same(c.extra_args, { "a#b" }, "# inside a word is not a comment")
t.is(c.DISPLAY_OPT, "vnc=:1,share=ignore", "DISPLAY_OPT with options")

c = vm("MEMORY=4G\n")
t.is(c.MEMORY, 4096, "MEMORY=4G is 4096 MiB")
t.is(vm("MEMORY=512M\n").MEMORY, 512, "MEMORY=512M")
t.is(vm("MEMORY=2g\n").MEMORY, 2048, "MEMORY=2g (lower case)")
t.is(vm("MEMORY=16\n").MEMORY, 16, "MEMORY=16, the least")
t.is(vm("MEMORY=16384G\n").MEMORY, 16777216, "MEMORY=16384G, the most")
t.is(vm("NCPU=255\n").NCPU, 255, "NCPU=255, the most")
t.is(vm("SHUTDOWN_TIMEOUT=86400\n").SHUTDOWN_TIMEOUT, 86400,
	"SHUTDOWN_TIMEOUT=86400, the most")

c = vm("SERIAL=NO\nGUEST_AGENT=Yes\nVIRTIO_RNG=no\nSHUTDOWN_FORCE=YES\n")
t.same({ c.SERIAL, c.GUEST_AGENT, c.VIRTIO_RNG, c.SHUTDOWN_FORCE },
	{ false, true, false, true }, "yes/no keys, any case")
t.is(vm("GUEST_AGENT_METHOD=virtio-serial\n").GUEST_AGENT_METHOD,
	"virtio-serial", "GUEST_AGENT_METHOD=virtio-serial")
t.is(vm("RTC_BASE=utc\n").RTC_BASE, "utc", "RTC_BASE=utc")
t.is(vm("RTC_BASE=2006-06-17\n").RTC_BASE, "2006-06-17", "RTC_BASE date")
t.is(vm("RTC_BASE=2006-06-17T16:01:21\n").RTC_BASE, "2006-06-17T16:01:21",
	"RTC_BASE date and time")
c = vm("CONSOLE_ESCAPE=^a\n")
t.is(c.CONSOLE_ESCAPE .. c.escape_char, "^A\1", "CONSOLE_ESCAPE=^a is Ctrl-A")
t.is(vm("CONSOLE_ESCAPE='^?'\n").escape_char, "\127", "^? is DEL")

-- Accelerators.
-- What this host can run; tests/unit/accel.lua checks the decision.
local auto = require("qemu.accel").resolve("auto")
c = vm("ACCEL=auto\n")
t.is(c.ACCEL .. " " .. c.accel, "auto " .. auto, "ACCEL=auto resolves to " ..
	auto .. " on this host")
t.is(c.cpu, auto == "tcg" and "max" or "host", "CPU=host under auto")
c = vm("ACCEL=tcg\nCPU=host,-x2apic\n")
t.is(c.cpu, "max,-x2apic", "CPU=host,... becomes max,... under tcg")
t.is(c.CPU, "host,-x2apic", "cfg.CPU keeps what was written")
t.is(vm("ACCEL=tcg\nCPU=hostile\n").cpu, "hostile", "only the model host")
t.is(vm("ACCEL=kvm\n").cpu, "host", "host stays host under kvm")

-- The global file.
c = vm("NCPU=4\n", "list", "NCPU=2\nMEMORY=2G\nROOT=/g\nQEMU_BIN=$ROOT/q\n")
t.is(c.global_file, GLOBAL, "cfg.global_file")
t.is(c.MEMORY, 2048, "a key from the global file")
t.is(c.NCPU, 4, "the VM file overrides the global file")
t.is(c.QEMU_BIN, "/g/q", "a variable used in the global file")
c = vm('EXTRA_ARGS="$ROOT ${NCPU}"\n', "list", "NCPU=2\nROOT=/g\nQEMU_BIN=$ROOT\n")
t.same(c.extra_args, { "/g", "2" }, "the VM file sees global names")

-- EXTRA_ARGS splitting.
c = vm([[EXTRA_ARGS="-device usb-ehci  -device	usb-tablet
  -boot d -cdrom '/iso/my disc.iso' -append \"a 'b' c\" x\\ y ''"
]])
t.same(c.extra_args, { "-device", "usb-ehci", "-device", "usb-tablet",
	"-boot", "d", "-cdrom", "/iso/my disc.iso", "-append", "a 'b' c",
	"x y", "" }, "EXTRA_ARGS split into words honouring quotes")
t.same(config.split_words([[a"\$\"\\\x"b 'c\d' \'e]]),
	{ [[a$"\\xb]], [[c\d]], "'e" }, "split_words: backslashes as sh")
t.same(config.split_words("  "), {}, "split_words: blanks only")

-- Disks on disk: start needs them, dryrun warns, list does not look.
local img = TMP .. "/disk.img"
write(img, "")
c = vm("DISKS=" .. img .. "\n", "start")
t.is(c.disks[1].path, img, "start: an existing disk image")
err("\nDISKS=\"" .. img .. "\n  /no/such.img\"\n",
	"3: DISKS: disk image /no/such.img does not exist",
	"start: a missing disk image is an error at its line", "start")
err("DISKS=" .. TMP .. "\n", "1: DISKS: disk image " .. TMP ..
	" is not a file or device", "start: a directory is no disk", "start")
c = vm("DISKS=\"\n/no/such.img\"\n", "dryrun")
t.is(c.warnings[1], VMFILE .. ":2: DISKS: disk image /no/such.img does not " ..
	"exist", "dryrun: a missing disk image is a warning")
t.is(#vm("DISKS=/no/such.img\n", "list").warnings, 0, "list: no disk lookup")
c = vm("DISKS=rel.img\n", "list")
t.like(c.warnings[1], ":1: DISKS: relative disk path rel.img",
	"a relative disk path is a warning")

-- load() and check_file().
t.fails(function() load("nope", "list") end,
	"no such VM: nope (" .. CONF .. "/vm/nope.conf)", "no such VM")
assert(core.mkdir(CONF .. "/vm/isdir.conf", "755"))
-- The same check keeps a FIFO (open would wait for a writer for ever)
-- and /dev/zero (never ends) out; not tested, as a regression would hang.
t.fails(function() load("isdir", "list") end,
	CONF .. "/vm/isdir.conf: not a regular file", "a directory as the VM's file")
assert(core.rmdir(CONF .. "/vm/isdir.conf"))
os.remove(GLOBAL)
assert(core.mkdir(GLOBAL, "755"))
write(VMFILE, "NCPU=1\n")
t.fails(function() load("t", "list") end,
	GLOBAL .. ": not a regular file", "a directory as the global file")
assert(core.rmdir(GLOBAL))
for _, name in ipairs({ "../x", "a b", "", string.rep("a", 65), "a.b" }) do
	t.fails(function() load(name, "list") end, "invalid VM name",
		"invalid VM name '" .. name .. "' is a usage error", 2)
end
t.ok(pcall(load, string.rep("a", 64), "list") == false,
	"a 64-character name is valid (then: no such VM)")
local cand = TMP .. "/cand.conf"
write(cand, "NCPU=3\n")
c = config.check_file(cand, "t")
t.is(c and c.NCPU, 3, "check_file: a good file gives its cfg")
write(cand, "\nNCPU=0\n")
local cfg, msg = config.check_file(cand, "t", "/etc/x.conf")
t.is(cfg, nil, "check_file: a bad file gives nil")
t.is(msg, "/etc/x.conf:2: NCPU: 0 is out of range (1 to 255)",
	"check_file: the message names the label")
write(cand, "DISKS=/no/such.img\n")
c = config.check_file(cand, "t")
t.is(c and #c.warnings, 1, "check_file: a missing disk is a warning")

-- Errors: what sh would run ---------------------------------------------

err("NCPU=1\nX=$(id)\n", "2: X: $(...) is not allowed: " .. SHELL,
	"$( ) unquoted")
err('EXTRA_ARGS="a $(id)"\n', "1: EXTRA_ARGS: $(...) is not allowed: " ..
	SHELL, "$( ) in double quotes")
err("EXTRA_ARGS=`id`\n", "1: EXTRA_ARGS: '`' is not allowed here: " .. SHELL,
	"backquote unquoted")
err('EXTRA_ARGS="`id`"\n', "1: EXTRA_ARGS: backquotes are not allowed: " ..
	SHELL, "backquote in double quotes")
for _, m in ipairs({ ";", "|", "&", "<", ">", "(", ")" }) do
	err("\nNCPU=2" .. m .. "x\n", "2: NCPU: '" .. m .. "' is not allowed " ..
		"here: " .. SHELL, "'" .. m .. "' unquoted")
end
err("NCPU=2 ; rm -rf /\n", "1: NCPU: ';' is not allowed here: " .. SHELL,
	"; after a value and a blank")
err("NCPU=2 && reboot\n", "1: NCPU: '&' is not allowed here", "&& after a value")
err('\nDISKS="\n  /a.img\n', "2: DISKS: unterminated double quote (" ..
	SHELL .. ")", "unterminated double quote, at its opening line")
err("NCPU=1\nDISKS='/a.img\n", "2: DISKS: unterminated single quote (" ..
	SHELL .. ")", "unterminated single quote")
err("NCPU=2\nrm -rf /\n", "2: expected KEY=value, found 'rm -rf /' (" ..
	SHELL .. ")", "a command line")
err("NCPU = 2\n", "1: expected KEY=value, found 'NCPU = 2'",
	"blanks around =")
err("NCPU=2 4\n", "1: NCPU: unexpected '4' after the value (quote a value " ..
	"that contains spaces)", "two words")
err("A=1 B=2\n", "1: A: unexpected 'B=2' after the value",
	"two assignments on a line")
err("EXTRA_ARGS=~/x\n", "1: EXTRA_ARGS: ~ is not expanded", "~")
err("EXTRA_ARGS=$1\n", "1: EXTRA_ARGS: $1 is not supported (" .. SHELL ..
	")", "positional parameter")
err('EXTRA_ARGS="${X:-y}"\n', "1: EXTRA_ARGS: ${X:-y} is not supported, " ..
	"only ${NAME}", "${X:-y}")
err("NCPU=1\r\nMEMORY=2\r\n", "1: carriage return in the file",
	"DOS line endings")
err('NCPU=1\n#\nDISKS="/vm/a.img\0,b.img"\n', "3: NUL byte in the file",
	"a NUL byte (it would cut a disk path short in QEMU's argv)")
err("A=" .. ("x"):rep(1024 * 1024 + 1) .. "\n", "1: A: value longer than",
	"a value over 1 MiB")
do
	local lines = { "A=" .. ("x"):rep(64) }
	for i = 1, 20 do
		local p, q = string.char(64 + i), string.char(65 + i)
		lines[#lines + 1] = q .. '="${' .. p .. '}${' .. p .. '}"'
	end
	lines[#lines + 1] = "EXTRA_ARGS=$U"
	err(table.concat(lines, "\n") .. "\n", "16: P: value longer than",
		"names doubling each other are stopped before they eat memory")
end

-- Errors: names ----------------------------------------------------------

err("NCPU=2\n\nNCPUS=4\n", "3: NCPUS: unknown key NCPUS (did you mean NCPU?)",
	"misspelt key")
err("memory=4G\n", "1: memory: unknown key memory (did you mean MEMORY?)",
	"lower-case key")
err("SHUTDOWN_TIMOUT=5\n", "1: SHUTDOWN_TIMOUT: unknown key SHUTDOWN_TIMOUT (did you mean " ..
	"SHUTDOWN_TIMEOUT?)", "a letter missing")
err("FOOBARBAZ=1\n", "1: FOOBARBAZ: unknown key FOOBARBAZ (not a setting, " ..
	"and not used later in this file as ${FOOBARBAZ})", "unused unknown name")
err('DISKS="${NOPE}/a.img"\n', "1: DISKS: ${NOPE} is not set",
	"a name never set")
err('DISKS="$VMDIR/a.img"\nVMDIR=/vm\n', "1: DISKS: ${VMDIR} is not set",
	"a name set only later")
t.fails(function() vm("", "list", "VMROOT=/vm\n") end,
	GLOBAL .. ":1: VMROOT: unknown key VMROOT",
	"a global name unused in the global file")
err("NVQCTL_RUNDIR=/tmp\n", "1: NVQCTL_RUNDIR: cannot be set in a config " ..
	"file; set the environment variable NVQCTL_RUNDIR instead",
	"NVQCTL_RUNDIR in a VM file")
t.fails(function() vm("", "list", "NVQCTL_CONFDIR=/etc\n") end,
	GLOBAL .. ":1: NVQCTL_CONFDIR: cannot be set in a config file",
	"NVQCTL_CONFDIR in the global file")
t.ok(pcall(vm, "#NVQCTL_RUNDIR=/x\n", "list", "#NVQCTL_CONFDIR=/y\n"),
	"the old global file's commented NVQCTL_* lines are fine")

-- Errors: values -----------------------------------------------------------

local function bad(key, value, want, line)
	err(("#\n"):rep((line or 1) - 1) .. key .. "=" .. value .. "\n",
		(line or 1) .. ": " .. key .. ": " .. want, key .. "=" .. value)
end
bad("NCPU", "abc", "'abc' is not a whole number", 3)
bad("NCPU", "0", "0 is out of range (1 to 255)")
bad("NCPU", "256", "256 is out of range (1 to 255)")
bad("NCPU", "1.5", "'1.5' is not a whole number")
bad("NCPU", "-1", "'-1' is not a whole number")
bad("NCPU", "", "'' is not a whole number")
bad("NCPU", "99999999999999999999", "99999999999999999999 is out of range")
bad("MEMORY", "lots", "'lots' is not a size in MiB (such as 1024, 512M, 4G)")
bad("MEMORY", "1.5G", "'1.5G' is not a size in MiB")
bad("MEMORY", "4T", "'4T' is not a size in MiB")
bad("MEMORY", "15", "15 is out of range (16M to 16384G)", 2)
bad("MEMORY", "16385G", "16385G is out of range")
bad("SHUTDOWN_TIMEOUT", "0", "0 is out of range (1 to 86400)")
bad("SHUTDOWN_TIMEOUT", "86401", "86401 is out of range (1 to 86400)")
bad("SHUTDOWN_TIMEOUT", "2m", "'2m' is not a whole number")
bad("ACCEL", "xen", "'xen' is not one of: nvmm, kvm, tcg, auto")
bad("ACCEL", "KVM", "'KVM' is not one of: nvmm, kvm, tcg, auto")
bad("CPU", '"host cpu"', "'host cpu' is not a CPU model")
bad("DISPLAY_OPT", "'vnc :1'", "'vnc :1' is not a -display value")
for _, k in ipairs({ "SERIAL", "GUEST_AGENT", "VIRTIO_RNG", "SHUTDOWN_FORCE" }) do
	bad(k, "true", "'true' is neither yes nor no", 2)
end
bad("GUEST_AGENT_METHOD", "virtio", "'virtio' is not one of: isa-serial, " ..
	"virtio-serial")
bad("RTC_BASE", "UTC", "'UTC' is not utc, localtime or a date")
bad("RTC_BASE", "2006-13-01", "'2006-13-01' is not utc, localtime or a date")
bad("RTC_BASE", "2006-06-17T25:00:00", "'2006-06-17T25:00:00' is not utc, localtime or a date")
bad("RTC_BASE", "yesterday", "'yesterday' is not utc, localtime or a date")
bad("CONSOLE_ESCAPE", "x", "'x' is not a control key in caret notation")
bad("CONSOLE_ESCAPE", "'^^^'", "'^^^' is not a control key")
bad("CONSOLE_ESCAPE", "'^['", "^[ cannot be used")
bad("EXTRA_ARGS", [["-append 'a b"]], "unterminated single quote", 4)
bad("EXTRA_ARGS", [['-x "a']], "unterminated double quote")

-- Errors: control bytes -------------------------------------------------
-- A vertical tab or form feed once stopped the plain-text scan without
-- being consumed: the parser looped for ever.  A count hook turns such a
-- loop into an error here instead of a hung test.

local function bounded(fn)
	return function()
		debug.sethook(function() error("runaway parse", 0) end, "", 10000000)
		local ok, e, why = pcall(fn)
		debug.sethook()
		if not ok then error(e, 0) end
		return e, why
	end
end
local function cerr(text, want, desc)
	return t.fails(bounded(function() vm(text) end), VMFILE .. ":" .. want,
		desc)
end
cerr("MEMORY=b\v\n", "1: MEMORY: control character 0x0b (vertical tab) " ..
	"in the value", "a vertical tab after an unquoted value")
cerr("NCPU=1\nMEMORY=b\f", "2: MEMORY: control character 0x0c (form feed) " ..
	"in the value", "a form feed at the end of the file")
cerr("EXTRA_ARGS=\v", "1: EXTRA_ARGS: control character 0x0b", "a vertical " ..
	"tab as the whole value")
cerr('EXTRA_ARGS="-a\n-b\n\27[2J"\n', "3: EXTRA_ARGS: control character " ..
	"0x1b (escape) in the value", "a control byte in double quotes, at its line")
cerr("NCPU=1\nEXTRA_ARGS='-a\n\b'\n", "3: EXTRA_ARGS: control character " ..
	"0x08 (backspace) in the value", "a control byte in single quotes")
cerr("EXTRA_ARGS=a\\\a\n", "1: EXTRA_ARGS: control character 0x07 (bell)",
	"a backslashed control byte")
cerr("NCPU=2 \v\n", "1: NCPU: control character 0x0b (vertical tab) after " ..
	"the value", "a control byte after the value")
cerr("\fNCPU=2\n", "1: control character 0x0c (form feed) where a KEY=value " ..
	"should start", "a control byte at the start of a line")
cerr("EXTRA_ARGS=${\27}\n", "1: EXTRA_ARGS: ${\\x1b} is not supported",
	"a quoted source text shows control bytes as \\xNN")
local every = true
for b = 0, 255 do
	for _, form in ipairs({ "A=b%s\n", 'A="b%s"\n', "A='b%s'\n", "A=b\\%s" }) do
		local text = form:format(string.char(b))
		local ok, e = pcall(bounded(function() vm(text) end))
		local control = b ~= 9 and b ~= 10 and (b < 32 or b == 127)
		local good
		if ok then
			good = not control
		else
			good = util.is_failure(e) and e.msg:find(VMFILE .. ":1: ", 1,
				true) == 1 and (not control or b == 0 or b == 13 or
				e.msg:find(("control character 0x%02x"):format(b), 1, true))
		end
		if not good then
			every = false
			t.diag("byte %d in %q: %s", b, text, ok and "accepted" or
				tostring(e))
		end
	end
end
t.ok(every, "every byte 0-255 in a value, quoted or not: parsed, or " ..
	"refused at file:1 naming a control byte")
t.ok(pcall(bounded(function() vm("NCPU=2 # page\f\n#\v\27\nMEMORY=512\n") end)),
	"control bytes in comments are fine")
every = true
for b = 0, 255 do
	local ch = string.char(b)
	local ok, r, why = pcall(bounded(function()
		return config.split_words("a" .. ch .. "b " .. ch .. " '" .. ch ..
			"' \"" .. ch .. "\" \\" .. ch)
	end))
	-- A quote or backslash leaves a quote open: nil and why.
	if not ok or not (type(r) == "table" or (r == nil and type(why) ==
	    "string" and (b == 34 or b == 39 or b == 92))) then
		every = false
		t.diag("split_words, byte %d: %s", b, tostring(r))
	end
end
t.ok(every, "split_words ends on every byte value 0-255")
t.same(config.split_words("a\vb\fc"), { "a", "b", "c" },
	"split_words: vertical tab and form feed separate words")

-- DISKS and NETWORK entries: the error names the entry's own line.
local function bad_entry(key, entries, want)
	-- Line 1 a comment, line 2 opens the value, entries from line 3.
	err("# x\n" .. key .. '="\n  ' .. table.concat(entries, "\n  ") .. '\n"\n',
		want, key .. ": " .. entries[#entries])
end
bad_entry("DISKS", { "/a.img", "/b.img:vmdk" },
	"4: DISKS: 'vmdk' is not one of: raw, qcow2")
bad_entry("DISKS", { "/a.img:raw:fast" }, "3: DISKS: 'fast' is not one of: " ..
	"none, writeback, writethrough, directsync, unsafe")
bad_entry("DISKS", { "/a.img:raw:none:x" }, "3: DISKS: 'x' is not one of")
bad_entry("DISKS", { "/a.img:raw:none:ro:ro" }, "3: DISKS: 'none:ro:ro': " ..
	"a cache mode and ro at most once each")
bad_entry("DISKS", { "/a.img:raw:none:none" }, "3: DISKS: 'none:none': " ..
	"a cache mode and ro at most once each")
bad_entry("DISKS", { "/a.img", ":raw" }, "4: DISKS: ':raw': empty disk path")
bad_entry("DISKS", { "/a.img", "/b.img", "/a.img:qcow2" },
	"5: DISKS: disk /a.img is listed twice (also line 3)")
bad_entry("NETWORK", { "tap0", "tap1:52:54:00:12:34" },
	"4: NETWORK: malformed MAC address '52:54:00:12:34' (six hex pairs")
bad_entry("NETWORK", { "tap0:52:54:00:12:34:5g" },
	"3: NETWORK: malformed MAC address '52:54:00:12:34:5g'")
bad_entry("NETWORK", { "tap0:52-54-00-12-34-56" },
	"3: NETWORK: malformed MAC address '52-54-00-12-34-56'")
bad_entry("NETWORK", { "tap0:" }, "3: NETWORK: malformed MAC address ''")
bad_entry("NETWORK", { "tap0:01:00:5e:00:00:01" },
	"3: NETWORK: MAC address 01:00:5e:00:00:01 is a multicast address")
bad_entry("NETWORK", { "tap0:52:54:00:12:34:56", "tap1:52:54:00:12:34:56" },
	"4: NETWORK: MAC address 52:54:00:12:34:56 is listed twice (also line 3)")
bad_entry("NETWORK", { "tap0", "tap 1" }, "4: NETWORK: invalid tap name " ..
	"'tap 1' (1 to 15 letters, digits, '_', '.' or '-', not starting " ..
	"with '-', not . or ..)")
bad_entry("NETWORK", { "tap/0" }, "3: NETWORK: invalid tap name 'tap/0'")
bad_entry("NETWORK", { ":52:54:00:12:34:56" }, "3: NETWORK: invalid tap name ''")
bad_entry("NETWORK", { "tap0", "a23456789012345", "b234567890123456" },
	"5: NETWORK: invalid tap name 'b234567890123456'")
bad_entry("NETWORK", { "tap0", "tap1", "tap0:52:54:00:12:34:56" },
	"5: NETWORK: tap tap0 is listed twice (also line 3)")
-- User-mode NICs: the forward specs.
bad_entry("NETWORK", { "tap0", "user:icmp:2222:22" },
	"4: NETWORK: forward 'icmp:2222:22': 'icmp' is neither tcp nor udp")
bad_entry("NETWORK", { "user:tcp:70000:22" },
	"3: NETWORK: forward 'tcp:70000:22': a port is a number from 1 to 65535")
bad_entry("NETWORK", { "user:tcp: 22:22" },
	"3: NETWORK: forward 'tcp: 22:22': a port is a number from 1 to 65535")
bad_entry("NETWORK", { "user:tcp:0x10:22" },
	"3: NETWORK: forward 'tcp:0x10:22': a port is a number from 1 to 65535")
bad_entry("NETWORK", { "user:tcp:1.2.3:2222:22" },
	"3: NETWORK: forward 'tcp:1.2.3:2222:22': '1.2.3' is not an IPv4 address")
bad_entry("NETWORK", { "user:tcp:22" },
	"3: NETWORK: forward 'tcp:22' is not tcp|udp:[ADDR:]HOSTPORT:GUESTPORT")
bad_entry("NETWORK", { "user:" },
	"3: NETWORK: forward '' is not tcp|udp:[ADDR:]HOSTPORT:GUESTPORT")
bad_entry("NETWORK", { "user:tcp:2222:22,tcp:2222:23" },
	"3: NETWORK: forward 'tcp:2222:23': host port tcp/2222 is forwarded twice")
bad_entry("NETWORK", { "user:tcp:2222:22", "user:tcp:2222:23" },
	"4: NETWORK: host port tcp/2222 is forwarded twice (also line 3)")
c = vm('NETWORK="\n  user:tcp:2222:22,udp:0.0.0.0:5353:53\n  user\n"\n')
t.is(#c.nets, 2, "two user-mode NICs")
t.same({ c.nets[1].kind, #c.nets[1].fwds, c.nets[1].fwds[1].addr,
	c.nets[1].fwds[2].addr, c.nets[1].fwds[2].proto, c.nets[1].fwds[2].gport },
	{ "user", 2, "127.0.0.1", "0.0.0.0", "udp", 53 },
	"forwards: loopback unless an address is written")
t.ok(c.nets[1].mac ~= c.nets[2].mac, "two NICs, two derived MACs")
-- A derived MAC never equals one written on another line.
local nic = require "net.nic"
local clash = nic.derive_mac("t", 1, "")
c = vm('NETWORK="\n  tap0:' .. clash .. '\n  tap1\n"\n')
t.ok(c.nets[2].mac ~= clash and c.nets[2].derived,
	"a derived MAC equal to a written one moves on")
-- MAC_SEED, global only.
local m0 = vm("NETWORK=tap0\n").nets[1].mac
local m1 = vm("NETWORK=tap0\n", nil, "MAC_SEED=site-b\n").nets[1].mac
t.ok(m0 ~= m1, "MAC_SEED changes the derived MAC")
err("MAC_SEED=x\n", "1: MAC_SEED: only in nvqctl.conf",
	"MAC_SEED in a VM's file is refused")

-- Entry lines stay right after continuations and expanded newlines.
err('TWO="a\nb"\nDISKS="/a.img \\\n  /b.img\n${TWO}\n  /c:bad"\n',
	"6: DISKS: 'bad' is not one of: raw, qcow2",
	"entry line after a continuation and a multi-line expansion")

-- An error in the global file names the global file.
t.fails(function() vm("", "list", "\nNCPU=0\n") end,
	GLOBAL .. ":2: NCPU: 0 is out of range", "a bad value in the global file")
t.fails(function() vm("", "list", "X=$(reboot)\n") end,
	GLOBAL .. ":1: X: $(...) is not allowed", "$( ) in the global file")
err("NCPU=0\n", "1: NCPU: 0 is out of range", "the VM file's line wins",
	"list", "NCPU=2\n")

-- Boot keys ----------------------------------------------------------------

-- A record as sorted "k=v" text: t.same compares arrays only.
local function rec(r)
	if type(r) ~= "table" then return tostring(r) end
	local out = {}
	for k, v in pairs(r) do out[#out + 1] = k .. "=" .. tostring(v) end
	table.sort(out)
	return table.concat(out, " ")
end

c = vm("")
t.is(c.AUTOSTART, false, "default AUTOSTART no")
t.is(math.type(c.BOOT_ORDER) .. c.BOOT_ORDER, "integer100", "default BOOT_ORDER")
t.same({ #c.BOOT_AFTER, #c.BOOT_REQUIRES }, { 0, 0 },
	"default BOOT_AFTER, BOOT_REQUIRES: empty arrays")
t.is(rec(c.BOOT_READY), rec { kind = "started", spec = "started" },
	"default BOOT_READY started")
t.is(c.BOOT_READY_TIMEOUT, 120, "default BOOT_READY_TIMEOUT")
t.is(c.BOOT_DELAY, 0, "default BOOT_DELAY")
local ncpu = core.ncpu()
t.ok(math.type(ncpu) == "integer" and ncpu >= 1, "core.ncpu() is a count")
t.is(c.BOOT_PARALLEL, math.min(8, math.max(1, ncpu - 1)),
	"default BOOT_PARALLEL: CPUs minus one, 1 to 8")
t.is(c.HOST_SHUTDOWN_TIMEOUT, 300, "default HOST_SHUTDOWN_TIMEOUT")
t.is(c.HOST_SHUTDOWN_FORCE, true, "default HOST_SHUTDOWN_FORCE yes")

c = vm([[
AUTOSTART=YES
BOOT_ORDER=0
BOOT_AFTER="db  cache
	queue-1"
BOOT_REQUIRES=db
BOOT_READY_TIMEOUT=86400
BOOT_DELAY=3600
]])
t.is(c.AUTOSTART, true, "AUTOSTART=YES")
t.is(c.BOOT_ORDER, 0, "BOOT_ORDER=0, the least")
t.same(c.BOOT_AFTER, { "db", "cache", "queue-1" },
	"BOOT_AFTER: names split on blanks and newlines, in order")
t.same(c.BOOT_REQUIRES, { "db" }, "BOOT_REQUIRES: one name")
t.same({ c.boot_lines.BOOT_AFTER.names.cache,
	c.boot_lines.BOOT_AFTER.names["queue-1"],
	c.boot_lines.BOOT_REQUIRES.line, c.boot_lines.BOOT_REQUIRES.file },
	{ 3, 4, 5, VMFILE }, "each listed name knows its file and line")
t.same({ c.BOOT_READY_TIMEOUT, c.BOOT_DELAY }, { 86400, 3600 },
	"BOOT_READY_TIMEOUT and BOOT_DELAY, the most")
t.is(vm("BOOT_ORDER=9999\n").BOOT_ORDER, 9999, "BOOT_ORDER=9999, the most")
t.is(#vm("BOOT_AFTER=\n").BOOT_AFTER, 0, "BOOT_AFTER= is empty")

t.is(rec(vm("GUEST_AGENT=yes\nBOOT_READY=agent\n").BOOT_READY), rec
	{ kind = "agent", spec = "agent" }, "BOOT_READY=agent")
t.is(rec(vm("BOOT_READY=tcp:db.example:5432\n").BOOT_READY), rec
	{ kind = "tcp", host = "db.example", port = 5432,
	spec = "tcp:db.example:5432" }, "BOOT_READY=tcp:HOST:PORT")
t.is(rec(vm("BOOT_READY=tcp:127.0.0.1:1\n").BOOT_READY), rec
	{ kind = "tcp", host = "127.0.0.1", port = 1, spec = "tcp:127.0.0.1:1" },
	"BOOT_READY=tcp:ADDRESS:1")
t.is(rec(vm("BOOT_READY=tcp:[::1]:65535\n").BOOT_READY), rec
	{ kind = "tcp", host = "::1", port = 65535, spec = "tcp:[::1]:65535" },
	"BOOT_READY=tcp:[IPV6]:PORT")
t.is(rec(vm('BOOT_READY="serial:login: "\n').BOOT_READY), rec
	{ kind = "serial", text = "login: ", spec = "serial:login: " },
	"BOOT_READY=serial:TEXT keeps blanks and colons")
t.is(vm("BOOT_READY=serial:a:b\n").BOOT_READY.text, "a:b",
	"serial:TEXT may hold colons")

-- The global-only keys: in nvqctl.conf, never in a VM's file.
c = vm("", "list", "BOOT_PARALLEL=3\nHOST_SHUTDOWN_TIMEOUT=15\n" ..
	"HOST_SHUTDOWN_FORCE=no\nAUTOSTART=yes\nHOSTS='a,root@b c a'\n")
t.same({ c.BOOT_PARALLEL, c.HOST_SHUTDOWN_TIMEOUT, c.HOST_SHUTDOWN_FORCE,
	c.AUTOSTART }, { 3, 15, false, true },
	"global keys from nvqctl.conf, on every cfg; a per-VM default too")
local g, gmsg = config.global()
t.same(g and g.HOSTS, { "a", "root@b", "c" },
	"HOSTS: commas or blanks between hosts, repeats dropped")
if g then g.HOSTS = nil end
t.is(rec(g), rec { BOOT_PARALLEL = 3, HOST_SHUTDOWN_TIMEOUT = 15,
	HOST_SHUTDOWN_FORCE = false, MAC_SEED = "", VM_DIR = core.VMDIR,
	file = GLOBAL },
	"config.global()")
t.is(gmsg, nil, "config.global(): no message")
os.remove(GLOBAL)
g = config.global()
t.same(g.HOSTS, {}, "HOSTS: none by default")
g.HOSTS = nil
t.is(rec(g), rec { BOOT_PARALLEL = math.min(8, math.max(1, ncpu - 1)),
	HOST_SHUTDOWN_TIMEOUT = 300, HOST_SHUTDOWN_FORCE = true, MAC_SEED = "",
	VM_DIR = core.VMDIR },
	"config.global() without nvqctl.conf: the defaults")
write(GLOBAL, "#\nBOOT_PARALLEL=0\n")
g, gmsg = config.global()
t.is(g, nil, "config.global(): a bad value gives nil")
t.is(gmsg, GLOBAL .. ":2: BOOT_PARALLEL: 0 is out of range (1 to 256)",
	"config.global(): the message names file, line and key")
write(GLOBAL, "HOSTS='a -oProxyCommand=x'\n")
g, gmsg = config.global()
t.is(gmsg, GLOBAL .. ":1: HOSTS: '-oProxyCommand=x' is not a host " ..
	"([user@]host)", "HOSTS: a name ssh would take for an option is refused")
write(GLOBAL, "BOOT_PARALEL=2\n")
g, gmsg = config.global()
t.is(gmsg, GLOBAL .. ":1: BOOT_PARALEL: unknown key BOOT_PARALEL (did " ..
	"you mean BOOT_PARALLEL?)", "config.global(): misspelt key")
os.remove(GLOBAL)
for _, k in ipairs({ "BOOT_PARALLEL=2", "HOST_SHUTDOWN_TIMEOUT=10",
	"HOST_SHUTDOWN_FORCE=no", "HOSTS=a" }) do
	local key = k:match("^[%u_]+")
	err("#\n" .. k .. "\n", "2: " .. key .. ": only in nvqctl.conf",
		key .. " in a VM's file")
end
write(GLOBAL, "VM_DIR=vms\n")
g, gmsg = config.global()
t.is(gmsg, GLOBAL .. ":1: VM_DIR: 'vms' is not an absolute path",
	"VM_DIR must be absolute")
write(GLOBAL, "VM_DIR=/srv/vm//\n")
t.is(config.vm_dir("web"), "/srv/vm/web", "vm_dir: VM_DIR/name")
os.remove(GLOBAL)
err("BOOT_ORDR=1\n", "1: BOOT_ORDR: unknown key BOOT_ORDR (did you mean " ..
	"BOOT_ORDER?)", "misspelt boot key")
err("BOOT_REQUIRE=db\n", "1: BOOT_REQUIRE: unknown key BOOT_REQUIRE (did " ..
	"you mean BOOT_REQUIRES?)", "BOOT_REQUIRE for BOOT_REQUIRES")

bad("AUTOSTART", "1", "'1' is neither yes nor no")
bad("BOOT_ORDER", "-1", "'-1' is not a whole number")
bad("BOOT_ORDER", "10000", "10000 is out of range (0 to 9999)", 2)
bad("BOOT_READY_TIMEOUT", "0", "0 is out of range (1 to 86400)")
bad("BOOT_DELAY", "3601", "3601 is out of range (0 to 3600)")
bad("BOOT_DELAY", "1.5", "'1.5' is not a whole number")
bad("BOOT_AFTER", '"db web.1"', "'web.1' is not a valid VM name")
bad("BOOT_REQUIRES", "../db", "'../db' is not a valid VM name")
bad("BOOT_REQUIRES", ("a"):rep(65), "'" .. ("a"):rep(65) ..
	"' is not a valid VM name")
err('#\nBOOT_AFTER="db\n  web db"\n', "3: BOOT_AFTER: db is listed twice " ..
	"(also line 2)", "a name listed twice, at its own line")
bad("BOOT_READY", "up", "'up' is not started, agent, tcp:HOST:PORT or " ..
	"serial:TEXT")
bad("BOOT_READY", "Agent", "'Agent' is not started, agent")
bad("BOOT_READY", "agent", "agent needs GUEST_AGENT=yes", 3)
bad("BOOT_READY", "tcp:host", "'tcp:host' is not tcp:HOST:PORT")
bad("BOOT_READY", "tcp::22", "'tcp::22' is not tcp:HOST:PORT")
bad("BOOT_READY", "tcp:h:0", "'0' is not a TCP port (1 to 65535)")
bad("BOOT_READY", "tcp:h:65536", "'65536' is not a TCP port")
bad("BOOT_READY", "tcp:h:", "'' is not a TCP port")
bad("BOOT_READY", "tcp:h:ssh", "'ssh' is not a TCP port")
bad("BOOT_READY", "tcp:::1:22", "'tcp:::1:22': an IPv6 address goes in " ..
	"brackets, as tcp:[::1]:22")
bad("BOOT_READY", "tcp:[]:22", "'' is not an IPv6 address")
bad("BOOT_READY", "tcp:[host]:22", "'host' is not an IPv6 address")
bad("BOOT_READY", '"tcp:a b:22"', "'tcp:a b:22' is not tcp:HOST:PORT")
bad("BOOT_READY", "serial:", "serial: needs the TEXT to wait for")
bad("BOOT_READY", '"serial:a\tb"', "serial: TEXT is one line of printable")
bad("BOOT_READY", "serial:" .. ("x"):rep(257), "serial: TEXT longer than 256")
err("SERIAL=no\nBOOT_READY=serial:login\n", "2: BOOT_READY: serial:TEXT " ..
	"needs SERIAL=yes", "serial:TEXT without a serial console")
t.is(vm("BOOT_READY=agent\n", "list", "GUEST_AGENT=yes\n").BOOT_READY.kind,
	"agent", "BOOT_READY=agent with GUEST_AGENT=yes from nvqctl.conf")
t.fails(function() vm("GUEST_AGENT=no\n", "list", "GUEST_AGENT=yes\n" ..
	"BOOT_READY=agent\n") end, GLOBAL .. ":2: BOOT_READY: agent needs " ..
	"GUEST_AGENT=yes", "BOOT_READY=agent from nvqctl.conf, the VM has no agent")

-- The shipped example parses, and create's copy of it too.
local ex = io.open(arg[0]:match("^(.*)/") .. "/../../examples/vm.conf"):read("a")
t.is(require "core.example_conf", ex, "the embedded example is examples/vm.conf")
c = vm(ex, "dryrun")
t.is(c.NCPU .. " " .. c.MEMORY .. " " .. #c.disks .. " " .. #c.nets,
	"1 1024 0 0", "examples/vm.conf parses: no disk, no NIC")
t.ok(require("cmd.create").text("web-1"):find(
	'# nvqctl configuration of the VM "web-1".', 1, true),
	"create fills the name in")

-- conf/edit: one key changed, every other byte kept.
do
	local edit = require "conf.edit"
	local src = "# head\nNCPU=2 # two\nDISKS=\"\n\t/a:raw\n\"\nMEMORY=64\n"
	local out = edit.set(src, "f", "DISKS", edit.list({ "/a:raw", "/b c" }))
	t.is(out, "# head\nNCPU=2 # two\nDISKS=\"\n\t/a:raw\n\t/b c\n\"\n" ..
		"MEMORY=64\n", "edit.set: the assignment replaced, the rest kept")
	t.is(edit.set("#NCPU=1\nSERIAL=no\n", "f", "NCPU", "4"),
	"NCPU=4\nSERIAL=no\n",
		"edit.set: a commented default becomes the assignment")
	t.is(edit.set("SERIAL=no", "f", "NCPU", "4"), "SERIAL=no\nNCPU=4\n",
		"edit.set: else appended")
	t.is(edit.set("NCPU=1\n", "f", "EXTRA_ARGS", 'a "$b" `c` \\'),
		'NCPU=1\nEXTRA_ARGS="a \\"\\$b\\" \\`c\\` \\\\"\n',
		"edit.set: quoted so that it reads back as written")
	local back = vm(edit.set("", "f", "EXTRA_ARGS", 'a "$b" `c` \\'), "list")
	t.is(back.EXTRA_ARGS, 'a "$b" `c` \\', "edit.set: read back the same")
	t.is(select(2, edit.set("", "f", "EXTRA_ARGS", "a\1")),
		"EXTRA_ARGS: a control character cannot be written to a config",
		"edit.set: a control character refused")
end
t.ok(pcall(vm, "", "list", io.open(arg[0]:match("^(.*)/") ..
	"/../../examples/nvqctl.conf"):read("a")), "examples/nvqctl.conf parses")

-- Below the commands nothing ends the process: failures are returned.
do
	local c, why = config.load("nope", "list")
	t.ok(c == nil and type(why) == "string" and why:find("no such VM: nope",
		1, true), "config.load returns nil, message for a missing VM")
	local vmarg = require "vm.arg"
	local v, vwhy, kind = vmarg.open("bad name!")
	t.ok(v == nil and kind == "usage" and vwhy:find("invalid VM name", 1,
		true), "vmarg.open: a bad name is nil, message, \"usage\"")
	local n, nwhy = vmarg.seconds("0", "timeout")
	t.ok(n == nil and nwhy:find("whole number of seconds", 1, true),
		"vmarg.seconds returns nil, message")
end

-- SHUTDOWN_POLICY and HOOK_TIMEOUT ------------------------------------

t.is(vm("").SHUTDOWN_POLICY, "shutdown", "default SHUTDOWN_POLICY")
t.is(vm("").HOOK_TIMEOUT, 30, "default HOOK_TIMEOUT")
err("SHUTDOWN_POLICY='a b'\n", "1: SHUTDOWN_POLICY: 'a b' is not a policy name",
	"SHUTDOWN_POLICY: not a name")
err("#\nSHUTDOWN_POLICY=nosuch\n", "2: SHUTDOWN_POLICY: no policy named nosuch",
	"SHUTDOWN_POLICY: a policy that exists nowhere, for start", "start")
t.is(vm("SHUTDOWN_POLICY=nosuch\n", "list").SHUTDOWN_POLICY, "nosuch",
	"SHUTDOWN_POLICY: not looked for by list (stop falls back)")
t.is(vm("SHUTDOWN_POLICY=boot\n", "start").SHUTDOWN_POLICY, "boot",
	"SHUTDOWN_POLICY: a built-in policy")
err("HOOK_TIMEOUT=0\n", "1: HOOK_TIMEOUT: 0 is out of range (1 to 3600)",
	"HOOK_TIMEOUT: range")
t.is(vm("HOOK_TIMEOUT=5\n").HOOK_TIMEOUT, 5, "HOOK_TIMEOUT=5")

return t.done()
