-- argv.lua: cases for lua/qemu/argv.lua, run by argv.t through luarun.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local config = require "conf.load"
local util = require "base.util"

-- config.load returns nil, message; the cases expect the failure a
-- command would end with.
local function load(...) return util.check(config.load(...)) end
local core = require "nvq.core"
local paths = require "base.paths"
local qemuargv = require "qemu.argv"

-- QEMU_BIN's default: pkgsrc's QEMU, else the one on PATH.
local QBIN = require("qemu.bin").qemu("")
local CONF = paths.confdir()
local RUN = paths.rundir()
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/vm", "755"))

local function argv(name, text, mode)
	local f = assert(io.open(CONF .. "/vm/" .. name .. ".conf", "wb"))
	f:write(text)
	f:close()
	return qemuargv.build(load(name, mode or "list"))
end

local function cat(...)
	local out = {}
	for _, list in ipairs({ ... }) do
		table.move(list, 1, #list, #out + 1, out)
	end
	return out
end

-- The tail every VM shares: QMP, pidfile, daemonize.
local function tail(name)
	local d = RUN .. "/" .. name
	return { "-chardev", "socket,path=" .. d ..
		"/monitor.sock,server=on,wait=off,id=mon0",
		"-mon", "chardev=mon0,mode=control",
		"-chardev", "socket,path=" .. d .. "/control.sock,server=on,wait=off,id=mon1",
		"-mon", "chardev=mon1,mode=control",
		"-pidfile", d .. "/qemu.pid", "-daemonize" }
end

-- The old tool's README example.
local readme = [[
NCPU=4
MEMORY=4096
ACCEL=nvmm
CPU=host
DISKS="
  /usr/xendata/myvm/root.img:raw
  /usr/xendata/myvm/home.img:raw
"
NETWORK="
  tap0:52:54:00:12:34:56
  tap1
"
SERIAL=yes
GUEST_AGENT=yes
GUEST_AGENT_METHOD=isa-serial
]]
local R = RUN .. "/myvm"
t.same(argv("myvm", readme), cat({
	QBIN, "-name", "myvm", "-cpu", "host",
	"-smp", "cpus=4", "-accel", "nvmm", "-m", "4096",
	"-drive", "file=/usr/xendata/myvm/root.img,format=raw,if=none,id=hd0",
	"-device", "virtio-blk-pci,drive=hd0",
	"-drive", "file=/usr/xendata/myvm/home.img,format=raw,if=none,id=hd1",
	"-device", "virtio-blk-pci,drive=hd1",
	"-netdev", "tap,id=net0,ifname=tap0,script=no",
	"-device", "virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56",
	"-netdev", "tap,id=net1,ifname=tap1,script=no",
	-- Unlike the old tool: a NIC without a MAC gets one derived from
	-- the VM's name and its index, not QEMU's one shared default.
	"-device", "virtio-net-pci,netdev=net1,mac=52:54:f1:6a:d9:3f",
	"-display", "none", "-rtc", "base=localtime",
	"-object", "rng-random,filename=/dev/urandom,id=viornd0",
	"-device", "virtio-rng-pci,rng=viornd0",
	"-serial", "unix:" .. R .. "/serial.sock,server=on,wait=off",
	"-chardev", "socket,path=" .. R ..
		"/guest-agent.sock,server=on,wait=off,id=qga0",
	"-device", "isa-serial,chardev=qga0",
}, tail("myvm")), "the old README example")

-- The old tool's example.conf.
local old_example = [[
# Example VM configuration
NCPU=2
MEMORY=2048
ACCEL=nvmm
CPU=host
DISKS="
  /usr/xendata/example/root.img:raw
  /usr/xendata/example/home.img:raw
"
NETWORK="
  tap0
"
DISPLAY_OPT=none
SERIAL=yes
GUEST_AGENT=no
GUEST_AGENT_METHOD=isa-serial
VIRTIO_RNG=yes
RTC_BASE=localtime
SHUTDOWN_TIMEOUT=120
#QEMU_BIN=/usr/pkg/bin/qemu-system-x86_64
#EXTRA_ARGS="-device usb-ehci -device usb-tablet"
#EXTRA_ARGS="-boot d -cdrom /path/to/install.iso"
]]
local E = RUN .. "/example"
local want_example = cat({
	QBIN, "-name", "example", "-cpu", "host",
	"-smp", "cpus=2", "-accel", "nvmm", "-m", "2048",
	"-drive", "file=/usr/xendata/example/root.img,format=raw,if=none,id=hd0",
	"-device", "virtio-blk-pci,drive=hd0",
	"-drive", "file=/usr/xendata/example/home.img,format=raw,if=none,id=hd1",
	"-device", "virtio-blk-pci,drive=hd1",
	"-netdev", "tap,id=net0,ifname=tap0,script=no",
	"-device", "virtio-net-pci,netdev=net0,mac=52:54:48:19:54:d7",
	"-display", "none", "-rtc", "base=localtime",
	"-object", "rng-random,filename=/dev/urandom,id=viornd0",
	"-device", "virtio-rng-pci,rng=viornd0",
	"-serial", "unix:" .. E .. "/serial.sock,server=on,wait=off",
}, tail("example"))
t.same(argv("example", old_example), want_example, "the old example.conf")
-- The example writes no disk or NIC that was not made: with the old
-- one's set in it (as create and conf/edit set them), the same machine.
local edit = require "conf.edit"
local ex = require "core.example_conf"
local file = CONF .. "/vm/example.conf"
for _, kv in ipairs({ { "NCPU", "2" }, { "MEMORY", "2048" },
	{ "ACCEL", "nvmm" }, { "DISKS", edit.list({
		"/usr/xendata/example/root.img:raw",
		"/usr/xendata/example/home.img:raw" }) },
	{ "NETWORK", edit.list({ "tap0" }) } }) do
	ex = assert(edit.set(ex, file, kv[1], kv[2]))
end
t.same(argv("example", ex), want_example,
	"the new examples/vm.conf, its keys set, gives the same command line")

-- No NETWORK: -nic none where the network section would be.
local a = argv("t", "ACCEL=nvmm\nDISKS=/vm/a.img:raw:ro\nSERIAL=no\n" ..
	"VIRTIO_RNG=no\n")
t.same(a, cat({
	QBIN, "-name", "t", "-cpu", "host",
	"-smp", "cpus=1", "-accel", "nvmm", "-m", "1024",
	"-drive", "file=/vm/a.img,format=raw,if=none,id=hd0,readonly=on",
	"-device", "virtio-blk-pci,drive=hd0",
	"-nic", "none",
	"-display", "none", "-rtc", "base=localtime",
}, tail("t")), "no NETWORK gives -nic none; SERIAL=no and VIRTIO_RNG=no; " ..
	"a read-only disk")

-- The agent over virtio-serial; cache mode; memory suffix; auto accel.
a = argv("t", [[
GUEST_AGENT=yes
GUEST_AGENT_METHOD=virtio-serial
SERIAL=no
VIRTIO_RNG=no
NETWORK=tap3
DISKS=/vm/b.qcow2:qcow2:writeback
MEMORY=4G
ACCEL=tcg
RTC_BASE=utc
DISPLAY_OPT=vnc=:1
QEMU_BIN=/usr/bin/qemu-system-x86_64
]])
t.same(a, cat({
	"/usr/bin/qemu-system-x86_64", "-name", "t", "-cpu", "max",
	"-smp", "cpus=1", "-accel", "tcg", "-m", "4096",
	"-drive", "file=/vm/b.qcow2,format=qcow2,if=none,id=hd0,cache=writeback",
	"-device", "virtio-blk-pci,drive=hd0",
	"-netdev", "tap,id=net0,ifname=tap3,script=no",
	"-device", "virtio-net-pci,netdev=net0,mac=52:54:ba:b5:ec:61",
	"-display", "vnc=:1", "-rtc", "base=utc",
	"-chardev", "socket,path=" .. RUN ..
		"/t/guest-agent.sock,server=on,wait=off,id=qga0",
	"-device", "virtio-serial-pci",
	"-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
}, tail("t")), "virtio-serial agent, cache mode, 4G, tcg with CPU=host")

-- What this host can run; tests/unit/accel.lua checks the decision.
local auto = require("qemu.accel").resolve("auto")
a = argv("t", "ACCEL=auto\n")
t.same({ a[5], a[9] }, { auto == "tcg" and "max" or "host", auto },
	"ACCEL=auto: -accel " .. auto)

-- EXTRA_ARGS: last, split into words honouring quotes.
a = argv("t", [[EXTRA_ARGS="-boot d -cdrom '/iso/my disc.iso' ]] ..
	[[-append \"console=ttyS0 root=/dev/vda\" -device usb-tablet"
]])
t.same({ table.unpack(a, #a - 8) }, { "-daemonize", "-boot", "d", "-cdrom",
	"/iso/my disc.iso", "-append", "console=ttyS0 root=/dev/vda", "-device",
	"usb-tablet" }, "EXTRA_ARGS words come last, quotes honoured")

-- Commas.  QEMU splits an option string at single commas and reads ",,"
-- as a comma; this does the same, to see what QEMU would see.
local function qemu_opts(s)
	local opts, order, p = {}, {}, 1
	while p <= #s do
		local buf = {}
		while p <= #s do
			local c = s:sub(p, p)
			if c == "," then
				if s:sub(p + 1, p + 1) ~= "," then break end
				p = p + 1
			end
			buf[#buf + 1] = c
			p = p + 1
		end
		p = p + 1
		local k, v = table.concat(buf):match("^([^=]*)=?(.*)$")
		order[#order + 1] = k
		opts[k] = v
	end
	return opts, order
end

a = argv("t", "DISKS=/vm/a,b.img\n")
t.is(a[13], "file=/vm/a,,b.img,format=raw,if=none,id=hd0",
	"a comma in a disk path is doubled")
a = argv("t", 'DISKS="/vm/x.img,readonly=on,if=ide:raw"\n')
local opts, order = qemu_opts(a[13])
t.is(opts.file, "/vm/x.img,readonly=on,if=ide",
	"QEMU would read the whole path as the file name")
t.same(order, { "file", "format", "if", "id" },
	"and no option can be added through the path")
t.is(opts["if"], "none", "if= stays none")

-- Values from the run directory are escaped too; -pidfile is a plain
-- file name and is not.
local rundir = paths.rundir
paths.rundir = function() return "/run/a,b" end
a = argv("t", "GUEST_AGENT=yes\n")
paths.rundir = rundir
local joined = table.concat(a, " ")
t.like(joined, "-serial unix:/run/a,,b/t/serial.sock,server=on",
	"serial socket path escaped")
t.like(joined, "socket,path=/run/a,,b/t/guest-agent.sock,server",
	"agent socket path escaped")
t.like(joined, "socket,path=/run/a,,b/t/monitor.sock,server",
	"monitor socket path escaped")
t.like(joined, "-pidfile /run/a,b/t/qemu.pid", "pidfile path as is")
t.is(qemuargv.escape("a,b,,c"), "a,,b,,,,c", "escape doubles every comma")
t.is(qemuargv.escape("abc"), "abc", "escape leaves the rest")

-- dryrun's layout.
local dryrun = require "cmd.dryrun"
t.is(dryrun.format({ "/bin/q", "-name", "a b", "-daemonize", "-x", "1", "2" }),
	"/bin/q \\\n  -name 'a b' \\\n  -daemonize \\\n  -x 1 2\n",
	"dryrun: one option per line, values on its line")

return t.done()
