-- vnc <vm>: how to reach a VM's VNC display: the ssh -L line that
-- forwards its socket, or the TCP address it listens on.
local running = require "vm.running"
local display = require "vm.display"
local util = require "base.util"
local vmarg = require "vm.arg"

return { run = function(pos)
	local v = util.check(vmarg.open(pos[1]))
	-- A running VM listens where it was started to, whatever its file
	-- says now.
	local cfg = v.cfg
	local pid = v:alive()
	if pid then cfg = running.config(v.name, v.rt, v.cfg) end
	local lines = util.check(display.how(v.name, cfg, v.rt))
	if not pid then
		util.warn("%s is not running; once started:", v.name)
	end
	io.stdout:write(table.concat(lines, "\n"), "\n")
	return 0
end }
