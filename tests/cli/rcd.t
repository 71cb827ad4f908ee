#!/bin/sh
# rc.d/nvqctl: the nvqctl commands it runs for start, stop and status
# under each rc.conf setting, the boot wait and its log, what a disabled
# script does (through rc and rc.shutdown, and called by hand), the
# one/force/fast prefixes, rcvar and restart, and the path that make
# install writes into it.  The script runs under dash after a stand-in
# rc.subr that behaves as NetBSD's does in these cases: through
# run_rc_script as rc(8) and rc.shutdown run it, or as a command of its
# own; a recording stand-in nvqctl is first in PATH (the script from
# the source tree, placeholder not substituted, finds nvqctl in PATH).
. "$(dirname "$0")/../lib.sh"
SCRIPT="$TOP/rc.d/nvqctl"
STANDIN="$TOP/tests/cli/rcd"
if command -v dash >/dev/null 2>&1; then
	SH=dash
else
	SH=sh
	diag "no dash here: the script runs under sh"
fi
mkdir -p "$TMP/bin"
cp "$STANDIN/nvqctl" "$TMP/bin/nvqctl"
PATH="$TMP/bin:$PATH"
RCD_CONF="$TMP/rc.conf"
STUB_LOG="$TMP/calls"
export RCD_CONF STUB_LOG

# rc_conf LINE...: the test's rc.conf; every case starts from a new one
# and an empty record of calls.
rc_conf() {
	printf '%s\n' "$@" >"$RCD_CONF"
	: >"$STUB_LOG"
}

# rcd ACTION: runs the script as rc(8) and rc.shutdown do, through
# run_rc_script (a disabled script is then skipped without a word).
rcd() {
	$SH -c '. "$1"; run_rc_script "$2" "$3"' \
	    rcd "$STANDIN/rc.subr" "$SCRIPT" "$1"
}

# direct ACTION: /etc/rc.d/nvqctl ACTION, typed by hand: a copy of the
# script that reads the stand-in rc.subr, run as a program of its own
# (restart runs it again as $0).
mkdir -p "$TMP/rc.d"
DIRECT="$TMP/rc.d/nvqctl"
printf '#!%s\n' "$(command -v $SH)" >"$DIRECT"
sed -e '1d' -e "s|/etc/rc.subr|$STANDIN/rc.subr|" "$SCRIPT" >>"$DIRECT"
chmod 755 "$DIRECT"
direct() { "$DIRECT" "$@"; }

calls() { cat "$STUB_LOG"; }

run $SH -n "$SCRIPT"
is "$RC$ERR" 0 "$SH -n accepts the script"
run sh -n "$SCRIPT"
is "$RC$ERR" 0 "sh -n accepts the script"
grep -q '/usr/local/sbin/nvqctl' "$SCRIPT"
ok $((!$?)) "the command path is not /usr/local/sbin/nvqctl"

# Enabled, no VMs named: the AUTOSTART VMs, every running VM.
rc_conf 'nvqctl=YES' "nvqctl_log=$TMP/nvqctl.log"
run rcd start
is "$RC" 0 "start: exit 0"
is "$(calls)" "[startall]" "start runs 'nvqctl startall'"
like "$OUT" "*stand-in: startall done*" "start shows startall's output"
: >"$STUB_LOG"
run rcd stop
is "$RC" 0 "stop: exit 0"
is "$(calls)" "[stopall]" \
    "stop runs 'nvqctl stopall': no --timeout, no --force of its own"
: >"$STUB_LOG"
run rcd status
is "$RC" 0 "status: exit 0"
is "$(calls)" "[list]" "status runs 'nvqctl list', once"
like "$OUT" "*stand-in: list done*" "status shows the list"
run direct
is "$(echo "$ERR" | tr '|()' '\n\n\n' | grep -c '^status$')" 1 \
    "rc.subr offers status once"
like "$ERR" "Usage: $DIRECT \[fast|force|one\](start|stop|restart|rcvar|status)" \
    "no action: rc.subr's usage, with the prefixes"

# nvqctl_vms: those VMs, in that order, to startall; stop stops every
# running VM, listed or not.
rc_conf 'nvqctl=YES' 'nvqctl_vms="db web cache"' \
    "nvqctl_log=$TMP/nvqctl.log"
run rcd start
is "$(calls)" "[startall][db][web][cache]" \
    "start: nvqctl_vms passed in their order"
: >"$STUB_LOG"
run rcd stop
is "$(calls)" "[stopall]" \
    "stop: every running VM, not only nvqctl_vms"

# A failing startall or stopall is the action's failure.
rc_conf 'nvqctl=YES' "nvqctl_log=$TMP/nvqctl.log"
export STUB_EXIT=1
run rcd start
is "$RC" 1 "start fails when startall exits 1"
run rcd stop
is "$RC" 1 "stop fails when stopall exits 1"
unset STUB_EXIT

# A log that cannot be written: startall's status and output still come
# back (through a temporary file), without waiting out the boot wait.
rc_conf 'nvqctl=YES' "nvqctl_log=$TMP/nonexistent/nvqctl.log" \
    'nvqctl_boot_wait=20'
t0=$(date +%s)
run env STUB_EXIT=1 TMPDIR="$TMP" $SH -c '_subr=$1 _script=$2; shift 2; . "$_subr"; . "$_script"' \
    rcd "$STANDIN/rc.subr" "$SCRIPT" start
is "$RC" 1 "unwritable log: startall's failure is still the action's"
[ $(($(date +%s) - t0)) -lt 10 ]
ok $? "unwritable log: no wait for nvqctl_boot_wait"
like "$ERR" "*cannot write $TMP/nonexistent/nvqctl.log*goes to $TMP/nvqctl.*" \
    "unwritable log: says where the output went"
like "$OUT" "*stand-in: startall done*" "unwritable log: output shown"

# The stop deadline.
rc_conf 'nvqctl=YES' 'nvqctl_shutdown_timeout=90'
run rcd stop
is "$(calls)" "[stopall][--timeout][90]" \
    "nvqctl_shutdown_timeout becomes stopall --timeout"
rc_conf 'nvqctl=YES' 'rcshutdown_timeout=60'
run rcd stop
is "$(calls)" "[stopall][--timeout][45]" \
    "rcshutdown_timeout=60 alone: --timeout 45"
rc_conf 'nvqctl=YES' 'rcshutdown_timeout=60' 'nvqctl_shutdown_timeout=120'
run rcd stop
is "$(calls)" "[stopall][--timeout][45]" \
    "rcshutdown_timeout=60 cuts nvqctl_shutdown_timeout=120 to 45"
rc_conf 'nvqctl=YES' 'rcshutdown_timeout=60' 'nvqctl_shutdown_timeout=30'
run rcd stop
is "$(calls)" "[stopall][--timeout][30]" \
    "nvqctl_shutdown_timeout=30 is kept below rcshutdown_timeout=60"
rc_conf 'nvqctl=YES' 'rcshutdown_timeout=10'
run rcd stop
is "$(calls)" "[stopall][--timeout][1]" "rcshutdown_timeout=10: --timeout 1"
like "$ERR" "*WARNING*rcshutdown_timeout=10*" "... with a warning"
rc_conf 'nvqctl=YES' 'nvqctl_shutdown_timeout=2m' 'nvqctl_force=NO'
run rcd stop
is "$(calls)" "[stopall]" "a bad nvqctl_shutdown_timeout is left out"
like "$ERR" "*WARNING*nvqctl_shutdown_timeout=2m*" "... with a warning"
like "$ERR" "*WARNING*nvqctl_force*HOST_SHUTDOWN_FORCE*" \
    "nvqctl_force: a warning pointing to HOST_SHUTDOWN_FORCE"

# Disabled, through rc and rc.shutdown: nothing at all, not a word.
# rc.shutdown does not call stop: VMs started by hand keep running.
rc_conf 'nvqctl=NO' 'nvqctl_vms="db web"'
for a in start stop status; do
	run rcd $a
	is "$RC:$(calls):$OUT$ERR" "0::" "nvqctl=NO: rc's $a runs nothing, silently"
done

# Disabled, called by hand: rc.subr's refusal, exit 1, nothing run.
for a in start stop restart status; do
	run direct $a
	is "$RC:$(calls)" "1:" "nvqctl=NO: $a by hand exits 1, runs nothing"
	like "$ERR" "\$nvqctl is not enabled - see rc.conf(5).
Use the following if you wish to perform the operation:
  $DIRECT one$a" "nvqctl=NO: $a by hand says not enabled, and how"
done
run direct frob
like "$RC:$ERR" "1:$DIRECT: unknown directive 'frob'.*Usage: *" \
    "nvqctl=NO: an unknown action is still unknown"

# The prefixes: one and force run a disabled script, fast too when it
# is enabled; force makes a failing method not fail the action.
run direct onestart
is "$RC:$(calls)" "0:[startall][db][web]" "onestart: startall while nvqctl=NO"
: >"$STUB_LOG"
run direct onestop
is "$RC:$(calls)" "0:[stopall]" "onestop: stopall while nvqctl=NO"
: >"$STUB_LOG"
run env STUB_EXIT=1 "$DIRECT" forcestop
is "$RC:$(calls)" "0:[stopall]" "forcestop: stopall, its failure ignored"
: >"$STUB_LOG"
run env STUB_EXIT=1 "$DIRECT" onestop
is "$RC" 1 "onestop: a failing stopall fails it"
rc_conf 'nvqctl=YES'
run direct faststop
is "$RC:$(calls)" "0:[stopall]" "faststop: stopall"

# rcvar: the variable and its value, enabled or not.
rc_conf 'nvqctl=NO'
run direct rcvar
is "$RC:$OUT" "0:# nvqctl
\$nvqctl=NO" "rcvar, disabled"
rc_conf 'nvqctl=YES'
run direct rcvar
is "$RC:$OUT" "0:# nvqctl
\$nvqctl=YES" "rcvar, enabled"

# restart: stop, then start, each by the script run again as $0, a
# process of its own.
RCD_TRACE="$TMP/trace"
export RCD_TRACE
rc_conf 'nvqctl=YES' "nvqctl_log=$TMP/nvqctl.log"
: >"$RCD_TRACE"
run direct restart
is "$RC:$(calls)" "0:[stopall]
[startall]" "restart: stopall, then startall"
is "$(cut -d' ' -f2 "$RCD_TRACE" | tr '\n' ' ')" "restart stop start " \
    "restart: the actions in order"
is "$(cut -d' ' -f1 "$RCD_TRACE" | sort -u | wc -l | tr -d ' ')" 3 \
    "restart: stop and start each ran in a process of its own"
rc_conf 'nvqctl=NO' "nvqctl_log=$TMP/nvqctl.log"
run direct onerestart
is "$RC:$(calls)" "0:[stopall]
[startall]" "onerestart: the prefix is kept for stop and start"
unset RCD_TRACE

# The boot wait: startall takes 5 s, the boot waits 1.  The output is
# read through a pipe, and descriptor 9 leads there too, as rc(8)'s
# post-processor may: the start must not hold either open.
LOG="$TMP/boot.log"
rc_conf 'nvqctl=YES' 'nvqctl_boot_wait=1' "nvqctl_log=$LOG"
t0=$(date +%s)
out=$(export STUB_SLEEP=5; rcd start 2>&1 9>&1)
rc=$?
t1=$(date +%s)
is "$rc" 0 "boot wait: start exits 0 while startall goes on"
ok $(($t1 - $t0 > 3)) "boot wait 1 s: start returns in $(($t1 - $t0)) s (<= 3)"
like "$out" "*stand-in: startall begins*" \
    "what startall printed in time is shown"
like "$out" "*background*$LOG*" "a line says it goes on, logging to $LOG"
unlike "$out" "*stand-in: startall done*" "the rest is not shown"
n=0
until grep -q 'startall ended' "$LOG" 2>/dev/null || [ $n -ge 30 ]; do
	sleep 1
	n=$((n + 1))
done
log=$(cat "$LOG")
like "$log" "*stand-in: startall done*" "the log gets the rest"
like "$log" "*startall ended: exit 0*" "the log says how startall ended"
is "$(calls)" "[startall]" "startall ran once"

# A startall that ends in time is waited for: its status is the start's.
rc_conf 'nvqctl=YES' 'nvqctl_boot_wait=30' "nvqctl_log=$LOG"
t0=$(date +%s)
out=$(export STUB_SLEEP=1 STUB_EXIT=1; rcd start 2>&1 9>&1)
rc=$?
t1=$(date +%s)
is "$rc" 1 "startall that ends in time: its failure is the start's"
ok $(($t1 - $t0 > 5)) "... returning when it ends ($(($t1 - $t0)) s, <= 5)"
like "$out" "*stand-in: startall done*" "... with all of its output"
unlike "$out" "*background*" "... and no background"

# Two starts at once share the log; each waits for its own startall: the
# first one's failure, logged while the second waits, is not the second's.
(export STUB_SLEEP=1 STUB_EXIT=1; rcd start >/dev/null 2>&1) &
first=$!
sleep 0.3 2>/dev/null || sleep 1
(export STUB_SLEEP=3; rcd start >/dev/null 2>&1)
is "$?" 0 "two starts at once: the second gets its own startall's status"
wait $first
is "$?" 1 "... and the first its own"

# make install writes the command path into the rc.d script and the
# systemd unit: tests/cli/install.t.
