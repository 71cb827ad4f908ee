#!/bin/sh
# forced.t: a stop waiting on the guest (ACPI) whose VM another command
# forces meanwhile (stopall at its deadline, with QMP quit) says what
# really ended it.  The VM is a fake (fakevm.pl) that ignores ACPI and
# ends on QMP quit, as QEMU does.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/fakevm.sh"
: >"$TMP/desc"
fake_vm f "$TMP/desc"
printf 'QEMU_BIN=/bin/false\nACCEL=tcg\nGUEST_AGENT=no\nSHUTDOWN_TIMEOUT=30\n' | vmconf f

"$NVQCTL" stop f >"$TMP/stop.out" 2>"$TMP/stop.err" &
stopper=$!
sleep 1
run "$NVQCTL" stopall --timeout 2
like "$OUT" "*f *stopped by quit (forced)*" "stopall: forced f with QMP quit"
n=0
while kill -0 $stopper 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
wait $stopper
is "$?" 0 "the manual stop: exit 0"
like "$(cat "$TMP/stop.out")" "*f: stopped by quit after*" \
    "the manual stop says quit ended it"
unlike "$(cat "$TMP/stop.out")" "*stopped by acpi*" "... not acpi"
like "$(cat "$TMP/stop.err")" "*f: forced (quit) by another nvqctl command while this stop waited on acpi*" \
    "... and why"
[ -e "$NVQCTL_RUNDIR/f/forced" ]
ok $((!$?)) "the record of the forcing goes with the run's other files"
