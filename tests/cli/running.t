#!/bin/sh
# running.t: list, status and top show what a running VM runs with (the
# config it was started with, kept in its run directory), not what its
# file was edited to say since, and mark the change that waits for a
# restart.  The running VM is a fake (fakevm.pl): no QEMU needed.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/fakevm.sh"
: >"$TMP/desc"
fake_vm r "$TMP/desc"

# Started with 128M and 1 CPU (the copy start keeps), edited since.
printf 'QEMU_BIN=/bin/false\nACCEL=tcg\nMEMORY=128M\nNCPU=1\n' \
    >"$NVQCTL_RUNDIR/r/started.conf"
: >"$NVQCTL_RUNDIR/r/started-global.conf"
echo tcg >"$NVQCTL_RUNDIR/r/accel"
vmconf r <<'CONF'
QEMU_BIN=/bin/false
ACCEL=tcg
MEMORY=4G
NCPU=8
CONF

row() { printf '%s\n' "$OUT" | grep "^$1 "; }
run "$NVQCTL" list
is "$RC" 0 "list: exit 0"
like "$(row r)" "r *running *[0-9]* *1 *128M *tcg  \*" \
    "list: the CPUs and memory it runs with, marked"
like "$OUT" "*
\* runs with the config it was started with; its file now differs*" \
    "list: the mark explained"
run "$NVQCTL" list --json
like "$OUT" '*"vcpus":1*' "list --json: vcpus it runs with"
like "$OUT" '*"memory_mib":128*' "list --json: memory it runs with"
like "$OUT" '*"pending_change":\["MEMORY","NCPU"\]*' "list --json: the pending keys"

run "$NVQCTL" status r
like "$OUT" "*vcpus: *1
*memory: *128M*" "status: what it runs with"
like "$OUT" "*pending: *the config file changes MEMORY, NCPU (restart to apply)*" \
    "status: the pending change"
run "$NVQCTL" status --json r
like "$OUT" '*"pending_change":\["MEMORY","NCPU"\]*' "status --json: the pending keys"

run "$NVQCTL" top -n 1 --json
like "$OUT" '*"memory_mib":128*' "top --json: memory it runs with"
like "$OUT" '*"pending_change":\["MEMORY","NCPU"\]*' "top --json: the pending keys"
run "$NVQCTL" top -n 1
like "$OUT" "*
r\* *running *" "top: the row marked"

# The file back as it was started: nothing pending.
printf 'QEMU_BIN=/bin/false\nACCEL=tcg\nMEMORY=128M\nNCPU=1\n# a comment\n' \
    >"$NVQCTL_CONFDIR/vm/r.conf"
run "$NVQCTL" list --json
like "$OUT" '*"pending_change":\[\]*' "a comment is no pending change"
run "$NVQCTL" list
unlike "$OUT" "*\**" "list: no mark"
