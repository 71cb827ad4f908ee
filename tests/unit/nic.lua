-- nic.lua: net/nic.lua -- derived MACs (stable, distinct, locally
-- administered unicast) and the QEMU options of each NIC form.
package.path = arg[0]:match("^(.*)/") .. "/?.lua;" .. package.path
local t = require "tap"
local nic = require "net.nic"

local m = nic.derive_mac("web", 0, "")
t.is(m, nic.derive_mac("web", 0, ""), "the same VM, NIC and seed: the same MAC")
t.ok(m:match("^52:54:%x%x:%x%x:%x%x:%x%x$"), "QEMU's 52:54 prefix: " .. m)
local first = tonumber(m:sub(1, 2), 16)
t.ok(first & 2 == 2 and first & 1 == 0, "locally administered, unicast")
t.ok(m ~= nic.derive_mac("db", 0, ""), "another VM: another MAC")
t.ok(m ~= nic.derive_mac("web", 1, ""), "another NIC: another MAC")
t.ok(m ~= nic.derive_mac("web", 0, "site-b"), "another seed: another MAC")
t.is(nic.mac_problem(m), nil, "a derived MAC is one a NIC may have")

-- 1000 VMs of 4 NICs each: no two MACs alike, none QEMU's default.
local seen, dup = {}, 0
for i = 1, 1000 do
	for k = 0, 3 do
		local x = nic.derive_mac("vm" .. i, k, "")
		if seen[x] or x == "52:54:00:12:34:56" then dup = dup + 1 end
		seen[x] = true
	end
end
t.is(dup, 0, "4000 NICs, 4000 different MACs")

-- The QEMU options.
local n = nic.parse("tap0:52:54:00:12:34:56")
local netdev, device = nic.qemu_options(n, "net0")
t.is(netdev, "tap,id=net0,ifname=tap0,script=no", "tap: -netdev as before")
t.is(device, "virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56",
	"tap with its MAC: -device as before")
n = nic.parse("user:tcp:2222:22,udp:0.0.0.0:5353:53")
n.mac = "52:54:aa:bb:cc:dd"
netdev, device = nic.qemu_options(n, "net1")
t.is(netdev, "user,id=net1,hostfwd=tcp:127.0.0.1:2222-:22," ..
	"hostfwd=udp:0.0.0.0:5353-:53", "user: forwards, loopback by default")
t.is(device, "virtio-net-pci,netdev=net1,mac=52:54:aa:bb:cc:dd",
	"user: the MAC on the device")
n = nic.parse("user")
t.same({ n.kind, #n.fwds }, { "user", 0 }, "plain user: no forwards")
t.is(select(2, nic.parse("brdge:br0")),
	"malformed MAC address 'br0' (six hex pairs with colons, such as " ..
	"52:54:00:12:34:56)", "an unknown form reads as a tap with a bad MAC")

n = nic.parse("bridge:br0")
t.same({ n.kind, n.bridge, tostring(n.mac) }, { "bridge", "br0", "nil" },
	"bridge:NAME")
n = nic.parse("bridge:br0:52:54:00:11:22:33")
t.same({ n.kind, n.bridge, n.mac }, { "bridge", "br0", "52:54:00:11:22:33" },
	"bridge:NAME:MAC")
t.is(select(2, nic.parse("bridge:br/0")), "invalid bridge name 'br/0' " ..
	"(1 to 15 letters, digits, '_', '.' or '-', not starting with '-', " ..
	"not . or ..)", "a bad bridge name")
for _, bad in ipairs({ "-a", "--help", ".", ".." }) do
	t.ok(not nic.parse("bridge:" .. bad) and not nic.parse(bad),
		"not an interface name: " .. bad)
end
t.ok(nic.parse("bridge:br0.100") and nic.parse("tap-0") and
	nic.parse("_x"), "'.', '-' and '_' inside a name, '_' first")
t.is(select(2, nic.parse("bridge:br0:01:00:5e:00:00:01")),
	"MAC address 01:00:5e:00:00:01 is a multicast address (the first " ..
	"byte must be even)", "bridge: a multicast MAC")
n.fd = 7
t.is((nic.qemu_options(n, "net0")), "tap,id=net0,fd=7",
	"bridge: QEMU gets the open tap by descriptor")

return t.done()
