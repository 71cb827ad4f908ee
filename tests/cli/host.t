#!/bin/sh
# host.t: nvqctl host: one line per check, exit 1 on a FAIL, --json the
# same checks; QEMU is asked only for its --version, never started.
. "$(dirname "$0")/../lib.sh"

# A QEMU that records every argv and answers only --version.
mkdir -p "$TMP/bin"
QLOG="$TMP/qemu.log"
cat >"$TMP/bin/qemu" <<EOF
#!/bin/sh
echo "\$*" >>"$QLOG"
if [ "\$1" = --version ]; then
	echo 'QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)'
	echo 'Copyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers'
	exit 0
fi
exit 1
EOF
chmod 755 "$TMP/bin/qemu"
FAKE="$TMP/bin/qemu"
GLOBAL="$NVQCTL_CONFDIR/nvqctl.conf"
chmod 755 "$NVQCTL_CONFDIR" "$NVQCTL_CONFDIR/vm"
printf 'QEMU_BIN=%s\n' "$FAKE" >"$GLOBAL"
printf 'ACCEL=tcg\n' | vmconf web

# line CHECK: the first line of $OUT for that check.
line() { printf '%s\n' "$OUT" | grep -m 1 "^[A-Z]*  $1: " ; }

# --- A sound host: exit 0 ---------------------------------------------------

start=$(date +%s)
run "$NVQCTL" host
end=$(date +%s)
is "$RC" 0 "sound config: exit 0"
is "$ERR" "" "sound config: nothing on stderr"
is "$(printf '%s\n' "$OUT" | grep -cv '^\(PASS\|NOTE\|WARN\|FAIL\)  [^:]*: ')" 0 \
    "every line is LEVEL  check: detail"
unlike "$OUT" "*FAIL  *" "sound config: no FAIL"
for a in nvmm kvm tcg; do
	like "$OUT" "*  accel $a: *" "a line for accelerator $a"
done
like "$(line 'accel tcg')" "PASS  accel tcg: usable*" "tcg always passes"
# kvm_pvm named only where its device node exists (some hosts load the
# module without /dev/kvm).
if [ -d /sys/module/kvm_pvm ] && [ -e /dev/kvm ]; then
	like "$(line 'accel kvm')" "WARN  accel kvm: *kvm_pvm*" \
	    "kvm_pvm host: the kvm line says kvm_pvm, as a WARN"
else
	like "$(line 'accel kvm')" "*  accel kvm: *" "a kvm line"
fi
like "$(line "qemu $FAKE")" "PASS  qemu $FAKE: QEMU 8.2.2 (*used by web)" \
    "QEMU_BIN: version parsed, users named"
like "$(line lua)" "PASS  lua: Lua 5.4" "the Lua version"
like "$(line lua-cjson)" "PASS  lua-cjson: 2.*" "lua-cjson loads, version"
like "$(line confdir)" "PASS  confdir: $NVQCTL_CONFDIR (owner * mode 0755)" \
    "confdir: owner and mode"
like "$(line vmdir)" "PASS  vmdir: $NVQCTL_CONFDIR/vm *" "vmdir passes"
like "$(line rundir)" "PASS  rundir: $NVQCTL_RUNDIR does not exist yet*creates it*" \
    "a run directory nvqctl can create passes"
like "$(line 'agent socket')" "PASS  agent socket: *longest configured: $NVQCTL_RUNDIR/web/guest-agent.sock*" \
    "socket paths fit"
is "$(sort -u "$QLOG")" "--version" "QEMU was run with --version only"
[ $((end - start)) -le 5 ]
ok $? "host takes well under 5 s ($((end - start)) s)"

# --- --json: the same checks ----------------------------------------------

run "$NVQCTL" host --json
is "$RC" 0 "--json: exit 0"
printf '%s\n' "$OUT" >"$TMP/host.json"
"$NVQCTL" host >"$TMP/host.txt"
cat >"$TMP/json.lua" <<'EOF'
-- Prints the JSON checks as the text lines, failing on a missing field.
local cjson = require "cjson"
local f = assert(io.open(arg[1]))
local doc = cjson.decode(f:read("a"))
assert(type(doc) == "table" and #doc > 0, "not a non-empty array")
for _, c in ipairs(doc) do
	for _, k in ipairs({ "check", "level", "detail" }) do
		assert(type(c[k]) == "string", "field " .. k .. " missing")
	end
	io.write(c.level, "  ", c.check, ": ", c.detail, "\n")
end
EOF
run "$LUARUN" "$TMP/json.lua" "$TMP/host.json"
is "$RC" 0 "--json decodes, every check has check, level, detail"
is "$OUT" "$(cat "$TMP/host.txt")" "--json has the same checks as the text"

# --- Exit codes and usage ---------------------------------------------------

run "$NVQCTL" host extra
is "$RC" 2 "host with an argument: exit 2"
run "$NVQCTL" host --frob
is "$RC" 2 "host with an unknown option: exit 2"

# --- QEMU binaries --------------------------------------------------------

printf 'ACCEL=tcg\nQEMU_BIN=%s\n' "$TMP/nonexistent/qemu" | vmconf db
run "$NVQCTL" host
is "$RC" 1 "a VM's QEMU_BIN missing: exit 1"
like "$(line "qemu $TMP/nonexistent/qemu")" \
    "FAIL  qemu $TMP/nonexistent/qemu: does not exist (used by db)" \
    "a VM's missing QEMU_BIN is a FAIL naming the VM"
rm "$NVQCTL_CONFDIR/vm/db.conf"

: >"$GLOBAL"
printf 'ACCEL=tcg\nQEMU_BIN=%s\n' "$FAKE" | vmconf web
# The default QEMU_BIN (empty): pkgsrc's, else qemu-system-x86_64 on
# PATH (here the fake, put there under that name).
ln -s "$FAKE" "$TMP/bin/qemu-system-x86_64"
mkdir -p "$TMP/nobin"
default=/usr/pkg/bin/qemu-system-x86_64
if [ ! -e "$default" ]; then
	printf 'ACCEL=tcg\n' | vmconf db
	run env PATH="$TMP/bin:$PATH" "$NVQCTL" host
	like "$(line "qemu $TMP/bin/qemu-system-x86_64")" \
	    "PASS  qemu $TMP/bin/qemu-system-x86_64: QEMU 8.2.2 (the default QEMU_BIN, found on PATH; used by db)" \
	    "the default QEMU_BIN: the one on PATH when pkgsrc's is absent"
	rm "$NVQCTL_CONFDIR/vm/db.conf"
	run env PATH="$TMP/nobin" "$NVQCTL" host
	like "$(line "qemu qemu-system-x86_64")" \
	    "WARN  qemu qemu-system-x86_64: not found in PATH (the default QEMU_BIN; used by no VM)" \
	    "the default QEMU_BIN, found nowhere and unused: a WARN"
	is "$RC" 0 "an unused missing default: exit 0"
	printf 'ACCEL=tcg\n' | vmconf db
	run env PATH="$TMP/nobin" "$NVQCTL" host
	like "$(line "qemu qemu-system-x86_64")" "FAIL  qemu qemu-system-x86_64: *used by db)" \
	    "the default QEMU_BIN, found nowhere and used by a VM: a FAIL"
	is "$RC" 1 "a used missing default: exit 1"
	rm "$NVQCTL_CONFDIR/vm/db.conf"
fi
printf 'QEMU_BIN=%s\n' "$FAKE" >"$GLOBAL"

printf '#!/bin/sh\necho "$*" >>"%s"\necho nonsense\n' "$QLOG" >"$TMP/bin/odd"
chmod 755 "$TMP/bin/odd"
printf 'ACCEL=tcg\nQEMU_BIN=%s\n' "$TMP/bin/odd" | vmconf odd
run "$NVQCTL" host
like "$(line "qemu $TMP/bin/odd")" "FAIL  qemu $TMP/bin/odd: *QEMU emulator version*" \
    "a QEMU_BIN that does not print its version: FAIL"
rm "$NVQCTL_CONFDIR/vm/odd.conf"

# --- VM configs -------------------------------------------------------------

printf 'ACCEL=tcg\nNCPU=lots\n' | vmconf broken
run "$NVQCTL" host
is "$RC" 1 "a broken VM config: exit 1"
like "$(line 'vm broken')" "FAIL  vm broken: $NVQCTL_CONFDIR/vm/broken.conf:2: NCPU:*" \
    "a broken VM config: FAIL with file:line: key"
rm "$NVQCTL_CONFDIR/vm/broken.conf"

printf 'QEMU_BIN=%s\nX=`true`\n' "$FAKE" >"$GLOBAL"
run "$NVQCTL" host
is "$RC" 1 "a broken global config: exit 1"
like "$(line 'global config')" "FAIL  global config: $GLOBAL:2: X: *" \
    "a broken global config: FAIL with file:line: key"
unlike "$OUT" "*vm web:*" "... said once, not again for every VM"
printf 'QEMU_BIN=%s\n' "$FAKE" >"$GLOBAL"

if [ "$(uname -s)" != NetBSD ]; then
	printf 'ACCEL=nvmm\n' | vmconf nv
	run "$NVQCTL" host
	like "$(line 'vm nv')" "FAIL  vm nv: ACCEL=nvmm: *" \
	    "a VM asking for an accelerator this host lacks: FAIL"
	rm "$NVQCTL_CONFDIR/vm/nv.conf"
fi

# --- Directories: who could plant a config ---------------------------------

if [ "$(id -u)" = 0 ]; then want=FAIL; else want=WARN; fi
chmod g+w "$NVQCTL_CONFDIR"
run "$NVQCTL" host
like "$(line confdir)" "$want  confdir: $NVQCTL_CONFDIR is writable by anyone in group *(mode 0775)*" \
    "group-writable confdir: $want"
[ "$want" = FAIL ] && is "$RC" 1 "group-writable confdir as root: exit 1"
chmod g-w "$NVQCTL_CONFDIR"

chmod o+w "$NVQCTL_CONFDIR/vm/web.conf"
run "$NVQCTL" host
like "$(line 'config files')" "$want  config files: $NVQCTL_CONFDIR/vm/web.conf is writable by anyone *" \
    "world-writable VM config: $want"
chmod o-w "$NVQCTL_CONFDIR/vm/web.conf"

mkdir -p "$NVQCTL_RUNDIR"
chmod 777 "$NVQCTL_RUNDIR"
run "$NVQCTL" host
like "$(line rundir)" "$want  rundir: $NVQCTL_RUNDIR is writable by anyone (mode 0777)*" \
    "world-writable rundir: $want"
chmod 755 "$NVQCTL_RUNDIR"
run "$NVQCTL" host
like "$(line rundir)" "PASS  rundir: $NVQCTL_RUNDIR (owner *, mode 0755)" \
    "existing rundir: owner and mode"
rmdir "$NVQCTL_RUNDIR"

NVQCTL_RUNDIR="$TMP/nodir/run" run "$NVQCTL" host
like "$(line rundir)" "WARN  rundir: $TMP/nodir/run does not exist and $TMP/nodir does not exist*" \
    "a rundir whose parent is missing: WARN"

# --- What the next boot refuses ----------------------------------------------

# Hooks and policies: the runner's own check (as root; others get a NOTE).
HK="$NVQCTL_CONFDIR/hooks"
mkdir -p "$HK"
echo 'return {}' >"$HK/all.lua"
chmod 755 "$HK"
chmod 644 "$HK/all.lua"
run "$NVQCTL" host
if [ "$(id -u)" = 0 ]; then
	like "$(line 'user lua')" "PASS  user lua: hooks and policies (*): none writable by others" \
	    "sound hooks: PASS"
	chmod 777 "$HK"
	run "$NVQCTL" host
	like "$(line 'user lua')" "FAIL  user lua: refusing to run $HK: *$HK is writable by group and others (mode 0777;*every start*refused" \
	    "hooks/ at 0777: FAIL, in the runner's words"
	is "$RC" 1 "hooks/ at 0777: exit 1"
	chmod 755 "$HK"
	chmod 666 "$HK/all.lua"
	run "$NVQCTL" host
	like "$OUT" "*FAIL  user lua: refusing to run $HK/all.lua: *writable by group and others (mode 0666;*" \
	    "all.lua at 0666: FAIL"
	is "$RC" 1 "all.lua at 0666: exit 1"
	chmod 644 "$HK/all.lua"
else
	like "$(line 'user lua')" "NOTE  user lua: *checked when nvqctl runs as root*" \
	    "not root: a NOTE"
fi
rm -rf "$HK"

# A dependency cycle: startall would refuse every VM.
printf 'ACCEL=tcg\nBOOT_AFTER=cb\n' | vmconf ca
printf 'ACCEL=tcg\nBOOT_AFTER=ca\n' | vmconf cb
run "$NVQCTL" host
like "$(line 'boot graph')" "FAIL  boot graph: $NVQCTL_CONFDIR/vm/ca.conf:2: BOOT_AFTER: cycle: ca -> cb -> ca*startall starts nothing" \
    "a dependency cycle: FAIL naming file:line and the cycle"
is "$RC" 1 "a dependency cycle: exit 1"
rm "$NVQCTL_CONFDIR/vm/ca.conf" "$NVQCTL_CONFDIR/vm/cb.conf"
run "$NVQCTL" host
like "$(line 'boot graph')" "PASS  boot graph: *no cycle" "no cycle: PASS"

# Config files list ignores: WARN naming the file and why.
long=$(printf 'x%.0s' $(seq 65))
printf 'ACCEL=tcg\n' >"$NVQCTL_CONFDIR/vm/$long.conf"
printf 'ACCEL=tcg\n' >"$NVQCTL_CONFDIR/vm/db.old.conf"
run "$NVQCTL" host
like "$OUT" "*WARN  config files: $NVQCTL_CONFDIR/vm/$long.conf is ignored: its name has 65 characters (at most 64)*" \
    "a 65-character name: WARN naming the file"
like "$OUT" "*WARN  config files: $NVQCTL_CONFDIR/vm/db.old.conf is ignored: its name holds \".\"*" \
    "a dot in the name: WARN naming the file"
rm "$NVQCTL_CONFDIR/vm/$long.conf" "$NVQCTL_CONFDIR/vm/db.old.conf"

# --- Socket paths -------------------------------------------------------------

deep="$TMP/$(printf '%0100d' 0)/run"
mkdir -p "${deep%/run}"
NVQCTL_RUNDIR="$deep" run "$NVQCTL" host
is "$RC" 1 "a run directory too deep for sun_path: exit 1"
like "$(line 'agent socket')" "FAIL  agent socket: $deep is too long*NVQCTL_RUNDIR*" \
    "too deep: FAIL naming NVQCTL_RUNDIR"

# Deep enough that web fits but a 64-character name does not.
mid="$TMP/$(printf '%040d' 0)/run"
mkdir -p "${mid%/run}"
NVQCTL_RUNDIR="$mid" run "$NVQCTL" host
like "$(line 'agent socket')" "WARN  agent socket: VM names longer than * characters would not fit*" \
    "only long names would not fit: WARN"
long=$(printf 'v%050d' 0)
printf 'ACCEL=tcg\n' | vmconf "$long"
NVQCTL_RUNDIR="$mid" run "$NVQCTL" host
like "$(line 'agent socket')" "FAIL  agent socket: VM $long: *NVQCTL_RUNDIR*" \
    "a configured VM whose socket does not fit: FAIL"
is "$RC" 1 "a configured VM whose socket does not fit: exit 1"
rm "$NVQCTL_CONFDIR/vm/$long.conf"

# --- The real QEMU, if there is one (other tests run QEMUs meanwhile, so
# counting processes would be flaky: the recording QEMU above is the
# proof that only --version runs) ---------------------------------------

real=$(command -v qemu-system-x86_64)
if [ -n "$real" ]; then
	want=$("$real" --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
	printf 'QEMU_BIN=%s\n' "$real" >"$GLOBAL"
	run "$NVQCTL" host
	like "$(line "qemu $real")" "PASS  qemu $real: QEMU $want (*" \
	    "the real QEMU: its version ($want)"
	printf 'QEMU_BIN=%s\n' "$FAKE" >"$GLOBAL"
fi

# --- No VM was started ------------------------------------------------------

is "$(sort -u "$QLOG")" "--version" "only --version was ever run"
is "$(find "$TMP" -name qemu.pid | wc -l | tr -d ' ')" 0 "no pidfile anywhere"

# --- Colour: only on a terminal ----------------------------------------------

ESC=$(printf '\033')
run "$NVQCTL" host
unlike "$OUT" "*$ESC*" "not a terminal: no escape sequences"
if command -v tmux >/dev/null 2>&1; then
	. "$TOP/tests/integ/tmux.sh"
	tm_open tty
	tm_keys tty "clear; $NVQCTL host; echo done-1" Enter
	tm_wait tty "^done-1"
	screen=$(tm capture-pane -e -p -t tty)
	like "$screen" "*${ESC}[33mWARN*${ESC}[32mPASS*" \
	    "on a terminal: levels coloured"
	tm_keys tty "clear; NO_COLOR=1 $NVQCTL host; echo done-2" Enter
	tm_wait tty "^done-2"
	screen=$(tm capture-pane -e -p -t tty)
	like "$screen" "*PASS  lua*" "NO_COLOR: the checks are shown"
	unlike "$screen" "*${ESC}[32m*" "NO_COLOR: no colour"
fi
