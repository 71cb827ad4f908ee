#!/bin/sh
# bigagent: a guest whose agent answers every command with 300 KB of
# error text (nvq.bigagent) cannot hold startall past its readiness
# timeout, nor flood the terminal: each line nvqctl prints stays short.
# Its post_start hook logs 256 KB too (it took startall minutes once).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

SLACK=1.5	# seconds past the readiness timeout (issue: timeout + 1 s)

guest_vm big virtio-serial nvq.bigagent
cat >>"$NVQCTL_CONFDIR/vm/big.conf" <<'CONF'
AUTOSTART=yes
BOOT_READY=agent
BOOT_READY_TIMEOUT=5
CONF
mkdir -p "$NVQCTL_CONFDIR/hooks"
cat >"$NVQCTL_CONFDIR/hooks/big.lua" <<'HOOK'
return { post_start = function(vm) vm:log("%s", ("y"):rep(256 * 1024)) end }
HOOK

t0=$(date +%s.%N)
"$NVQCTL" startall >"$TMP/out" 2>"$TMP/err"
rc=$?
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
is "$rc" 1 "startall: exit 1 (the VM was not ready)"
awk -v s="$took" -v l="$(awk -v s=$SLACK 'BEGIN{print 5 + s}')" \
    'BEGIN { exit !(s <= l) }'
ok $? "startall returned ${took}s after it began (readiness timeout 5 s + $SLACK)"
like "$(cut -c1-300 "$TMP/out")" "*big*not ready*" "the summary says big was not ready"
long=$(cat "$TMP/out" "$TMP/err" | awk 'length($0) > 20000' | wc -l)
is "$long" 0 "no printed line is longer than 20000 bytes"
# The hostile text reached nvqctl (the agent did answer), cut and said so.
like "$(cat "$TMP/out" "$TMP/err" | grep -o "[0-9]* bytes cut]" | head -1)" "*bytes cut]*" \
    "the agent's 300 KB was cut, and the cut is said"
pid=$(qemu_pid big)
ok "$([ -n "$pid" ] && ! gone "$pid" && echo 0 || echo 1)" \
    "the VM itself keeps running"
"$NVQCTL" kill big >/dev/null 2>&1
