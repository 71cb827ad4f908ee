-- hostcheck.lua: cases for lua/host/check.lua, run by hostcheck.t through
-- luarun: the accelerator lines for hosts this machine is not (NetBSD
-- with and without NVMM, Linux with a real KVM), VMs asking for an
-- accelerator that is missing or unusable, and the directory checks as
-- root and as another user.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local hostcheck = require "host.check"

local TMP = assert(os.getenv("TESTTMP"))
local CONF = TMP .. "/etc"
assert(core.mkdir(CONF, "755"))
assert(core.mkdir(CONF .. "/vm", "755"))
core.chmod(CONF, "755")
core.chmod(CONF .. "/vm", "755")

local function write(path, text)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
end

-- A QEMU that answers --version, so QEMU lines do not get in the way.
local QEMU = TMP .. "/qemu"
write(QEMU, "#!/bin/sh\necho 'QEMU emulator version 9.0.1'\n")
core.chmod(QEMU, "755")
write(CONF .. "/nvqctl.conf", "QEMU_BIN=" .. QEMU .. "\n")

local NO_KVM = { dev = false, modules = {} }
local NO_NVMM = { present = false, ok = false,
	why = "NVMM exists only on NetBSD" }

-- The level and detail of the first check named name, as "LEVEL detail".
local function line(list, name)
	for _, c in ipairs(list) do
		if c.check == name then return c.level .. " " .. c.detail end
	end
	return "(no " .. name .. " line)"
end

local function check(facts, euid)
	return hostcheck.check({ facts = facts, euid = euid or 0 })
end

-- NetBSD ------------------------------------------------------------------

local nb = check({ sysname = "NetBSD", kvm = NO_KVM, nvmm = { present = true,
	ok = true, why = "NVMM 3, 256 vCPUs" } })
t.is(line(nb, "accel nvmm"), "PASS usable: NVMM 3, 256 vCPUs; ACCEL=auto " ..
	"uses it", "NetBSD with NVMM: nvmm passes, auto takes it")
t.is(line(nb, "accel kvm"), "NOTE not on this system: no /dev/kvm",
	"NetBSD: kvm is only a note")
t.is(line(nb, "accel tcg"), "PASS usable: software emulation",
	"NetBSD with NVMM: tcg passes, auto does not need it")

nb = check({ sysname = "NetBSD", kvm = NO_KVM, nvmm = { present = false,
	ok = false, why = "/dev/nvmm: No such file or directory" } })
t.is(line(nb, "accel nvmm"), "WARN not usable: /dev/nvmm: No such file " ..
	"or directory", "NetBSD without /dev/nvmm: a WARN (guests run, slowly)")
t.is(line(nb, "accel tcg"), "PASS usable: software emulation; ACCEL=auto " ..
	"uses it", "NetBSD without NVMM: auto uses tcg")

nb = check({ sysname = "NetBSD", kvm = NO_KVM, nvmm = { present = true,
	ok = false, why = "/dev/nvmm: Permission denied" } })
t.is(line(nb, "accel nvmm"), "WARN not usable: /dev/nvmm: Permission denied",
	"NetBSD with an NVMM that does not answer: WARN")
t.is(hostcheck.worst(nb), "WARN", "no accelerator is ever a FAIL")

-- Linux and others ------------------------------------------------------------

local INTEL = { dev = true, sysfs = true, cpu_flag = "vmx",
	modules = { kvm_intel = true } }
local lx = check({ sysname = "Linux", kvm = INTEL, nvmm = NO_NVMM })
t.is(line(lx, "accel kvm"), "PASS usable: kvm_intel (vmx); ACCEL=auto uses it",
	"Linux with kvm_intel: kvm passes")
t.is(line(lx, "accel nvmm"), "NOTE not on this system: NVMM exists only on " ..
	"NetBSD", "Linux: nvmm is only a note")
lx = check({ sysname = "Linux", kvm = NO_KVM, nvmm = NO_NVMM })
t.is(line(lx, "accel kvm"), "WARN not usable: no /dev/kvm",
	"Linux without /dev/kvm: WARN")
local fb = check({ sysname = "FreeBSD", kvm = NO_KVM, nvmm = NO_NVMM })
t.is(line(fb, "accel kvm"), "NOTE not on this system: no /dev/kvm",
	"neither NetBSD nor Linux: kvm is only a note")

-- VMs asking for an accelerator -------------------------------------------------

local PVM = { dev = true, sysfs = true, cpu_flag = false,
	modules = { kvm_pvm = true } }
write(CONF .. "/vm/k.conf", "ACCEL=kvm\n")
write(CONF .. "/vm/n.conf", "ACCEL=nvmm\n")
write(CONF .. "/vm/a.conf", "ACCEL=auto\n")
local pvm = check({ sysname = "Linux", kvm = PVM, nvmm = NO_NVMM })
t.like(line(pvm, "vm k"), "WARN ACCEL=kvm: /dev/kvm is kvm_pvm (no " ..
	"VT-x/AMD-V): ordinary guests will not run", "ACCEL=kvm on kvm_pvm: WARN")
t.like(line(pvm, "vm n"), "FAIL ACCEL=nvmm: NVMM exists only on NetBSD: " ..
	"QEMU cannot start with it", "ACCEL=nvmm on Linux: FAIL")
t.is(line(pvm, "vm a"), "(no vm a line)", "ACCEL=auto: nothing to say")
lx = check({ sysname = "Linux", kvm = NO_KVM, nvmm = NO_NVMM })
t.like(line(lx, "vm k"), "FAIL ACCEL=kvm: no /dev/kvm", "ACCEL=kvm, no " ..
	"/dev/kvm: FAIL")
t.is(hostcheck.worst(lx), "FAIL", "worst is FAIL")
lx = check({ sysname = "Linux", kvm = INTEL, nvmm = NO_NVMM })
t.is(line(lx, "vm k"), "(no vm k line)", "ACCEL=kvm with a real KVM: fine")
os.remove(CONF .. "/vm/k.conf")
os.remove(CONF .. "/vm/n.conf")
os.remove(CONF .. "/vm/a.conf")

-- Directories: root and another user ------------------------------------------

local HOST = { sysname = "Linux", kvm = INTEL, nvmm = NO_NVMM }
core.chmod(CONF, "775")
t.like(line(check(HOST, 0), "confdir"), "FAIL " .. CONF .. " is writable " ..
	"by anyone in group", "group-writable confdir as root: FAIL")
t.like(line(check(HOST, 4321), "confdir"), "WARN " .. CONF .. " is writable",
	"group-writable confdir as another user: WARN")
core.chmod(CONF, "755")
local st = core.stat(CONF)
t.like(line(check(HOST, st.uid == 0 and 4321 or st.uid), "confdir"), "PASS ",
	"a confdir owned by root or by us passes")
if core.geteuid() == 0 then
	os.execute("chown 4321 '" .. CONF .. "'")
	t.like(line(check(HOST, 0), "confdir"), "FAIL " .. CONF .. " is owned " ..
		"by uid 4321, not root", "confdir owned by another user: FAIL as root")
	t.like(line(check(HOST, 1234), "confdir"), "WARN " .. CONF .. " is " ..
		"owned by uid 4321, not us", "... and WARN as a third user")
	os.execute("chown 0 '" .. CONF .. "'")
end
t.is(hostcheck.worst(check(HOST, 0)), "NOTE", "a sound Linux host: nothing worse than the nvmm note")

-- Hooks and policies: the runner checks them only in root's runs, so
-- another user is told they were not looked at, not that they pass.
t.like(line(check(HOST, 1000), "user lua"), "checked when nvqctl runs as root",
	"not root: hooks and policies get a NOTE, not a PASS")
if core.geteuid() == 0 then
	t.like(line(check(HOST, 0), "user lua"), "PASS hooks and policies",
		"root: hooks and policies checked")
end

t.done()
