-- logger.lua: a syslog line whenever a VM's QEMU is gone, with why
-- (agent, acpi, quit, sigterm, sigkill, killed, exited: the guest
-- powered off or QEMU crashed, start-failed) and who asked (manual,
-- boot, host-shutdown).  Monitoring can alert on "exited".
--
-- Install as $NVQCTL_CONFDIR/hooks/all.lua (mode 0644, owned by root).
local core = require "nvq.core"

return {
	post_stop = function(vm, ev)
		local r = core.run({ "logger", "-t", "nvqctl", "-p",
			ev.reason == "exited" and "daemon.warning" or "daemon.notice",
			string.format("%s stopped (%s, %s)", vm.name, ev.reason,
			ev.context) }, { deadline = ev.deadline })
		if not r or r.status ~= 0 then
			error("logger failed")
		end
	end,
}
