-- media.lua: cases for the ISO, VNC and cloud-init keys (conf/mediacheck),
-- their QEMU options (qemu/media) and the seed (vm/seed), run by media.t.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local config = require "conf.load"
local core = require "nvq.core"
local display = require "vm.display"
local paths = require "base.paths"
local qemuargv = require "qemu.argv"
local seed = require "vm.seed"
local util = require "base.util"

local TMP = assert(os.getenv("TESTTMP"))
local CONF = paths.confdir()
local RUN = paths.rundir()
local VMS = TMP .. "/vms"
assert(core.mkdir(CONF, "755") and core.mkdir(CONF .. "/vm", "755"))
local VMFILE = CONF .. "/vm/t.conf"

local function write(path, text, mode)
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
	if mode then core.chmod(path, mode) end
end
write(CONF .. "/nvqctl.conf", "VM_DIR=" .. VMS .. "\n")

local function load(text, mode)
	write(VMFILE, text)
	return util.check(config.load("t", mode or "list"))
end

-- The words after the disks and before -nic: what qemu/media adds.
local function media_words(text, mode)
	local a = qemuargv.build(load("SERIAL=no\nVIRTIO_RNG=no\n" .. text, mode))
	local out, on = {}, false
	for _, w in ipairs(a) do
		if w == "-nic" or w == "-netdev" then break end
		if on then out[#out + 1] = w end
		if w == "1024" then on = true end
	end
	return out
end

local function err(text, want, desc, mode)
	t.fails(function() load(text, mode) end, VMFILE .. ":" .. want, desc)
end

-- --- defaults: nothing new on the command line ------------------------------
local c = load("")
t.same({ c.ISO, c.ISO_BOOT, c.VNC, c.VNC_PASSWORD_FILE, c.CLOUD_INIT },
	{ "", "no", false, "", false }, "defaults: no ISO, no VNC, no seed")
t.same(media_words(""), {}, "defaults add no QEMU option")

-- --- ISO and ISO_BOOT -------------------------------------------------------
local ISO = TMP .. "/in,st.iso"
write(ISO, "x")
local CD = { "-drive", "if=none,id=cd0,media=cdrom,readonly=on,format=raw," ..
	"file=" .. TMP .. "/in,,st.iso", "-device", "ide-cd,drive=cd0" }
local function cd(...)
	local out = { table.unpack(CD) }
	for _, w in ipairs({ ... }) do out[#out + 1] = w end
	return out
end
t.same(media_words("ISO=" .. ISO .. "\n", "start"), cd("-boot", "once=d"),
	"ISO: a read-only CD-ROM (comma doubled), booted once by default")
t.same(media_words("ISO=" .. ISO .. "\nISO_BOOT=always\n"),
	cd("-boot", "order=dc"), "ISO_BOOT=always: -boot order=dc")
t.same(media_words("ISO=" .. ISO .. "\nISO_BOOT=no\n"), cd(),
	"ISO_BOOT=no: no -boot")
t.same(media_words("ISO_BOOT=always\n"), {}, "ISO_BOOT without ISO: nothing")
err("#\nISO_BOOT=twice\n", "2: ISO_BOOT: 'twice' is not once, always or no",
	"ISO_BOOT: a bad value")
err("ISO=/nonexistent.iso\n", "1: ISO: ISO image /nonexistent.iso does " ..
	"not exist", "ISO: missing at start is an error", "start")
c = load("ISO=/nonexistent.iso\n", "dryrun")
t.like(c.warnings[1] or "", "ISO image /nonexistent.iso does not exist",
	"ISO: missing at dryrun is a warning")

-- --- VNC --------------------------------------------------------------------
local PW = TMP .. "/pw"
write(PW, "secret\n", "0600")
t.same(media_words("VNC=yes\n"), { "-vnc", "unix:" .. RUN .. "/t/vnc.sock" },
	"VNC=yes: a unix socket in the run directory")
t.same(media_words("VNC=yes\nVNC_PASSWORD_FILE=" .. PW .. "\n", "start"),
	{ "-vnc", "unix:" .. RUN .. "/t/vnc.sock,password=on" },
	"VNC=yes with a password file: password=on")
t.same(media_words("VNC=127.0.0.1:5901\nVNC_PASSWORD_FILE=" .. PW .. "\n",
	"start"), { "-vnc", "127.0.0.1:1,password=on" },
	"VNC=ADDR:PORT: display number PORT-5900, password=on")
t.same(media_words("VNC=[::1]:5999\nVNC_PASSWORD_FILE=" .. PW .. "\n"),
	{ "-vnc", "[::1]:99,password=on" }, "VNC=[IPV6]:PORT")
t.is(load("VNC=YES\n").VNC.kind, "unix", "VNC: yes in any case")
err("#\nVNC=5901\n", "2: VNC: '5901' is not no, yes or ADDR:PORT",
	"VNC: a bare port")
err("VNC=:5901\n", "1: VNC: ':5901' is not no, yes or ADDR:PORT",
	"VNC: no address (every address is not the default)")
err("VNC=127.0.0.1:5899\nVNC_PASSWORD_FILE=" .. PW .. "\n",
	"1: VNC: port 5899 is out of range (5900 to 65535",
	"VNC: a port below 5900")
err("VNC=127.0.0.1:5901\n", "1: VNC: a TCP listener needs a password: " ..
	"set VNC_PASSWORD_FILE", "VNC on TCP without a password file")
err("DISPLAY_OPT=vnc=:1\nVNC=yes\n",
	"2: VNC: VNC=yes and DISPLAY_OPT=vnc=:1 " ..
	"both ask for a VNC server", "VNC and DISPLAY_OPT=vnc... together")
err("VNC=yes\nVNC_PASSWORD_FILE=pw\n", "2: VNC_PASSWORD_FILE: 'pw' is not " ..
	"an absolute path", "VNC_PASSWORD_FILE: relative")
core.chmod(PW, "0640")
err("VNC=yes\nVNC_PASSWORD_FILE=" .. PW .. "\n", "2: VNC_PASSWORD_FILE: " ..
	PW .. " is readable by others (mode 0640", "VNC_PASSWORD_FILE: group " ..
	"readable is refused at start", "start")
core.chmod(PW, "0600")
err("VNC=yes\nVNC_PASSWORD_FILE=" .. TMP .. "/none\n",
	"2: VNC_PASSWORD_FILE: " ..
	TMP .. "/none does not exist", "VNC_PASSWORD_FILE: missing at start",
	"start")
c = load("VNC=yes\nVNC_PASSWORD_FILE=" .. PW .. "\n", "start")
t.is(display.password(c), "secret", "the password: the file's first line")
write(PW, "123456789\n", "0600")
local pw, why = display.password(c)
t.ok(pw == nil and why:find("at most 8 bytes", 1, true),
	"a password over 8 bytes is refused (VNC auth would drop the rest)")
t.is(display.password(load("VNC=yes\n")), false, "no password file: none")
local how = display.how("t", load("VNC=yes\n"), paths.runtime("t"))
t.like(how[3], "ssh -N -L 5900:" .. RUN .. "/t/vnc.sock root@",
	"vnc: the ssh -L line for the socket")
t.ok(display.how("t", load(""), paths.runtime("t")) == nil,
	"vnc: nothing to say with VNC=no")

-- --- CLOUD_INIT: the seed's QEMU options ----------------------------------
t.same(media_words("CLOUD_INIT=yes\n"), { "-drive", "if=none,id=cidata," ..
	"format=raw,readonly=on,file.driver=vvfat,file.dir=" .. VMS ..
	"/t/cidata,file.label=cidata", "-device", "virtio-blk-pci,drive=cidata" },
	"CLOUD_INIT=yes here: a read-only vvfat disk labelled cidata")
err("CLOUD_INIT=yes\nCLOUD_INIT_SSH_KEYS=" .. TMP .. "/nokey\n",
	"2: CLOUD_INIT_SSH_KEYS: SSH key file " .. TMP .. "/nokey does not exist",
	"CLOUD_INIT_SSH_KEYS: a missing file at start", "start")

-- --- the seed's files ------------------------------------------------------
t.is(seed.hash(""), "cbf29ce484222325", "FNV-1a 64 of nothing")
t.is(seed.hash("a"), "af63dc4c8601ec8c", "FNV-1a 64 of 'a'")
local KEY = TMP .. "/id.pub"
write(KEY, "# mine\nssh-ed25519 AAAAC3 me@\"host\"\n\n")
t.is(seed.generated_user_data({ KEY }), "#cloud-config\n" ..
	"ssh_authorized_keys:\n  - \"ssh-ed25519 AAAAC3 me@\\u0022host\\u0022\"\n",
	"generated user-data: the keys, quoted, comments skipped")
t.is(seed.generated_user_data({}), "#cloud-config\n",
	"generated user-data without keys")
local md = seed.generated_meta_data("t", "u", nil)
t.like(md, "instance-id: t-" .. seed.hash("u\0") .. "\nlocal-hostname: t\n",
	"generated meta-data: instance-id from the user-data, hostname")
t.ok(md ~= seed.generated_meta_data("t", "u2", nil),
	"another user-data, another instance-id")

local CI = paths.cloud_init_dir("t")
assert(core.mkdir(CONF .. "/cloud-init", "755") and core.mkdir(CI, "755"))
c = load("CLOUD_INIT=yes\nCLOUD_INIT_SSH_KEYS=" .. KEY .. "\n", "start")
local r = assert(seed.ensure(c))
t.ok(r.rebuilt and r.route == "vvfat", "ensure: first build (vvfat)")
local function read(p) return util.read_file(p) end
t.like(read(VMS .. "/t/cidata/user-data") or "", "ssh_authorized_keys",
	"without user-data the generated one is in the seed")
t.ok(core.stat(VMS .. "/t/cidata/network-config") == nil,
	"no network-config without one")
t.is(string.format("%o", core.stat(VMS .. "/t").mode), "700",
	"VM_DIR/t is 0700")
t.is(string.format("%o", core.stat(VMS .. "/t/cidata/user-data").mode), "600",
	"the seed's files are 0600")
local st = core.stat(VMS .. "/t/cidata.stamp")
r = assert(seed.ensure(c))
local st2 = core.stat(VMS .. "/t/cidata.stamp")
t.ok(not r.rebuilt and st.ino == st2.ino, "ensure: unchanged, not rebuilt")
write(CI .. "/user-data", "#cloud-config\n")
write(CI .. "/network-config", "version: 2\n")
r = assert(seed.ensure(c))
t.ok(r.rebuilt, "ensure: a new user-data rebuilds")
t.is(read(VMS .. "/t/cidata/user-data"), "#cloud-config\n",
	"the directory's user-data is used")
t.is(read(VMS .. "/t/cidata/network-config"), "version: 2\n",
	"network-config is copied")
t.ok(#core.readdir(VMS .. "/t/cidata") == 3 and
	core.stat(VMS .. "/t/cidata.stamp") ~= nil, "no temporary file left")
write(CI .. "/meta-data", "instance-id: fixed\n")
r = assert(seed.ensure(c))
t.is(read(VMS .. "/t/cidata/meta-data"), "instance-id: fixed\n",
	"a meta-data of one's own is used as it is")
os.remove(VMS .. "/t/cidata/meta-data")
t.ok(seed.ensure(c).rebuilt == false, "the stamp decides (files not reread)")
os.remove(VMS .. "/t/cidata.stamp")
t.ok(seed.ensure(c).rebuilt, "no stamp: rebuilt")
os.remove(CI .. "/meta-data")
assert(core.mkdir(CI .. "/meta-data", "755"))
r, why = seed.ensure(c)
t.ok(r == nil and why:find("meta-data: not a regular file", 1, true),
	"an unreadable input: nil, message naming it")

core.rmdir(CI .. "/meta-data")

-- --- the ISO route (NetBSD's makefs), with a stand-in makefs here ----------
-- It records its arguments and the files it was given, then writes the
-- image; "fail" in its directory makes it fail.
local FAKE = TMP .. "/makefs"
write(FAKE, "#!/bin/sh\n" ..
	"d=$(dirname \"$0\")\n" ..
	"[ -e \"$d/fail\" ] && { echo 'makefs: no space' >&2; exit 1; }\n" ..
	"echo \"$*\" >\"$d/makefs.args\"\n" ..
	"eval last=\\${$#}\n" ..
	"(cd \"$last\" && ls && cat user-data) >\"$d/makefs.saw\"\n" ..
	"eval img=\\${$(($# - 1))}\n" ..
	"echo ISO >\"$img\"\n", "0755")
local IDIR = TMP .. "/isovm"
local left
local place = { route = "iso", tool = FAKE, dir = IDIR,
	path = IDIR .. "/cidata.iso", stamp = IDIR .. "/cidata.stamp" }
r = assert(seed.ensure(c, place))
t.ok(r.rebuilt and r.route == "iso", "ISO route: built")
t.is(read(TMP .. "/makefs.args"), "-t cd9660 -o rockridge,label=cidata " ..
	IDIR .. "/cidata.iso.tmp " .. IDIR .. "/cidata.iso.d\n",
	"ISO route: makefs -t cd9660 -o rockridge,label=cidata IMAGE DIR")
t.is(read(TMP .. "/makefs.saw"), "meta-data\nnetwork-config\nuser-data\n" ..
	"#cloud-config\n", "ISO route: makefs is given the seed's files")
t.is(read(IDIR .. "/cidata.iso"), "ISO\n", "ISO route: the image in place")
left = core.readdir(IDIR)
table.sort(left)
t.same(left, { "cidata.iso", "cidata.stamp" },
	"ISO route: no source directory or temporary image left")
t.ok(not seed.ensure(c, place).rebuilt, "ISO route: unchanged, not rebuilt")
write(CI .. "/user-data", "#cloud-config\n# changed\n")
write(TMP .. "/fail", "")
local stamp = read(IDIR .. "/cidata.stamp")
r, why = seed.ensure(c, place)
t.ok(r == nil and why:find("makefs: makefs: no space", 1, true),
	"ISO route: makefs failing is an error with its message")
left = core.readdir(IDIR)
table.sort(left)
t.is(table.concat(left, " ") .. " " .. read(IDIR .. "/cidata.stamp"),
	"cidata.iso cidata.stamp " .. stamp,
	"ISO route: a failed build leaves the old image and stamp, nothing else")

return t.done()
