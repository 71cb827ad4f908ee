#!/bin/sh
# net-bridge: bridge:NAME NICs on real guests.  Everything runs in a
# network namespace of the test's own (its bridge, nvqctl's taps, the
# guests' link-local addresses), removed on every exit path.  Two VMs
# with no MAC written ping the host and each other; their MACs differ
# and stay after a restart; a QEMU killed behind nvqctl's back leaves no
# tap; 50 start/kill cycles leave no tap and no descriptor; a missing
# bridge and a refusing network policy stop the start with nothing left;
# the old tap:MAC form still works against a tap made beforehand.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1 ||
    ! [ -c /dev/net/tun ]; then
	ok 0 "# SKIP needs root, ip and /dev/net/tun"
	exit 0
fi
. "$(dirname "$0")/guest.sh"

NS=nvqt$$
BR=nvqbr$$
NET=169.254.77
in_ns() { ip netns exec "$NS" "$@"; }
net_cleanup() {
	guest_cleanup
	ip netns del "$NS" 2>/dev/null
}
T_CLEANUP_HOOK=net_cleanup
ip netns add "$NS" || { ok 1 "ip netns add $NS"; exit 1; }
in_ns ip link set lo up
in_ns ip link add "$BR" type bridge
in_ns ip addr add "$NET.1/24" dev "$BR"
in_ns ip link set "$BR" up

# The taps nvqctl made in the namespace.
ntaps() { in_ns ip -o link | grep -c ': nvqtap'; }

guest_vm n1 virtio-serial "nvq.ip=$NET.2/24"
guest_vm n2 virtio-serial "nvq.ip=$NET.3/24"
echo "NETWORK=bridge:$BR" >>"$NVQCTL_CONFDIR/vm/n1.conf"
echo "NETWORK=bridge:$BR" >>"$NVQCTL_CONFDIR/vm/n2.conf"

in_ns "$NVQCTL" start n1 >"$TMP/s1" 2>&1 &
in_ns "$NVQCTL" start n2 >"$TMP/s2" 2>&1
wait
like "$(cat "$TMP/s1")" "*n1: started*" "n1 started with a bridge NIC"
like "$(cat "$TMP/s2")" "*n2: started*" "n2 started with a bridge NIC"
is "$(ntaps)" 2 "two taps in the namespace"
run in_ns "$NVQCTL" status n1
tap1=$(printf '%s\n' "$OUT" | sed -n "s/.*net0: *bridge $BR tap \([a-z0-9]*\).*/\1/p")
like "$tap1" "nvqtap*" "status names n1's tap ($tap1)"
like "$OUT" "*net0: *bridge $BR tap $tap1 52:54:*(derived), link up*" \
    "status: the tap's link is up"
like "$(in_ns ip -o link show "$tap1")" "*,UP,*master $BR *" \
    "the network policy put it into $BR, up"
run in_ns "$NVQCTL" top -n 1 --json
like "$OUT" "*\"$tap1\"*" "top --json counts n1's tap ($tap1)"
wait_ready n1 60 && wait_ready n2 60
ok $? "both guests are up"

# ping FROM-VM TO-ADDR: busybox ping in the guest, through its agent.
cat >"$TMP/jget.lua" <<'LUA'
local v = require("cjson").decode(io.read("a"))
local f = load("local v = ...; return " .. arg[1])
local x = f(v)
-- lua-cjson decodes every number as a float: 125, not 125.0.
print(math.tointeger(x) or tostring(x))
LUA
jget() { printf '%s' "$1" | "$LUARUN" "$TMP/jget.lua" "$2"; }
gping() {
	_x=$("$NVQCTL" agent "$1" guest-exec "{\"path\": \"/bin/busybox\", \"arg\": \
[\"ping\", \"-c\", \"1\", \"-W\", \"3\", \"$2\"], \"capture-output\": true}")
	_pid=$(jget "$_x" v.pid)
	case $_pid in
	*[!0-9]*|"") diag "guest-exec in $1: $_x"; return 1 ;;
	esac
	_i=0
	while [ $_i -lt 40 ]; do
		_out=$("$NVQCTL" agent "$1" guest-exec-status "{\"pid\": $_pid}")
		if [ "$(jget "$_out" v.exited)" = true ]; then
			[ "$(jget "$_out" v.exitcode)" = 0 ] && return 0
			diag "ping in $1: $(jget "$_out" 'v["out-data"]' | base64 -d)" \
			    "$(jget "$_out" 'v["err-data"]' | base64 -d)"
			return 1
		fi
		sleep 0.25
		_i=$((_i + 1))
	done
	return 1
}
# The guests' links come up a moment after their boot line.
n=0
until in_ns busybox ping -c 1 -W 1 "$NET.2" >/dev/null 2>&1 || [ $n -ge 20 ]; do
	n=$((n + 1))
done
in_ns busybox ping -c 1 -W 2 "$NET.2" >/dev/null 2>&1
ok $? "the host pings n1"
in_ns busybox ping -c 1 -W 2 "$NET.3" >/dev/null 2>&1
ok $? "the host pings n2"
gping n1 "$NET.3"
ok $? "n1 pings n2 across the bridge"

mac() {
	"$NVQCTL" agent "$1" guest-network-get-interfaces |
	    grep -o '"hardware-address": *"[0-9a-f:]*"' | grep -v 00:00:00:00:00:00 |
	    head -n 1 | grep -o '[0-9a-f:]\{17\}'
}
m1=$(mac n1) m2=$(mac n2)
like "$m1" "52:54:*" "n1's guest sees a derived MAC ($m1)"
unlike "$m1" "$m2" "n1 and n2 have different MACs ($m2)"

# kill -9 behind nvqctl's back: the tap goes with QEMU.
pid2=$(qemu_pid n2)
kill -KILL "$pid2"
n=0
while ! gone "$pid2" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
n=0
while [ "$(ntaps)" -ne 1 ] && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
is "$(ntaps)" 1 "SIGKILL to n2's QEMU: its tap is gone, n1's stays"

# A restart keeps the MAC.
in_ns "$NVQCTL" restart --force n1 10 >/dev/null 2>&1
wait_ready n1 60
is "$(mac n1)" "$m1" "n1's MAC after a restart"
is "$(ntaps)" 1 "one tap after the restart"
in_ns "$NVQCTL" kill n1 >/dev/null 2>&1
is "$(ntaps)" 0 "kill: no tap left"

# 50 start/kill cycles in one long-lived process: no tap, no descriptor.
cat >"$TMP/cycles.lua" <<'LUA'
local core = require "nvq.core"
local lifecycle = require "vm.lifecycle"
local vmarg = require "vm.arg"
local function fds()
	return #(core.readdir("/proc/self/fd") or {})
end
local function cycle()
	local v = assert(vmarg.open(arg[2]))
	assert(lifecycle.start(v, {}))
	assert(lifecycle.kill(assert(vmarg.open(arg[2]))))
end
-- One first: what a first start opens for good (a cached descriptor)
-- is not a leak.
cycle()
local before = fds()
for _ = 1, tonumber(arg[1]) do cycle() end
local after = fds()
local f = assert(io.open(arg[3], "w"))
f:write(before, " ", after, "\n")
f:close()
if after ~= before then
	os.execute("ls -l /proc/" .. core.getpid() .. "/fd >&2")
end
LUA
in_ns "$LUARUN" "$TMP/cycles.lua" 50 n1 "$TMP/cycles.out" >/dev/null \
    2>"$TMP/cycles.err"
out=$(cat "$TMP/cycles.out")
is "$(echo "$out" | awk '{print ($1 == $2) ? "same" : $1 " -> " $2}')" same \
    "50 start/kill cycles: the process's descriptors as before ($out)"
is "$(ntaps)" 0 "50 start/kill cycles: no tap left"
grep -v 'warning: killing n1' "$TMP/cycles.err" | sed 's/^/# /' | tail -5

# A bridge that does not exist: refused before QEMU, no tap.
printf 'QEMU_BIN=%s\nACCEL=auto\nNETWORK=bridge:nvqnone%s\n' "$QEMU" $$ | vmconf n3
run in_ns "$NVQCTL" start n3
is "$RC" 1 "a missing bridge: exit 1"
like "$ERR" "*bridge nvqnone$$ does not exist*" "the message names the bridge"
is "$(qemu_pid n3)" "" "no QEMU"
is "$(ntaps)" 0 "no tap"
run in_ns "$NVQCTL" host
like "$OUT" "*PASS  bridge $BR: exists (used by n1, n2)*" "host: $BR exists"
like "$OUT" "*FAIL  bridge nvqnone$$: no bridge nvqnone$$ (make it: ip link add*" \
    "host: the missing bridge is a FAIL, with the fix"
like "$OUT" "*PASS  taps: /dev/net/tun opens*" "host: the tap cloning device opens"
is "$(ntaps)" 0 "host's tap check leaves no tap"

# A network policy that refuses: its message, nothing left behind.
mkdir -p "$NVQCTL_CONFDIR/policies"
cat >"$NVQCTL_CONFDIR/policies/network.lua" <<'LUA'
return { attach = function(vm, nic) return nil, "VLANs only on Tuesdays" end }
LUA
run in_ns "$NVQCTL" start n1
is "$RC" 1 "a refusing network policy: exit 1"
like "$ERR" "*VLANs only on Tuesdays*" "its message"
is "$(qemu_pid n1)" "" "no QEMU"
is "$(ntaps)" 0 "no tap"
rm -f "$NVQCTL_CONFDIR/policies/network.lua"

# The old form against a tap made beforehand: works as before.
in_ns ip tuntap add dev nvqpre0 mode tap
in_ns ip link set nvqpre0 master "$BR" up
printf 'QEMU_BIN=%s\nACCEL=auto\nNCPU=1\nMEMORY=128M\nNETWORK=nvqpre0:52:54:00:77:00:04\n' \
    "$QEMU" | vmconf n4
run "$NVQCTL" dryrun n4
like "$(echo $OUT | tr -d '\\' | tr -s ' ')" "*-netdev tap,id=net0,ifname=nvqpre0,script=no -device virtio-net-pci,netdev=net0,mac=52:54:00:77:00:04 *" \
    "tap:MAC: the argv as before"
run in_ns "$NVQCTL" start n4
is "$RC" 0 "tap:MAC: starts on the tap made beforehand"
in_ns "$NVQCTL" kill n4 >/dev/null 2>&1
like "$(in_ns ip -o link show nvqpre0)" "*nvqpre0*" \
    "and that tap is still there (it is the administrator's)"
