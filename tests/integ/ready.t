#!/bin/sh
# ready: BOOT_READY conditions (lua/boot/ready.lua) against the real test
# guest, driven by ready.lua: the agent answers a few seconds after the
# start, the guest's boot line is seen on the console watched from the
# start, a local TCP listener, timeouts within their deadline, a user's
# console left alone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

SLACK=3		# seconds a wait may take past its deadline on a busy host

# within SECS LIMIT: SECS (a decimal) is at most LIMIT.
within() { awk -v s="$1" -v l="$2" 'BEGIN { exit !(s <= l) }'; }
# word N LINE: the Nth word of LINE.
word() { echo "$2" | awk -v n="$1" '{ print $n }'; }

guest_vm r1 isa-serial
echo 'BOOT_READY="serial:NVQ-GUEST-READY"' >>"$NVQCTL_CONFDIR/vm/r1.conf"

# Start, watch the console from the start, then: the agent is not up
# yet, becomes ready a few seconds later, and the boot line printed
# meanwhile was kept for the serial wait.
"$LUARUN" "$TOP/tests/integ/ready.lua" r1 start begin agent@0.5 agent@120 \
    serial:NVQ-GUEST-READY@60 started@5 >"$TMP/out" 2>"$TMP/boot.err"
is "$?" 0 "the driver started r1"
like "$(sed -n 1p "$TMP/out")" "r1: started, pid *" "r1 started"
grep -E '^(not)?ready ' "$TMP/out" >"$TMP/boot"
l1=$(sed -n 1p "$TMP/boot") l2=$(sed -n 2p "$TMP/boot")
l3=$(sed -n 3p "$TMP/boot") l4=$(sed -n 4p "$TMP/boot")
like "$l1" "notready *BOOT_READY=agent: not ready after*" \
    "agent: not ready right after the start"
within "$(word 2 "$l1")" $((1 + SLACK))
ok $? "agent: a short wait ends by its deadline ($(word 2 "$l1")s)"
like "$l2" "ready *" "agent: ready once the guest agent answers"
within 1 "$(word 2 "$l2")"
ok $? "agent: ... a few seconds after the start ($(word 2 "$l2")s)"
like "$l3" "ready *" "serial: the guest's NVQ-GUEST-READY was seen"
like "$l4" "ready *" "started: QMP answers"
[ -s "$TMP/boot.err" ] && sed 's/^/# /' "$TMP/boot.err"

# A local TCP listener that holds its connections, as a service does (one
# closed at once is no answer) (perl: socat and nc are trapped in tests).
perl -MIO::Socket::INET -e '
	$| = 1;
	my $s = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1",
	    LocalPort => 0, ReuseAddr => 1) or die "listen: $!\n";
	my $c = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0)
	    or die "bind: $!\n";
	print $s->sockport, " ", $c->sockport, "\n";
	alarm 60;
	my @held;
	while (my $a = $s->accept) { push @held, $a }' >"$TMP/ports" &
lpid=$!
i=0
while [ ! -s "$TMP/ports" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(word 1 "$(cat "$TMP/ports")") closed=$(word 2 "$(cat "$TMP/ports")")

"$LUARUN" "$TOP/tests/integ/ready.lua" r1 tcp:127.0.0.1:$port@5 \
    tcp:127.0.0.1:$closed@2 serial:NEVER-PRINTED@2 \
    serial:NVQ-GUEST-READY@2 >"$TMP/late"
l1=$(sed -n 1p "$TMP/late") l2=$(sed -n 2p "$TMP/late")
l3=$(sed -n 3p "$TMP/late") l4=$(sed -n 4p "$TMP/late")
like "$l1" "ready *" "tcp: a listening port is ready"
like "$l2" "notready *Connection refused*" "tcp: a closed port times out, saying why"
within "$(word 2 "$l2")" $((2 + SLACK))
ok $? "tcp: ... by its deadline ($(word 2 "$l2")s)"
like "$l3" "notready *serial console: 'NEVER-PRINTED' not seen*" \
    "serial: text never printed times out, saying why"
within "$(word 2 "$l3")" $((2 + SLACK))
ok $? "serial: ... by its deadline ($(word 2 "$l3")s)"
# What QEMU wrote while nobody listened is gone: why begin() comes first.
like "$l4" "notready *" "serial: the boot line is not seen by a late watcher"
kill "$lpid" 2>/dev/null

# A user attached with nvqctl console keeps it: "console in use".
sleep 6 | "$NVQCTL" console r1 >/dev/null 2>&1 &
cpid=$!
i=0
until ! echo "assert(require('nvq.core').lock('$NVQCTL_RUNDIR/r1/console.lock',
    require('nvq.core').now()))" | "$LUARUN" - 2>/dev/null || [ $i -gt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
"$LUARUN" "$TOP/tests/integ/ready.lua" r1 serial:login@1 >"$TMP/busy"
like "$(cat "$TMP/busy")" "notready *console in use (a user is attached*" \
    "serial: a user's console is not taken"
wait "$cpid"

# A stopped QEMU answers neither QMP nor the agent: bounded timeouts.
pid=$(qemu_pid r1)
kill -STOP "$pid"
"$LUARUN" "$TOP/tests/integ/ready.lua" r1 started@2 agent@2 >"$TMP/stopped"
kill -CONT "$pid"
l1=$(sed -n 1p "$TMP/stopped") l2=$(sed -n 2p "$TMP/stopped")
like "$l1" "notready *BOOT_READY=started: not ready after*" \
    "started: a SIGSTOPped QEMU is not ready"
within "$(word 2 "$l1")" $((2 + SLACK))
ok $? "started: ... by its deadline ($(word 2 "$l1")s)"
like "$l2" "notready *BOOT_READY=agent: not ready after*" \
    "agent: a SIGSTOPped QEMU is not ready"
within "$(word 2 "$l2")" $((2 + SLACK))
ok $? "agent: ... by its deadline ($(word 2 "$l2")s)"

# QEMU gone: not ready at once, not at the deadline.
kill -KILL "$pid"
while ! gone "$pid"; do sleep 0.1; done
"$LUARUN" "$TOP/tests/integ/ready.lua" r1 agent@30 >"$TMP/gone"
like "$(cat "$TMP/gone")" "notready *QEMU is not running*" \
    "a VM whose QEMU is gone is not ready"
within "$(word 2 "$(cat "$TMP/gone")")" 2
ok $? "... at once ($(word 2 "$(cat "$TMP/gone")")s)"
