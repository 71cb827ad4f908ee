#!/bin/sh
# net-user: a user-mode NIC (NETWORK=user:tcp:HOSTPORT:GUESTPORT): the
# host reaches a listener in the real guest through the forward, which
# listens on 127.0.0.1 only; the guest's MAC is the derived one.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

# A free TCP port on 127.0.0.1 for the forward.
hport=$(echo 'local s = require("nvq.core"); print(30000 + s.getpid() % 20000)' |
    "$LUARUN" -)
guest_vm u1 virtio-serial nvq.ip=10.0.2.15/24 nvq.listen=7777
echo "NETWORK=user:tcp:$hport:7777" >>"$NVQCTL_CONFDIR/vm/u1.conf"

run "$NVQCTL" start u1
is "$RC" 0 "start with a user-mode NIC"
wait_ready u1 60
ok $? "the guest is up"

# echo LINE through the forward: what comes back, tried for up to 20 s
# (the guest's listener starts during its boot).
cat >"$TMP/echo.lua" <<'LUA'
local core = require "nvq.core"
local host, port, line = arg[1], tonumber(arg[2]), arg[3]
local stop = core.now() + 20
while core.now() < stop do
	local ch = core.tcp_connect(host, port, core.now() + 2)
	if ch then
		ch:send(line .. "\n", core.now() + 2)
		local got = ch:readline(core.now() + 2, 4096)
		ch:close()
		if got then print(got) return 0 end
	end
	core.sleep(0.5)
end
print("no reply")
return 1
LUA
got=$("$LUARUN" "$TMP/echo.lua" 127.0.0.1 "$hport" hello-through-the-forward)
is "$got" "hello-through-the-forward" \
    "the host reaches the guest's listener through 127.0.0.1:$hport"

# The forward listens on loopback only: the host's other address does
# not answer (QEMU's own default would be every address).
other=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$other" ]; then
	"$LUARUN" - "$other" "$hport" <<'LUA'
local core = require "nvq.core"
local ch = core.tcp_connect(arg[1], tonumber(arg[2]), core.now() + 2)
if ch then ch:close() return 1 end
return 0
LUA
	ok $? "the forward is not on $other"
else
	ok 0 "the forward is not on another address (this host has none)"
fi

mac=$("$NVQCTL" dryrun u1 | sed -n 's/.*netdev=net0,mac=\([0-9a-f:]*\).*/\1/p')
like "$("$NVQCTL" agent u1 guest-network-get-interfaces)" "*$mac*" \
    "the guest's eth0 has the derived MAC $mac"
"$NVQCTL" kill u1 >/dev/null 2>&1
