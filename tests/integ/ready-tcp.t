#!/bin/sh
# ready-tcp.t: BOOT_READY=tcp: means the guest's service answered, with
# both NIC kinds, against the real guest: through a user-mode forward
# (QEMU accepts on the host before the guest has booted), the VM is
# ready only once the guest's listener (nvq.listen) runs, and never
# without one; over a tap on a bridge (as root), once the guest's
# listener runs.  And a guest that prints the serial TEXT and powers off
# at once (nvq.readyoff) is not ready.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

GPORT=7777
# A free port on the host for the forward.
HPORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
    LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')

# netvm NAME READY NETWORK EXTRA SWITCHES...: the test guest without an
# agent, ready on READY, with NETWORK and QEMU arguments EXTRA.
netvm() {
	_name=$1 _ready=$2 _net=$3 _extra=$4
	shift 4
	guest_vm "$_name" no "$@"
	sed -i "s|^EXTRA_ARGS=\"|&$_extra |" "$NVQCTL_CONFDIR/vm/$_name.conf"
	printf 'NETWORK=%s\nBOOT_READY=%s\nBOOT_READY_TIMEOUT=40\n' \
	    "$_net" "$_ready" >>"$NVQCTL_CONFDIR/vm/$_name.conf"
}

# ready_case NAME HOST LABEL PORT: startall NAME is ready once the guest's
# listener runs (the guest boots for a second at least), and the service
# answers when it is.
ready_case() {
	run "$NVQCTL" startall "$1"
	is "$RC" 0 "$3: startall exits 0"
	s=$(secs "$1")
	at_least "$s" 1.0
	ok $? "$3: ready once the guest's listener runs (${s:-never}s), not before"
	is "$(echoes "$2" "$4")" "ping" "$3: the guest's service answers when ready is said"
	"$NVQCTL" kill "$1" >/dev/null 2>&1
}

# secs NAME: the seconds in startall's "NAME: ready (Ns)" line.
secs() { printf '%s\n' "$OUT" | sed -n "s/.*] $1: ready (\([0-9.]*\)s).*/\1/p"; }
# echoes HOST PORT: what the service sends back to "ping".
echoes() {
	perl -MIO::Socket::INET -e 'alarm 10; my $c = IO::Socket::INET->new(
	    PeerAddr => $ARGV[0], PeerPort => $ARGV[1]) or exit 1;
	    print $c "ping\n"; my $l = <$c>; print $l' "$1" "$2"
}
at_least() { awk -v s="$1" -v l="$2" 'BEGIN { exit !(s != "" && s >= l) }'; }

UFWD="-netdev user,id=u0,hostfwd=tcp:127.0.0.1:$HPORT-:$GPORT -device virtio-net-pci,netdev=u0"

# --- user-mode forward, the guest's listener comes up with its boot ---------
netvm u1 "tcp:127.0.0.1:$HPORT" "" "$UFWD" nvq.ip=10.0.2.15/24 nvq.listen=$GPORT
ready_case u1 127.0.0.1 user-mode $HPORT

# --- user-mode forward, nothing listens in the guest --------------------------
netvm u2 "tcp:127.0.0.1:$HPORT" "" "$UFWD" nvq.ip=10.0.2.15/24
sed -i 's/^BOOT_READY_TIMEOUT=.*/BOOT_READY_TIMEOUT=12/' "$NVQCTL_CONFDIR/vm/u2.conf"
run "$NVQCTL" startall u2
is "$RC" 1 "user-mode, no listener: startall exits 1"
like "$OUT" "*u2: not ready: BOOT_READY=tcp:127.0.0.1:$HPORT: not ready after*" \
    "user-mode, no listener: not ready, though QEMU accepts on the host"
"$NVQCTL" kill u2 >/dev/null 2>&1

# --- a guest that says its TEXT and powers off at once ------------------------
netvm off '"serial:NVQ-GUEST-READY"' "" "" nvq.readyoff
run "$NVQCTL" startall off
is "$RC" 1 "readyoff: startall exits 1"
like "$OUT" "*off: not ready: BOOT_READY=serial:NVQ-GUEST-READY: *QEMU*" \
    "readyoff: a guest gone right after its TEXT is not ready"
unlike "$OUT" "*off: ready*" "readyoff: never said ready"

# --- tap on a bridge (root only) --------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	ok 0 "# SKIP tap on a bridge: needs root and ip(8)"
else
	n=$(( $$ % 200 + 20 ))
	BR=nvqb$$ TAP=nvqt$$
	NET=169.254.$n
	net_cleanup() {
		ip link del "$TAP" 2>/dev/null
		ip link del "$BR" 2>/dev/null
	}
	# Every exit path: the guests go first, then the interfaces.
	all_cleanup() { guest_cleanup; net_cleanup; }
	T_CLEANUP_HOOK=all_cleanup
	if ip link add "$BR" type bridge && ip tuntap add dev "$TAP" mode tap &&
	    ip link set "$TAP" master "$BR" && ip link set "$TAP" up &&
	    ip link set "$BR" up && ip addr add "$NET.1/24" dev "$BR"; then
		netvm t1 "tcp:$NET.2:$GPORT" "$TAP" "" nvq.ip=$NET.2/24 nvq.listen=$GPORT
		ready_case t1 "$NET.2" tap $GPORT
	else
		ok 1 "tap on a bridge: could not make $BR and $TAP"
	fi
	net_cleanup
	ip link show "$BR" >/dev/null 2>&1
	ok $((!$?)) "the bridge $BR is gone"
fi
