-- qcow2-snapshot.lua: an internal snapshot of every qcow2 disk before
-- the VM starts, named nvqctl-YYYYMMDD-HHMMSS, so a start that goes
-- wrong (an upgrade) can be rolled back with "qemu-img snapshot -a".
-- Only the newest KEEP snapshots made by this hook are kept.
--
-- Install as $NVQCTL_CONFDIR/hooks/VM.lua (mode 0644, owned by root).
local core = require "nvq.core"

local KEEP = 3

local function qemu_img(ev, ...)
	local r, err = core.run({ "qemu-img", ... }, { stdout = "capture",
		stderr = "capture", deadline = ev.deadline })
	if not r then return nil, err end
	if r.status ~= 0 then
		return nil, "qemu-img " .. table.concat({ ... }, " ") .. ": " ..
			(r.timedout and "timed out" or (r.stderr:gsub("%s+$", "")))
	end
	return r.stdout
end

-- The names of this hook's snapshots on disk, oldest first.
local function ours(ev, path)
	local out = qemu_img(ev, "snapshot", "-l", path) or ""
	local names = {}
	for name in out:gmatch("%s(nvqctl%-%d+%-%d+)%s") do
		names[#names + 1] = name
	end
	table.sort(names)
	return names
end

return {
	pre_start = function(vm, ev)
		for _, d in ipairs(vm.cfg.disks) do
			if d.format == "qcow2" then
				local name = os.date("nvqctl-%Y%m%d-%H%M%S")
				local ok, why = qemu_img(ev, "snapshot", "-c", name,
					d.path)
				if not ok then return false, why end
				vm:log("snapshot %s of %s", name, d.path)
				local names = ours(ev, d.path)
				for i = 1, #names - KEEP do
					qemu_img(ev, "snapshot", "-d", names[i],
						d.path)
				end
			end
		end
	end,
}
