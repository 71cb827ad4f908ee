#!/bin/sh
# stopall during a startall (the host shut down while it boots): the
# startall is ended first (found by its lock, SIGTERM), then everything
# running is stopped, what it had started included, and nothing starts
# afterwards; the same through rc.d/nvqctl (boot wait, then stop) under
# the stand-in rc.subr.  A startall is refused while a stopall runs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

printf 'BOOT_PARALLEL=1\nHOST_SHUTDOWN_TIMEOUT=40\n' >"$NVQCTL_CONFDIR/nvqctl.conf"
for n in a1 a2 a3; do
	guest_vm $n virtio-serial
	printf 'MEMORY=128M\nBOOT_READY=agent\nAUTOSTART=yes\n' \
	    >>"$NVQCTL_CONFDIR/vm/$n.conf"
done

"$NVQCTL" startall >"$TMP/sa.out" 2>"$TMP/sa.err" &
spid=$!
sleep 1
t0=$(now)
run "$NVQCTL" stopall
t=$(secs "$t0" "$(now)")
n=$(running_count)
is "$n" 0 "stopall 1 s into a startall: no QEMU left when it returns (${t}s)"
[ "$n" -eq 0 ] || diag "$OUT" "$ERR"
like "$OUT" "*ending startall (pid $spid) first*" "stopall says it ends the startall"
wait $spid
is "$?" 1 "the startall ended: exit 1"
like "$(cat "$TMP/sa.err")" "*interrupted by SIGTERM*" "the startall says why"
unlike "$(cat "$TMP/sa.out")" "*a2: started*" "the startall started nothing after"

# rc.d/nvqctl as the host runs it: start with a 1 s boot wait (startall
# goes on in the background), then stop at once.
cat >"$TMP/rc.conf" <<EOF2
nvqctl=YES
nvqctl_boot_wait=1
nvqctl_log=$TMP/nvqctl.log
EOF2
RCD_CONF="$TMP/rc.conf"
export RCD_CONF
rcd() {
	PATH="$TOP:$PATH" sh -c '_subr=$1 _script=$2; shift 2; . "$_subr"; . "$_script"' \
	    rcd "$TOP/tests/cli/rcd/rc.subr" "$TOP/rc.d/nvqctl" "$@"
}
run rcd start
like "$OUT" "*Starting VMs*" "rc.d start: returned after its boot wait"
t0=$(now)
run rcd stop
t=$(secs "$t0" "$(now)")
n=$(running_count)
is "$n" 0 "rc.d stop right after start: no QEMU left when it returns (${t}s)"
[ "$n" -eq 0 ] || diag "$OUT" "$ERR" "$(cat "$TMP/nvqctl.log")"
like "$(cat "$TMP/nvqctl.log")" "*startall ended: exit 1*" \
    "rc.d: the background startall ended (exit 1 in the log)"

# A startall while a stopall runs is refused.
"$NVQCTL" start a1 >/dev/null 2>&1
"$NVQCTL" stopall >"$TMP/so.out" 2>&1 &
sopid=$!
sleep 0.5
run "$NVQCTL" startall
is "$RC" 1 "startall during a stopall: exit 1"
like "$ERR" "*stopall (pid $sopid) is running*" "startall during a stopall: says why"
wait $sopid

sleep 15
is "$(running_count)" 0 "15 s later: no QEMU started afterwards"
