#!/bin/sh
# demo-net.sh DEMODIR: the networking part of make demo -- two VMs with
# bridge:NAME NICs and no MAC written, on a bridge of their own, one
# pinging the other.  The bridge lives in a network namespace made here
# and removed on the way out, so nothing touches the host's networks.
# Without root (or ip(8)) it says why and does nothing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
nvqctl=$top/nvqctl
demo=$1
step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1 ||
    ! [ -c /dev/net/tun ]; then
	step "bridge NICs: skipped (making a bridge needs root, ip(8) and /dev/net/tun)"
	exit 0
fi
ns=nvqdemo$$ br=nvqdemo0
in_ns() { ip netns exec "$ns" "$@"; }
cleanup() {
	for vm in net1 net2; do "$nvqctl" kill "$vm" >/dev/null 2>&1; done
	ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT INT TERM
step "bridge NICs: bridge $br (in network namespace $ns), two VMs on it, no MAC written"
ip netns add "$ns" && in_ns ip link add "$br" type bridge &&
    in_ns ip link set "$br" up || { echo "demo: cannot make the bridge"; exit 1; }
for i in 1 2; do
	sed -e "s/^# The test guest.*/# The test guest on bridge $br./" \
	    -e "s/^MEMORY=.*/MEMORY=128M/" \
	    -e "s/console=ttyS0 quiet/console=ttyS0 quiet nvq.ip=169.254.77.1$i\\/24/" \
	    "$demo/etc/vm/demo.conf" >"$demo/etc/vm/net$i.conf"
	echo "NETWORK=bridge:$br" >>"$demo/etc/vm/net$i.conf"
	in_ns "$nvqctl" start "net$i" || exit 1
done
step "nvqctl status net1 (its NIC: the tap nvqctl made, the derived MAC)"
"$nvqctl" status net1 | grep -E 'is |net0'
"$nvqctl" status net2 | grep -E 'net0'
step "net1 pings net2 (169.254.77.12) through its guest agent"
i=0
until "$nvqctl" agent --timeout 2 net1 guest-ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "demo: net1's agent never answered" >&2; exit 1; }
done
cat >"$demo/ping.lua" <<'LUA'
-- Runs busybox ping in the guest through the agent, prints its output.
local core = require "nvq.core"
local function agent(...)
	local r = core.run({ arg[1], "agent", ... }, { stdout = "capture",
		deadline = core.now() + 10 })
	return require("cjson").decode(r.stdout)
end
local pid = math.tointeger(agent(arg[2], "guest-exec", '{"path": ' ..
	'"/bin/busybox", "arg": ["ping", "-c", "3", "-W", "2", "' .. arg[3] ..
	'"], "capture-output": true}').pid)
for _ = 1, 40 do
	local s = agent(arg[2], "guest-exec-status", '{"pid": ' .. pid .. '}')
	if s.exited then
		local b64 = s["out-data"] or ""
		local p = io.popen("base64 -d", "w")
		p:write(b64)
		p:close()
		return s.exitcode == 0 and 0 or 1
	end
	core.sleep(0.25)
end
return 1
LUA
"$top/tests/luarun" "$demo/ping.lua" "$nvqctl" net1 169.254.77.12 ||
    echo "demo: the ping failed"
step "nvqctl kill net1 net2: their taps go with QEMU"
for vm in net1 net2; do "$nvqctl" kill "$vm" 2>/dev/null; done
echo "taps left in $ns: $(in_ns ip -o link | grep -c ': nvqtap')"
