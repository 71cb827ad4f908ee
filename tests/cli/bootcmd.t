#!/bin/sh
# bootcmd.t: startall and stopall where no QEMU is needed: usage errors,
# refusals before anything starts, the dry-run plan and its JSON, an
# empty set, and a broken boot policy override.
. "$(dirname "$0")/../lib.sh"

VMDIR="$NVQCTL_CONFDIR/vm"
conf() {	# conf NAME KEY=VALUE...
	_n=$1
	shift
	printf 'QEMU_BIN=/bin/false\nACCEL=tcg\nSERIAL=yes\nGUEST_AGENT=yes\n' >"$VMDIR/$_n.conf"
	for _kv in "$@"; do echo "$_kv" >>"$VMDIR/$_n.conf"; done
}

run "$NVQCTL" stopall --timeout soon
is "$RC" 2 "stopall --timeout soon: exit 2"
like "$ERR" "*timeout must be a whole number of seconds*usage: nvqctl stopall*" \
    "stopall --timeout soon: says why, with usage"
# Seconds are plain decimal: what tonumber would also take is refused.
for v in ' 5' '5 ' 0x10 1e1 5.0 +5 inf; do
	run "$NVQCTL" stopall --dry-run --timeout "$v"
	is "$RC" 2 "stopall --timeout '$v': a usage error"
	run "$NVQCTL" stop nosuch "$v"
	like "$RC:$ERR" "2:*timeout must be a whole number of seconds*" \
	    "stop VM '$v': a usage error"
	run "$NVQCTL" agent --timeout "$v" nosuch guest-ping
	is "$RC" 2 "agent --timeout '$v': a usage error"
done
for v in 0x10 ' 1' 1e1 nan; do
	run "$NVQCTL" top -n 1 "$v"
	is "$RC" 2 "top '$v': a usage error"
done
run "$NVQCTL" top -n 0x1 0.5
is "$RC" 2 "top -n 0x1: a usage error"
run "$NVQCTL" stopall --dry-run --timeout 5
is "$RC" 0 "stopall --timeout 5: accepted"

run "$NVQCTL" startall 'no/such'
is "$RC" 2 "startall with an invalid name: exit 2"
run "$NVQCTL" startall --frob
is "$RC" 2 "startall --frob: exit 2"

run "$NVQCTL" startall
is "$RC" 0 "startall with no AUTOSTART VM: exit 0"
like "$OUT" "*no VM to start*" "startall with no AUTOSTART VM: says so"
run "$NVQCTL" stopall --json
is "$RC" 0 "stopall with nothing running: exit 0"
like "$OUT" '*"vms":[]*' "stopall --json with nothing running: an empty array"

conf db AUTOSTART=yes BOOT_ORDER=10 BOOT_READY=agent BOOT_READY_TIMEOUT=30 BOOT_DELAY=5
conf web AUTOSTART=yes BOOT_REQUIRES=db "BOOT_READY=tcp:127.0.0.1:80"
conf app AUTOSTART=yes 'BOOT_AFTER="db web"' "BOOT_READY=serial:login:"
conf spare
run "$NVQCTL" startall -n
is "$RC" 0 "startall -n: exit 0"
like "$OUT" "*wave 1 (BOOT_ORDER 10): db
*db: would start: ready when the guest agent answers (up to 30s); then 5s delay
*wave 2 (BOOT_ORDER 100): app web
*web: would start: ready when TCP 127.0.0.1:80 connects (up to 120s); requires db
*app: would start: ready when serial shows \"login:\" (up to 120s); after db web
*worst case: 275s until the last VM is ready" "startall -n: the plan"
unlike "$OUT" "*spare*" "startall -n: a VM without AUTOSTART is not in it"
run "$NVQCTL" startall --dry-run --json spare db
is "$RC" 0 "startall --dry-run --json: exit 0"
like "$OUT" '{*"dry_run":true*}' "startall --dry-run --json: marked a dry run"
like "$OUT" '*"elapsed_s":35*' "startall --dry-run --json: the worst case in elapsed_s"
like "$ERR" "*spare: would start*" "startall --dry-run --json: the plan on stderr"

# Refused before anything starts.
conf web AUTOSTART=yes BOOT_REQUIRES=dbb
run "$NVQCTL" startall -n
is "$RC" 1 "an unknown BOOT_REQUIRES name: exit 1"
like "$ERR" "*web.conf:*BOOT_REQUIRES*dbb*" "an unknown name: file, line, key"
conf web AUTOSTART=yes BOOT_REQUIRES=app
run "$NVQCTL" startall -n db
is "$RC" 1 "a cycle: exit 1"
like "$ERR" "*app -> web -> app*" "a cycle: named whole"
is "$OUT" "" "a cycle: no plan printed"
conf web AUTOSTART=yes
run "$NVQCTL" startall -n db nosuch
is "$RC" 1 "an unknown VM: exit 1"
like "$ERR" "*no such VM: nosuch*" "an unknown VM: named"
run "$NVQCTL" startall -n db db
is "$RC" 1 "a VM named twice: exit 1"

# A broken override is reported as file:line, and the summary still comes.
mkdir -p "$NVQCTL_CONFDIR/policies"
printf 'return { startall = function(api, vms)\n\terror("boom")\nend }\n' \
    >"$NVQCTL_CONFDIR/policies/boot.lua"
run "$NVQCTL" startall db
is "$RC" 1 "a failing boot policy: exit 1"
like "$ERR" "*boot policy failed:*policies/boot.lua:2: boom*" \
    "a failing boot policy: file:line and message"
like "$OUT" "*db *not started*" "a failing boot policy: db not started"
echo 'return {}' >"$NVQCTL_CONFDIR/policies/boot.lua"
run "$NVQCTL" stopall db
is "$RC" 1 "a policy without stopall(): exit 1"
like "$ERR" "*does not export stopall()*" "a policy without stopall(): says so"

# A config that does not load costs that VM and what requires it, not
# the others: reported with its file:line, its dependant skipped.
rm -f "$NVQCTL_CONFDIR/policies/boot.lua"
conf web AUTOSTART=yes BOOT_REQUIRES=db
echo "MEMORY=lots" >>"$VMDIR/db.conf"
run "$NVQCTL" startall -n
is "$RC" 1 "a broken config: the dry run still plans, and exits 1 as startall would"
like "$ERR" "*db.conf:*MEMORY*" "a broken config: file:line:key on stderr"
like "$OUT" "*db: cannot start: *db.conf:*MEMORY*" "a broken config: in the plan"
like "$OUT" "*web: skipped: requires db, which failed*" "a broken config: its dependant skipped"
like "$OUT" "*app: would start*" "a broken config: the others planned"
run "$NVQCTL" startall -n --json
like "$RC:$OUT" '1:*"dry_run":true*' "a broken config: --dry-run --json exits 1"
like "$(printf '%s' "$OUT" | sed 's/"vms":\[.*\]//')" '*"ok":false*' \
    "... and says ok false"

# A message from below that names the VM is not prefixed with it twice.
conf s4
run "$NVQCTL" startall s4
like "$OUT" "*] s4: failed: QEMU failed to start*" \
    "progress: the VM named once"
unlike "$OUT" "*s4: *s4: *" "progress and summary: never 's4: ... s4: '"
like "$OUT" "*
s4 *failed: QEMU failed to start*" "summary: the VM named once"

# A tcp: target that already answers on the host before the VM runs:
# the dry run says its readiness cannot be told there.
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(Listen => 5,
    LocalAddr => "127.0.0.1", LocalPort => 0) or die; $| = 1;
    print $s->sockport, "\n"; alarm 30; sleep 30' >"$TMP/port" &
lpid=$!
n=0
until [ -s "$TMP/port" ] || [ $n -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
port=$(cat "$TMP/port")
conf taken "BOOT_READY=tcp:127.0.0.1:$port"
run "$NVQCTL" startall -n taken
like "$OUT" "*taken: would start: *but 127.0.0.1:$port already accepts connections before the VM runs*" \
    "dry run: a tcp: target already open on the host is named"
kill $lpid
conf free "BOOT_READY=tcp:127.0.0.1:$port"
run "$NVQCTL" startall -n free
unlike "$OUT" "*already accepts*" "dry run: a closed tcp: target is not"
