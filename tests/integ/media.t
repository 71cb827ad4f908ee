#!/bin/sh
# media.t: an installer ISO (ISO, ISO_BOOT) and the VNC display with a
# real QEMU: the guest sees the CD-ROM; VNC=yes opens no TCP port and
# its socket is 0600; VNC=ADDR:PORT with a password file: the password
# is not in QEMU's argv, and the RFB handshake asks for VNC
# authentication (security type 2).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

listening() { ss -Hltn | awk '{ print $4 }' | sort; }
# vnc_ports: TCP listeners on QEMU's VNC ports (5900 + display).
vnc_ports() { listening | grep -E ':59[0-9][0-9]$'; }
# tcp_of PID: the TCP listeners of process PID (other tests' QEMUs come
# and go meanwhile: a bare before/after comparison would be theirs too).
tcp_of() { ss -Hltnp | grep "pid=$1," | awk '{ print $4 }'; }

# --- ISO with the default boot-once, VNC on a socket --------------------------
ISO=$TMP/install.iso
{ printf 'NVQ-ISO-MARK'; head -c 1048564 /dev/zero; } >"$ISO"
guest_vm iso no nvq.cidata
printf 'ISO=%s\nVNC=yes\n' "$ISO" >>"$NVQCTL_CONFDIR/vm/iso.conf"
run "$NVQCTL" dryrun iso
CD="-drive if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=$ISO"
like "$OUT" "*$CD*" \
    "dryrun: the ISO is a read-only CD-ROM"
like "$OUT" "*-boot once=d*" "dryrun: boot once from it"
SOCK=$NVQCTL_RUNDIR/iso/vnc.sock
like "$OUT" "*-vnc unix:$SOCK*" "dryrun: VNC on the socket"
before=$(vnc_ports)
run "$NVQCTL" start iso
is "$RC" 0 "start with ISO and VNC=yes: exit 0"
pid=$(qemu_pid iso)
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '-boot once=d'
ok $? "QEMU runs with -boot once=d"
is "$(tcp_of "$pid")" "" "VNC=yes: QEMU listens on no TCP port (ss -ltnp)"
is "$(vnc_ports)" "$before" "VNC=yes: no new listener on 5900-5999 (ss -ltn)"
is "$(stat -c '%a %F' "$NVQCTL_RUNDIR/iso/vnc.sock")" "600 socket" \
    "VNC=yes: vnc.sock is a socket, mode 0600"
run "$NVQCTL" vnc iso
like "$OUT" "*ssh -N -L 5900:$SOCK root@*localhost:5900*" \
    "nvqctl vnc: the ssh -L line for the socket"
run "$NVQCTL" status iso
like "$OUT" "*vnc:*unix socket $SOCK*" "status: where VNC listens"
run "$NVQCTL" status --json iso
like "$OUT" "*\"vnc\":{*\"listen\":\"$NVQCTL_RUNDIR/iso/vnc.sock\"*" \
    "status --json: where VNC listens"
wait_ready iso 90 >/dev/null 2>&1
got=$("$LUARUN" "$TOP/tests/integ/serial.lua" "$NVQCTL_RUNDIR/iso/serial.sock" \
    run 30 'head -c 12 /dev/sr0; echo' | tr -d '\r')
is "$got" "NVQ-ISO-MARK" "the guest reads the ISO on its CD-ROM (/dev/sr0)"
"$NVQCTL" kill iso >/dev/null 2>&1

# --- VNC on TCP with a password -----------------------------------------------
port=
for p in $(seq 5950 5999); do
	listening | grep -q ":$p\$" || { port=$p; break; }
done
printf 'nvq2pw\n' >"$TMP/vncpw"
chmod 644 "$TMP/vncpw"
vmconf tcp <<CONF
QEMU_BIN=$QEMU
ACCEL=tcg
MEMORY=64M
SERIAL=no
VNC=127.0.0.1:$port
VNC_PASSWORD_FILE=$TMP/vncpw
EXTRA_ARGS=-S
CONF
run "$NVQCTL" start tcp
is "$RC" 1 "a password file others can read: start refused"
like "$ERR" "*tcp.conf:6: VNC_PASSWORD_FILE:*readable by others*" \
    "a password file others can read: file:line:key"
chmod 600 "$TMP/vncpw"
run "$NVQCTL" start tcp
is "$RC" 0 "VNC on TCP with a password: start exits 0"
unlike "$ERR" "*no password*" "the password was set over QMP"
pid=$(qemu_pid tcp)
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q nvq2pw
ok $((! $?)) "the password is not in QEMU's argv (/proc/PID/cmdline)"
like "$(tr '\0' ' ' <"/proc/$pid/cmdline")" \
    "*-vnc 127.0.0.1:$((port - 5900)),password=on*" \
    "QEMU runs with -vnc on the address the config names, password=on"
is "$(tcp_of "$pid")" "127.0.0.1:$port" \
    "VNC=127.0.0.1:$port: QEMU listens there and nowhere else"
types=$(perl -MIO::Socket::INET -e 'alarm 10;
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
        PeerPort => $ARGV[0]) or die "connect: $!\n";
    read($c, my $v, 12) == 12 or die "no version\n";
    print $c "RFB 003.008\n";
    read($c, my $n, 1) == 1 or die "no types\n";
    read($c, my $t, ord $n); print join(",", unpack("C*", $t)), "\n"' "$port")
is "$types" "2" \
    "RFB handshake on $port: security type 2 (VNC authentication) only"
run "$NVQCTL" vnc tcp
like "$OUT" "*VNC on 127.0.0.1:$port (password in $TMP/vncpw)*" \
    "nvqctl vnc: the TCP address"
"$NVQCTL" kill tcp >/dev/null 2>&1
