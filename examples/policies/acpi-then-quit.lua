-- acpi-then-quit.lua: a shutdown policy for VMs whose disks hold nothing
-- worth a clean shutdown (CI runners, scratch VMs): press the ACPI power
-- button, and when the guest has not powered off by the timeout, end
-- QEMU with QMP quit (then SIGKILL), with or without --force.  It never
-- uses the guest agent.
--
-- Install as $NVQCTL_CONFDIR/policies/acpi-then-quit.lua (mode 0644,
-- owned by root) and set SHUTDOWN_POLICY=acpi-then-quit in the VM's
-- config.  See nvqctl-lua(7).
local P = {}

function P.stop(vm, opt)
	local ok, why = vm:powerdown(math.min(opt.deadline, vm:now() + 2))
	if ok then
		vm:log("sent ACPI power-button press")
		if vm:wait_exit(opt.deadline) then return "acpi" end
		vm:log("still running after %ds; quitting", opt.timeout)
	else
		vm:log("ACPI powerdown failed (%s); quitting", why)
	end
	if vm:quit(vm:now() + 3) and vm:wait_exit(vm:now() + 3) then
		return "quit"
	end
	vm:signal("KILL")
	if vm:wait_exit(vm:now() + 5) then return "sigkill" end
	return nil, "the QEMU process survived SIGKILL"
end

return P
