-- qemu/accel.lua: which accelerator can run an ordinary guest on this host.
--
-- A /dev/kvm is not proof that KVM works: kvm_pvm (a paravirtual KVM
-- found on cloud machines) accepts -accel kvm and then spins on any
-- ordinary guest, and a hypervisor that hides VT-x/AMD-V leaves a
-- /dev/kvm that cannot run one either.  So the facts are what the
-- kernel says about its KVM modules and the CPU, read from files under
-- a root (tests put their own hosts there), and what /dev/nvmm answers
-- to its capability query.  The decision is a function of the facts.
local core = require "nvq.core"

local M = {}

-- The CPU's virtualisation flag: "vmx", "svm", false when the flags
-- line has neither, nil when there is no flags line (not x86).
local function cpu_flag(path)
	local f = io.open(path, "rb")
	if not f then return nil end
	for line in f:lines() do
		if line:match("^flags%s*:") then
			f:close()
			local w = line:match("%f[%w](vmx)%f[%W]") or
				line:match("%f[%w](svm)%f[%W]")
			return w or false
		end
	end
	f:close()
	return nil
end

local KVM_MODULES = { "kvm_intel", "kvm_amd", "kvm_pvm" }

-- What a Linux host says about its KVM, read under root ("" for /).
function M.kvm_facts(root)
	root = root or ""
	local f = { dev = core.stat(root .. "/dev/kvm") ~= nil, modules = {} }
	if f.dev then
		local h, err = io.open(root .. "/dev/kvm", "r+b")
		if h then
			h:close()
		else
			f.open_error = tostring(err):gsub("^.-: ", "")
		end
	end
	f.sysfs = core.stat(root .. "/sys/module") ~= nil
	for _, m in ipairs(KVM_MODULES) do
		f.modules[m] = core.stat(root .. "/sys/module/" .. m) ~= nil
	end
	f.cpu_flag = cpu_flag(root .. "/proc/cpuinfo")
	return f
end

-- All the facts of this host: {sysname, kvm = kvm_facts, nvmm = {present,
-- ok, why}}.  NVMM is asked only on NetBSD, KVM only elsewhere.
function M.facts(root)
	local sysname = core.uname().sysname
	local t = { sysname = sysname }
	if sysname == "NetBSD" then
		local ok, why = core.nvmm_probe()
		t.nvmm = { present = core.stat((root or "") .. "/dev/nvmm") ~= nil,
			ok = ok, why = why }
		t.kvm = { dev = false, modules = {} }
	else
		t.nvmm = { present = false, ok = false,
			why = "NVMM exists only on NetBSD" }
		t.kvm = M.kvm_facts(root)
	end
	return t
end

-- kvm_usable(kvm_facts) -> true, what | false, why not
function M.kvm_usable(f)
	if not f.dev then return false, "no /dev/kvm" end
	if f.open_error then
		return false, "/dev/kvm cannot be opened: " .. f.open_error
	end
	local m = f.modules
	local vendor = m.kvm_intel and "kvm_intel" or m.kvm_amd and "kvm_amd"
	if m.kvm_pvm and not vendor then
		return false, "/dev/kvm is kvm_pvm (no VT-x/AMD-V)"
	end
	if f.cpu_flag == false then
		return false, "/dev/kvm is there but the CPU shows no VT-x/AMD-V " ..
			"(nested virtualisation off?)"
	end
	-- Only x86 has vendor modules; an arm64 KVM has none to look for.
	if f.sysfs and not vendor and f.cpu_flag ~= nil then
		return false, "/dev/kvm is there but neither kvm_intel nor " ..
			"kvm_amd is loaded"
	end
	return true, (vendor or "kvm") ..
		(f.cpu_flag and " (" .. f.cpu_flag .. ")" or "")
end

-- Every accelerator with its verdict, in the order auto prefers them:
-- { {name, ok, why, present}, ... }.
function M.survey(facts)
	local kok, kwhy = M.kvm_usable(facts.kvm)
	return {
		{ name = "nvmm", ok = facts.nvmm.ok, why = facts.nvmm.why,
			present = facts.nvmm.present },
		{ name = "kvm", ok = kok, why = kwhy, present = facts.kvm.dev },
		{ name = "tcg", ok = true, why = "software emulation", present = true },
	}
end

-- choose(requested, facts) -> accelerator, note | nil.  The note is one
-- line for stderr: why auto passed over an accelerator that is there,
-- or why an explicit one will not run an ordinary guest.
function M.choose(requested, facts)
	local survey = M.survey(facts)
	if requested ~= "auto" then
		for _, a in ipairs(survey) do
			if a.name == requested and not a.ok then
				return requested, string.format("ACCEL=%s: %s: %s",
					requested, a.why, a.present and
					"ordinary guests will not run with it" or
					"QEMU cannot start with it")
			end
		end
		return requested
	end
	local passed = {}
	for _, a in ipairs(survey) do
		if a.ok then
			if #passed == 0 then return a.name end
			return a.name, string.format("ACCEL=auto: %s: using %s",
				table.concat(passed, "; "), a.name)
		end
		if a.present then passed[#passed + 1] = a.why end
	end
end

-- resolve(requested) -> accelerator, note: choose() on this host, whose
-- facts are read once per process (list loads every VM's config).
local host
function M.resolve(requested)
	if requested == "tcg" then return "tcg" end
	host = host or M.facts()
	return M.choose(requested, host)
end

return M
