-- savefile.lua: cases for lua/vm/savefile.lua and the primitives of a
-- save (createfile, fsync, fstat, statvfs), run by savefile.t.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local core = require "nvq.core"
local savefile = require "vm.savefile"

local TMP = assert(os.getenv("TESTTMP"))

-- Primitives.
local p = TMP .. "/new"
local fd = core.createfile(p, "600")
t.ok(math.type(fd) == "integer", "createfile: a descriptor")
t.ok(core.fsync(fd), "fsync of it")
t.is(core.fstat(fd).size, 0, "fstat: an empty file")
t.is(core.stat(p).mode, 384, "createfile: mode 0600")
core.fdclose(fd)
local again, why = core.createfile(p, "600")
t.ok(again == nil and why:find("exists"), "createfile: never over a file")
local fs = core.statvfs(TMP)
t.ok(fs and fs.avail > 0 and fs.size >= fs.avail, "statvfs: room, size")
t.ok(core.statvfs(TMP .. "/none") == nil, "statvfs: nil for no path")

-- Files: under VM_DIR, and made 0700.
local f = savefile.files("vm1")
t.is(f.state, TMP .. "/vms/vm1/state", "the state lives in VM_DIR/NAME")
t.ok(savefile.make_dir(f), "its directory is made")
t.is(core.stat(f.dir).mode, 448, "0700")
t.ok(not savefile.saved("vm1"), "no state: not saved")
io.open(f.part, "wb"):close()
t.ok(not savefile.saved("vm1"), "a part file is no saved state")

-- The argv: tap descriptors differ between runs, nothing else may.
local a1 = { "qemu", "-netdev", "tap,id=net0,fd=7", "-m", "256" }
local a2 = { "qemu", "-netdev", "tap,id=net0,fd=9", "-m", "256" }
local a3 = { "qemu", "-netdev", "tap,id=net0,fd=9", "-m", "512" }
local s1, s2 = savefile.stable_argv(a1), savefile.stable_argv(a2)
t.is(savefile.hash(s1), savefile.hash(s2), "argv hash ignores tap fds")
t.ok(savefile.hash(s1) ~= savefile.hash(savefile.stable_argv(a3)),
	"argv hash sees -m")
t.ok(savefile.hash({ "ab", "c" }) ~= savefile.hash({ "a", "bc" }),
	"argv hash sees word boundaries")

-- Disks: identity after the save; a change is named.
local disk = TMP .. "/d.img"
io.open(disk, "wb"):write("x"):close()
local cfg = { disks = { { path = disk } } }
local meta = { disks = savefile.disks(cfg), argv = s1,
	argv_hash = savefile.hash(s1) }
t.is(savefile.mismatch("vm1", meta, a2, cfg), nil, "unchanged: restorable")
io.open(disk, "ab"):write("y"):close()
t.like(savefile.mismatch("vm1", meta, a2, cfg) or "",
	"disk " .. disk .. " changed since the save", "a written disk is named")
meta.disks = savefile.disks(cfg)
t.like(savefile.mismatch("vm1", meta, a3, cfg) or "",
	"argument 5: 512, saved with 256", "a changed argv is named")
t.like(savefile.mismatch("vm1", meta, a2, { disks = {} }) or "",
	"disks differ", "a disk removed from the config is refused")

-- A save cut off with no QEMU left: complete (sidecar written, sizes
-- agree) is kept as a saved state; anything else goes.
local recover = require "vm.recover"
local vm = require "vm.handle"
local function cut(name, size, meta)
	local g = savefile.files(name)
	savefile.make_dir(g)
	io.open(g.part, "wb"):write(string.rep("s", size)):close()
	if meta then savefile.write_meta(g, { size = meta }) end
	return g, vm.open(name, {})
end
local g, v = cut("vm2", 10, 10)
t.ok(recover.recover(v), "cut off after the sidecar: recovered")
t.ok(core.stat(g.state) and not core.stat(g.part) and savefile.saved("vm2"),
	"... into a saved state")
g, v = cut("vm3", 10, 9)
recover.recover(v)
t.ok(not core.stat(g.part) and not core.stat(g.state) and
	not core.stat(g.meta), "a sidecar that disagrees: all removed")
g, v = cut("vm4", 10)
recover.recover(v)
t.ok(not core.stat(g.part) and not savefile.saved("vm4"),
	"no sidecar: the part file is removed, nothing is restored")

-- A state move brought: the saved argv read with this host's
-- directories (longest first; only whole path parts).
local restamp = require "vm.restamp"
local moved = { vm_dir = "/a/vms/w", run_dir = "/a/run",
	conf_dir = "/a" }
local here = { vm_dir = "/b/vms/w", run_dir = "/run/b", conf_dir = "/b" }
local was = { "qemu", "-drive", "file=/a/vms/w/d.img,format=raw",
	"-chardev", "socket,id=m,path=/a/run/w/monitor.sock",
	"-kernel", "/a/x/vmlinuz", "-name", "/a/vms/wx", "/a" }
t.is(table.concat(restamp.translate(was, moved, here), " "),
	"qemu -drive file=/b/vms/w/d.img,format=raw -chardev " ..
	"socket,id=m,path=/run/b/w/monitor.sock -kernel /b/x/vmlinuz " ..
	"-name /b/vms/wx /b",
	"restamp: each word's directories swapped once, longest first")
t.is(table.concat(restamp.translate({ "/a/vms/w/%1" }, moved, here)),
	"/b/vms/w/%1", "restamp: a % in a path is no pattern")

t.is(restamp.translate({ "qemu", 5 }, moved, here), nil,
	"restamp: a word that is not a string: no argv, not an error")
t.is(restamp.translate("qemu -m 256", moved, here), nil,
	"restamp: an argv that is not a list: no argv, not an error")

return t.done()
