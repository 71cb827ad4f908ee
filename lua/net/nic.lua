-- net/nic.lua: one NETWORK entry -- which kind of NIC it is, what it
-- names, the MAC it gets -- and the QEMU options for it.  The forms:
--   tap[:MAC]                 a tap made beforehand (the old tool's form)
--   bridge:NAME[:MAC]         a tap nvqctl opens at start and the network
--                             policy puts into bridge NAME
--   user[:FWD[,FWD...]]       QEMU's user-mode NAT; FWD is
--                             tcp|udp:[ADDR:]HOSTPORT:GUESTPORT
-- A MAC is six hex pairs, so "bridge:br0" or "user:tcp:..." never parses
-- as a tap with a MAC; only a tap literally named "bridge" or "user"
-- changes meaning.
local M = {}

local match, format = string.match, string.format

-- IFNAMSIZ is 16 on NetBSD and Linux, the terminating NUL included.
-- A leading '-' would be an option to ifconfig, brconfig and ip (the
-- network policy passes the name as an argument: "bridge:-a" made
-- NetBSD's "ifconfig -a" say the bridge exists); "." and ".." are
-- directories in /sys/class/net, never interfaces (Linux refuses them).
-- The rule, as messages say it.
M.IFNAME_RULE = "1 to 15 letters, digits, '_', '.' or '-', not starting " ..
	"with '-', not . or .."

function M.valid_ifname(s)
	return match(s, "^[%w_.][%w_.-]*$") ~= nil and #s <= 15 and
		s ~= "." and s ~= ".."
end

-- nil, or why s is not a MAC a NIC may have.
function M.mac_problem(s)
	if not match(s, "^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
		return format("malformed MAC address '%s' (six hex pairs with " ..
			"colons, such as 52:54:00:12:34:56)", s)
	end
	if tonumber(s:sub(1, 2), 16) & 1 == 1 then
		return format("MAC address %s is a multicast address (the " ..
			"first byte must be even)", s)
	end
end

local function port(s)
	local n = match(s, "^%d+$") and tonumber(s)
	return n and n >= 1 and n <= 65535 and n or nil
end

local function ipv4(s)
	local a, b, c, d = match(s, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	if not a then return false end
	for _, x in ipairs({ a, b, c, d }) do
		if #x > 3 or tonumber(x) > 255 then return false end
	end
	return true
end

-- One forward: { proto, addr, hport, gport } | nil, why.  A forward
-- listens on 127.0.0.1 unless an address is written: QEMU's own default
-- is every address, which would put a guest's port on the host's
-- networks without anyone asking.
local function forward(s)
	local parts = {}
	for p in (s .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
	local proto, addr, hp, gp = parts[1], "127.0.0.1", parts[2], parts[3]
	if #parts == 4 then addr, hp, gp = parts[2], parts[3], parts[4] end
	if #parts < 3 or #parts > 4 then
		return nil, format("forward '%s' is not tcp|udp:[ADDR:]HOSTPORT:" ..
			"GUESTPORT", s)
	end
	if proto ~= "tcp" and proto ~= "udp" then
		return nil, format("forward '%s': '%s' is neither tcp nor udp", s,
			proto)
	end
	if not ipv4(addr) then
		return nil, format("forward '%s': '%s' is not an IPv4 address", s,
			addr)
	end
	local h, g = port(hp), port(gp)
	if not h or not g then
		return nil, format("forward '%s': a port is a number from 1 to " ..
			"65535", s)
	end
	return { proto = proto, addr = addr, hport = h, gport = g }
end

local function user(rest)
	local nic = { kind = "user", fwds = {} }
	if rest == nil then return nic end
	local seen = {}
	for s in (rest .. ","):gmatch("([^,]*),") do
		local f, why = forward(s)
		if not f then return nil, why end
		local key = f.proto .. ":" .. f.addr .. ":" .. f.hport
		if seen[key] then
			return nil, format("forward '%s': host port %s/%d is " ..
				"forwarded twice", s, f.proto, f.hport)
		end
		seen[key] = true
		nic.fwds[#nic.fwds + 1] = f
	end
	return nic
end

-- NAME[:MAC] of a tap or a bridge NIC: { kind, [kind] = NAME, mac }.
local function named(kind, text)
	local name, colon, mac = match(text, "^([^:]*)(:?)(.*)$")
	if not M.valid_ifname(name) then
		return nil, format("invalid %s name '%s' (%s)", kind, name,
			M.IFNAME_RULE)
	end
	if colon == "" then return { kind = kind, [kind] = name } end
	local why = M.mac_problem(mac)
	if why then return nil, why end
	return { kind = kind, [kind] = name, mac = mac }
end

-- parse(text) -> nic | nil, why.  nic.kind is "tap" (nic.tap, its name),
-- "bridge" (nic.bridge; nic.tap once opened) or "user" (nic.fwds);
-- nic.mac is the MAC written, or nil.
function M.parse(text)
	if text == "user" then return user(nil) end
	local rest = match(text, "^user:(.*)$")
	if rest then return user(rest) end
	rest = match(text, "^bridge:(.*)$")
	if rest then return named("bridge", rest) end
	return named("tap", text)
end

-- FNV-1a, 32 bits: small, fixed, and the same in every Lua and on every
-- host, so a derived MAC never changes with the machine.
local function fnv1a(s)
	local h = 2166136261
	for i = 1, #s do
		h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
	end
	return h
end

-- QEMU gives every NIC without a MAC this one address.
local QEMU_DEFAULT = "52:54:00:12:34:56"

-- derive_mac(vm, index, seed [, salt]) -> a locally administered unicast
-- MAC: 52:54 (QEMU's prefix: 0x52 has the local bit set and the
-- multicast bit clear) and 32 bits of the VM's name, the NIC's index
-- (from 0) and a site's seed (MAC_SEED).  salt moves it on a clash.
function M.derive_mac(vm, index, seed, salt)
	local h = fnv1a(table.concat({ seed or "", vm, tostring(index),
		tostring(salt or 0) }, "\0"))
	local mac = format("52:54:%02x:%02x:%02x:%02x", h >> 24, (h >> 16) & 255,
		(h >> 8) & 255, h & 255)
	if mac == QEMU_DEFAULT then
		return M.derive_mac(vm, index, seed, (salt or 0) + 1)
	end
	return mac
end

-- QEMU splits option strings at commas and reads ",," as one comma.
local function esc(s)
	return (s:gsub(",", ",,"))
end

-- The -netdev and -device values for NIC nic with id.
function M.qemu_options(nic, id)
	local netdev
	if nic.kind == "user" then
		local t = { "user,id=" .. id }
		for _, f in ipairs(nic.fwds) do
			t[#t + 1] = format("hostfwd=%s:%s:%d-:%d", f.proto, f.addr,
				f.hport, f.gport)
		end
		netdev = table.concat(t, ",")
	elseif nic.kind == "bridge" then
		-- The tap nvqctl opened; a dry run has none yet.
		netdev = "tap,id=" .. id .. ",fd=" .. (nic.fd and
			tostring(nic.fd) or "(tap opened at start)")
	else
		netdev = "tap,id=" .. id .. ",ifname=" .. esc(nic.tap) ..
			",script=no"
	end
	return netdev, "virtio-net-pci,netdev=" .. id .. ",mac=" .. esc(nic.mac)
end

-- One line for people: "user 52:54:..:.. tcp 127.0.0.1:2222->22".
function M.describe(nic)
	local t = { nic.kind == "user" and "user" or nic.kind == "bridge" and
		"bridge " .. nic.bridge .. (nic.tap and " tap " .. nic.tap or "")
		or "tap " .. nic.tap, nic.mac .. (nic.derived and " (derived)" or "") }
	for _, f in ipairs(nic.fwds or {}) do
		t[#t + 1] = format("%s %s:%d->%d", f.proto, f.addr, f.hport, f.gport)
	end
	return table.concat(t, " ")
end

return M
