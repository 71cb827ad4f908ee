-- accel.lua: cases for lua/qemu/accel.lua, run by accel.t through luarun.
-- Each host is a directory tree holding what a kernel would show in
-- /dev, /sys/module and /proc/cpuinfo.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local accel = require "qemu.accel"
local core = require "nvq.core"

local TMP = assert(os.getenv("TESTTMP"))

local function mkdirs(path)
	local p = ""
	for part in path:gmatch("[^/]+") do
		p = p .. "/" .. part
		if not core.stat(p) then assert(core.mkdir(p, "755")) end
	end
end

local function write(path, text, mode)
	mkdirs(path:match("^(.*)/"))
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
	if mode then core.chmod(path, mode) end
end

local INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\n" ..
	"flags\t\t: fpu vme de pse tsc msr pae vmx ssse3 sse4_1 x2apic\n\n"
local AMD = "processor\t: 0\nflags\t\t: fpu vme de pse svm sse4a\n"
local NONE = "processor\t: 0\nflags\t\t: fpu vme de pse tsc vmxnet3x\n"

-- host{kvm = true, modules = {...}, cpuinfo = text} -> its root.
local n = 0
local function host(h)
	n = n + 1
	local root = TMP .. "/host" .. n
	mkdirs(root .. "/sys/module/kvm")
	if h.kvm then write(root .. "/dev/kvm", "", h.kvm_mode) end
	for _, m in ipairs(h.modules or {}) do
		mkdirs(root .. "/sys/module/" .. m .. "/parameters")
	end
	if h.cpuinfo then write(root .. "/proc/cpuinfo", h.cpuinfo) end
	return root
end

local NO_NVMM = { present = false, ok = false, why = "NVMM exists only on NetBSD" }

local function linux(h)
	return { sysname = "Linux", nvmm = NO_NVMM,
		kvm = accel.kvm_facts(host(h)) }
end

local function choice(facts, want)
	return table.concat({ accel.choose(want or "auto", facts) }, " | ")
end

-- Linux hosts ---------------------------------------------------------------

local pvm = linux({ kvm = true, modules = { "kvm_pvm" }, cpuinfo = NONE })
t.is(choice(pvm), "tcg | ACCEL=auto: /dev/kvm is kvm_pvm (no VT-x/AMD-V): " ..
	"using tcg", "kvm_pvm without VT-x: tcg, and says why")
t.is(choice(pvm, "kvm"), "kvm | ACCEL=kvm: /dev/kvm is kvm_pvm " ..
	"(no VT-x/AMD-V): ordinary guests will not run with it",
	"explicit kvm on kvm_pvm: kept, with a warning")
t.is(choice(pvm, "tcg"), "tcg", "explicit tcg: no note")

local intel = linux({ kvm = true, modules = { "kvm_intel" }, cpuinfo = INTEL })
t.is(choice(intel), "kvm", "kvm_intel and vmx: kvm, silently")
t.is(select(2, accel.kvm_usable(intel.kvm)), "kvm_intel (vmx)",
	"what a usable KVM is")
t.is(choice(linux({ kvm = true, modules = { "kvm_amd" }, cpuinfo = AMD })),
	"kvm", "kvm_amd and svm: kvm")
t.is(choice(linux({ kvm = true, modules = { "kvm_intel", "kvm_pvm" },
	cpuinfo = INTEL })), "kvm", "kvm_pvm beside kvm_intel: kvm")

t.is(choice(linux({ kvm = true, modules = { "kvm_intel" }, cpuinfo = NONE })),
	"tcg | ACCEL=auto: /dev/kvm is there but the CPU shows no VT-x/AMD-V " ..
	"(nested virtualisation off?): using tcg",
	"no vmx/svm flag (vmxnet3x is not vmx): tcg")
t.is(choice(linux({ kvm = true, cpuinfo = INTEL })),
	"tcg | ACCEL=auto: /dev/kvm is there but neither kvm_intel nor " ..
	"kvm_amd is loaded: using tcg", "no vendor module: tcg")
t.is(choice(linux({ kvm = false, modules = { "kvm_intel" }, cpuinfo = INTEL })),
	"tcg", "no /dev/kvm: tcg, nothing to explain")
t.is(choice(linux({ kvm = false }), "kvm"), "kvm | ACCEL=kvm: no /dev/kvm: " ..
	"QEMU cannot start with it", "explicit kvm with no /dev/kvm")

-- A /dev/kvm that cannot be opened (as root every mode opens: only check
-- where the test runs as an ordinary user).
local locked = linux({ kvm = true, kvm_mode = "000",
	modules = { "kvm_intel" }, cpuinfo = INTEL })
if locked.kvm.open_error then
	t.like(choice(locked), "/dev/kvm cannot be opened: ", "unopenable /dev/kvm")
else
	t.ok(true, "unopenable /dev/kvm (skipped: root opens mode 000)")
end
local denied = { dev = true, open_error = "Permission denied",
	modules = { kvm_intel = true }, sysfs = true, cpu_flag = "vmx" }
t.is(choice({ nvmm = NO_NVMM, kvm = denied }), "tcg | ACCEL=auto: /dev/kvm " ..
	"cannot be opened: Permission denied: using tcg", "open error reported")

-- arm64: no flags line, no vendor module; KVM is usable.
t.is(choice({ nvmm = NO_NVMM, kvm = { dev = true, modules = {}, sysfs = true,
	cpu_flag = nil } }), "kvm", "not x86 (no vmx/svm to look for): kvm")

-- Not x86 (no flags line) and no /sys: the module checks cannot speak.
local bare = { dev = true, modules = {}, sysfs = false, cpu_flag = nil }
t.is(choice({ nvmm = NO_NVMM, kvm = bare }), "kvm",
	"nothing says KVM is unusable: kvm")

-- NetBSD hosts -----------------------------------------------------------------

local NOKVM = { dev = false, modules = {} }
t.is(choice({ nvmm = { present = true, ok = true, why = "NVMM version 3" },
	kvm = NOKVM }), "nvmm", "a working NVMM: nvmm")
t.is(choice({ nvmm = { present = true, ok = false,
	why = "/dev/nvmm has no backend: the CPU offers no VMX/SVM" },
	kvm = NOKVM }), "tcg | ACCEL=auto: /dev/nvmm has no backend: the CPU " ..
	"offers no VMX/SVM: using tcg", "NVMM present but unusable: tcg")
t.is(choice({ nvmm = { present = false, ok = false,
	why = "no /dev/nvmm (modload nvmm?)" }, kvm = NOKVM }, "nvmm"),
	"nvmm | ACCEL=nvmm: no /dev/nvmm (modload nvmm?): QEMU cannot " ..
	"start with it", "explicit nvmm without the module")
t.is(choice({ nvmm = { present = true, ok = false, why = "nvmm broken" },
	kvm = intel.kvm }), "kvm | ACCEL=auto: nvmm broken: using kvm",
	"both present, only KVM usable: kvm, NVMM's problem named")

-- This host ----------------------------------------------------------------------

local here = accel.facts()
t.ok(type(here.kvm) == "table" and type(here.nvmm) == "table",
	"facts of this host: " .. here.sysname)
local a = accel.resolve("auto")
t.ok(a == "tcg" or a == "kvm" or a == "nvmm", "auto resolves here to " .. a)
local survey = accel.survey(here)
t.is(#survey, 3, "survey lists nvmm, kvm and tcg")

return t.done()
