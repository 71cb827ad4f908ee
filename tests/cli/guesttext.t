#!/bin/sh
# guesttext.t: what a guest says reaches the terminal and the log
# escaped, one event per line: a fake VM (fakevm.pl) whose agent
# answers with a hostile error desc, seen through `nvqctl agent` and
# startall (progress, summary, JSON).
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/fakevm.sh"
# fake DESC-FILE: (re)starts the fake VM f with that desc.
fake() { fake_vm f "$1"; }
vmconf f <<'CONF'
QEMU_BIN=/bin/false
ACCEL=tcg
GUEST_AGENT=yes
BOOT_READY=agent
BOOT_READY_TIMEOUT=8
CONF

# ctl TEXT: how many control bytes TEXT holds besides its newlines.
ctl() { printf '%s' "$1" | tr -d '\n' | LC_ALL=C tr -cd '\000-\037\177' | wc -c | tr -d ' '; }
utf8() { printf '%s' "$1" | perl -MEncode -e 'local $/; decode("UTF-8", <STDIN>, Encode::FB_CROAK); 1' 2>/dev/null; }

# ESC colours, a forged progress line, CR, an OSC title, a NUL, a C1
# CSI, a bidi override and bytes that are not UTF-8.
printf 'x\033[31mRED\n[   0.5s] db: ready\r\033]0;pwned\007 nul\000 c1\302\233 bidi\342\200\256 lrm\342\200\216 alm\330\234 bad\377\300\257' >"$TMP/desc"
fake "$TMP/desc"

run "$NVQCTL" agent f guest-ping
is "$RC" 1 "agent: an error reply exits 1"
is "$(ctl "$ERR")" 0 "agent: no control byte reaches the terminal"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "agent: the error is one line"
like "$ERR" '*x\\x1b\[31mRED\\n\[   0.5s\] db: ready\\r\\x1b\]0;pwned\\x07*' \
    "agent: the bytes are shown escaped"
like "$ERR" '*nul\\x00 c1\\u{009B} bidi\\u{202E} lrm\\u{200E} alm\\u{061C} bad\\xff\\xc0\\xaf' \
    "agent: NUL, C1, bidi controls and marks, bad UTF-8 escaped"
utf8 "$ERR"
ok $? "agent: the message is valid UTF-8"

run "$NVQCTL" startall f
is "$RC" 1 "startall: not ready exits 1"
is "$(ctl "$OUT")" 0 "startall: no control byte in progress or summary"
unlike "$OUT" "*
\[   0.5s\] db: ready*" "startall: the guest forged no progress line"
like "$OUT" '*f: not ready: *guest agent: x\\x1b\[31mRED\\n*' \
    "startall: the progress line shows the desc escaped"
like "$OUT" '*f  *started, not ready: *pwned\\x07*' \
    "startall: the summary shows it escaped"
is "$(printf '%s\n' "$OUT" | grep -c 'db: ready')" 2 \
    "startall: one progress line and one summary line carry it"
utf8 "$OUT"
ok $? "startall: the output is valid UTF-8"
run "$NVQCTL" startall --json f
printf '%s' "$OUT" | perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
    exit !($d->{vms}[0]{reason} =~ /pwned/)'
ok $? "startall --json: parses, and the reason is there"

# 300 KB of escape sequences: escaped in linear time.
perl -e 'print "\033]0;t\007\033[2J" x 30000' >"$TMP/desc"
fake "$TMP/desc"
t0=$(date +%s)
run "$NVQCTL" agent f guest-ping
t=$(($(date +%s) - t0))
is "$(ctl "$ERR")" 0 "agent, 300 KB of escapes: none reaches the terminal"
ok $((t > 2)) "agent, 300 KB of escapes: answered in ${t}s (bound 2s)"
t0=$(date +%s)
run "$NVQCTL" startall f
t=$(($(date +%s) - t0))
is "$(ctl "$OUT")" 0 "startall, 300 KB of escapes: none in its output"
ok $((t > 10)) "startall, 300 KB of escapes: returned in ${t}s (bound 8 + 2s)"
