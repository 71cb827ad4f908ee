#!/bin/sh
# macs.t: derived and shared MACs without starting a guest: dryrun and
# status show the MAC a NIC gets; two VMs with one MAC are a FAIL in
# nvqctl host and a warning at config and start.
. "$(dirname "$0")/../lib.sh"

printf 'QEMU_BIN=/bin/false\nACCEL=tcg\n' >"$NVQCTL_CONFDIR/nvqctl.conf"
printf 'NETWORK="\n  tap0\n  user:tcp:2222:22\n"\n' | vmconf a
printf 'NETWORK=tap1\n' | vmconf b

run "$NVQCTL" dryrun a
mac0=$(printf '%s\n' "$OUT" | sed -n 's/.*netdev=net0,mac=\([0-9a-f:]*\).*/\1/p')
mac1=$(printf '%s\n' "$OUT" | sed -n 's/.*netdev=net1,mac=\([0-9a-f:]*\).*/\1/p')
like "$mac0" "52:54:??:??:??:??" "dryrun: tap0 gets a derived MAC ($mac0)"
like "$mac1" "52:54:??:??:??:??" "dryrun: the user NIC gets one too ($mac1)"
unlike "$mac0" "$mac1" "two NICs, two MACs"
like "$OUT" "*-netdev user,id=net1,hostfwd=tcp:127.0.0.1:2222-:22 *" \
    "dryrun: the forward listens on 127.0.0.1"
run "$NVQCTL" dryrun a
like "$OUT" "*mac=$mac0*" "the same MAC on the next run"
run "$NVQCTL" dryrun b
unlike "$OUT" "*mac=$mac0*" "another VM: another MAC"

run "$NVQCTL" status a
like "$OUT" "*net0: *tap tap0 $mac0 (derived)*" "status: net0, its tap and MAC"
like "$OUT" "*net1: *user $mac1 (derived) tcp 127.0.0.1:2222->22*" \
    "status: net1, user-mode, its forward"
run "$NVQCTL" status --json a
like "$OUT" "*\"nics\":\[{*\"mac\":\"$mac0\"*" "status --json: nics"

run "$NVQCTL" host
like "$OUT" "*PASS  macs: no MAC is used by two VMs*" "host: no shared MAC"

# b takes a's derived MAC by writing it.
cat >"$TMP/ed" <<EOF
#!/bin/sh
printf 'NETWORK=tap1:%s\n' "$(echo "$mac0" | tr a-f A-F)" >"\$1"

# b takes a's derived MAC by writing it.
cat >"$TMP/ed" <<EOF
#!/bin/sh
printf 'NETWORK=tap1:%s\n' "$(echo "$mac0" | tr a-f A-F)" >"\$1"
EOF
chmod +x "$TMP/ed"
EDITOR="$TMP/ed" run "$NVQCTL" config b </dev/null
is "$RC" 0 "config: the edit is saved"
like "$ERR" "*warning: MAC $mac0 is used by a at */a.conf:2 (derived) and by b at */b.conf:1*" \
    "config: a warning names both VMs and lines"
run "$NVQCTL" host
is "$RC" 1 "host: exit 1"
like "$OUT" "*FAIL  macs: MAC $mac0 is used by a at */a.conf:2 (derived) and by b at */b.conf:1*" \
    "host: FAIL for the shared MAC"
run "$NVQCTL" start b
like "$ERR" "*warning: MAC $mac0 is used by a*and by b*" \
    "start: the same warning before QEMU runs"

# MAC_SEED moves every derived MAC.
printf 'QEMU_BIN=/bin/false\nACCEL=tcg\nMAC_SEED=site-b\n' \
    >"$NVQCTL_CONFDIR/nvqctl.conf"
run "$NVQCTL" dryrun a
unlike "$OUT" "*mac=$mac0*" "MAC_SEED: another derived MAC"
