#!/bin/sh
# offline.t: the commands that need no QEMU: exit codes and messages,
# dryrun (run through sh), create, config with a scripted editor.
. "$(dirname "$0")/../lib.sh"

VMDIR="$NVQCTL_CONFDIR/vm"

# --- Dispatch: usage errors exit 2, help and -V exit 0 ---------------------

run "$NVQCTL"
is "$RC" 2 "no command: exit 2"
like "$ERR" "*usage: nvqctl*" "no command: usage on stderr"

run "$NVQCTL" frobnicate
is "$RC" 2 "unknown command: exit 2"
like "$ERR" "*unknown command: frobnicate*" "unknown command: named"

run "$NVQCTL" -V
is "$RC" 0 "-V: exit 0"
like "$OUT" "nvqctl [0-9]*.[0-9]*.[0-9]*" "-V: prints the version"

run "$NVQCTL" help
is "$RC" 0 "help: exit 0"
like "$OUT" "*create*config*dryrun*" "help: lists the commands"

for c in dryrun create config; do
	run "$NVQCTL" "$c"
	is "$RC" 2 "$c without a VM: exit 2"
	like "$ERR" "*missing argument*usage: nvqctl $c*" \
	    "$c without a VM: says so, with usage"
done

run "$NVQCTL" dryrun a b
is "$RC" 2 "dryrun with two VMs: exit 2"

# Invalid names, for every command that takes one and exists so far.
long=$(printf '%065d' 0)
for c in start stop kill restart reboot status console monitor create \
    config dryrun; do
	[ -f "$TOP/lua/cmd/$c.lua" ] || continue
	for n in '../x' 'a b' '' "$long" 'a.b'; do
		run "$NVQCTL" "$c" "$n"
		is "$RC" 2 "$c '$n': invalid name, exit 2"
		case "$ERR" in
		*"invalid VM name"*) ;;
		*) diag "$c '$n': $ERR" ;;
		esac
	done
done
run "$NVQCTL" create "$(printf '%064d' 0)"
is "$RC" 0 "a 64-character name is valid"

for c in dryrun config start status; do
	[ -f "$TOP/lua/cmd/$c.lua" ] || continue
	run "$NVQCTL" "$c" nosuchvm
	is "$RC" 1 "$c of a missing VM: exit 1"
	like "$ERR" "nvqctl: no such VM: nosuchvm ($VMDIR/nosuchvm.conf)" \
	    "$c of a missing VM: says so"
done

# --- dryrun -----------------------------------------------------------------

# A QEMU that prints its argv, one word a line, in a directory whose
# name needs quoting.
mkdir "$TMP/bin dir"
cat > "$TMP/bin dir/qemu" <<'EOF'
#!/bin/sh
printf '%s\n' "$0"
for a in "$@"; do printf '%s\n' "$a"; done
EOF
chmod +x "$TMP/bin dir/qemu"

vmconf tricky <<EOF
QEMU_BIN="$TMP/bin dir/qemu"
DISKS="
	/vm/a,b.img:raw
	/vm/my disk.img:qcow2:none
"
NETWORK="tap0:52:54:00:12:34:56"
GUEST_AGENT=yes
ACCEL=nvmm
EOF
cat >> "$VMDIR/tricky.conf" <<'EOF'
EXTRA_ARGS="-append 'a;b \$HOME * ~ \`x\`' -x \"it's\" -y 'back\slash' -z ''"
EOF

run "$NVQCTL" dryrun tricky
is "$RC" 0 "dryrun: exit 0"
printf '%s\n' "$OUT" > "$TMP/cmd.sh"
like "$ERR" "*warning: $VMDIR/tricky.conf:3: DISKS: disk image /vm/a,b.img does not exist*" \
    "dryrun: a missing disk is a warning on stderr, with file and line"
unlike "$OUT" "*warning*" "dryrun: no warning on stdout"
like "$OUT" "'$TMP/bin dir/qemu' \\\\
  -name tricky \\\\
  -cpu host \\\\*" "dryrun: one option a line, quoted where needed"
like "$OUT" "*file=/vm/a,,b.img,format=raw,if=none,id=hd0*" \
    "dryrun: the comma in the disk path is doubled"
sh -n "$TMP/cmd.sh"
ok $? "dryrun: sh -n accepts the output"
sh "$TMP/cmd.sh" > "$TMP/sh.out" 2>"$TMP/sh.err"
ok $? "dryrun: sh runs the output"

run "$NVQCTL" dryrun --json tricky
is "$RC" 0 "dryrun --json: exit 0"
like "$OUT" '\[*\]' "dryrun --json: a JSON array"
printf '%s\n' "$OUT" > "$TMP/argv.json"
cat > "$TMP/words.lua" <<'EOF'
local f = assert(io.open(arg[1]))
for _, w in ipairs(require("cjson").decode(f:read("a"))) do print(w) end
EOF
"$LUARUN" "$TMP/words.lua" "$TMP/argv.json" > "$TMP/json.out"
ok $? "dryrun --json: decodes"
cmp -s "$TMP/sh.out" "$TMP/json.out"
ok $? "dryrun: what sh runs is exactly the --json argv"
[ $? -eq 0 ] || diff "$TMP/sh.out" "$TMP/json.out" | sed 's/^/# /'
is "$(tail -n 8 "$TMP/sh.out" | tr '\n' '|')" \
    "-append|a;b \$HOME * ~ \`x\`|-x|it's|-y|back\\slash|-z||" \
    "dryrun: EXTRA_ARGS words reach QEMU intact"
is "$(wc -l < "$TMP/sh.out" | tr -d ' ')" 56 "dryrun: 56 words"

vmconf bad <<'EOF'
# a bad one
NCPU=many
EOF
run "$NVQCTL" dryrun bad
is "$RC" 1 "dryrun of a bad config: exit 1"
is "$ERR" "nvqctl: $VMDIR/bad.conf:2: NCPU: 'many' is not a whole number" \
    "dryrun of a bad config: file, line, key"
is "$OUT" "" "dryrun of a bad config: nothing on stdout"

vmconf evil <<EOF
NCPU=2
DISKS="/vm/a.img \$(touch $TMP/pwned)"
EOF
run "$NVQCTL" dryrun evil
is "$RC" 1 "a config with \$(...): exit 1"
like "$ERR" "*evil.conf:2: DISKS: \$(...) is not allowed: the file is parsed, not run by a shell" \
    "a config with \$(...): parsed, not run"
[ ! -e "$TMP/pwned" ]
ok $? "a config with \$(...): nothing ran"

# --- create -------------------------------------------------------------------

run "$NVQCTL" create web1
is "$RC" 0 "create: exit 0"
like "$OUT" "created $VMDIR/web1.conf*" "create: says where"
grep -q '^# nvqctl configuration of the VM "web1"\.$' "$VMDIR/web1.conf"
ok $? "create: the name is filled in"
! grep -q example "$VMDIR/web1.conf"
ok $? "create: no placeholder left"
run "$NVQCTL" dryrun web1
is "$RC" 0 "create: the new config passes dryrun"
like "$OUT" "*-name web1*" "create: dryrun shows the name"

sum=$(cksum < "$VMDIR/web1.conf")
run "$NVQCTL" create web1
is "$RC" 1 "create of an existing VM: exit 1"
like "$ERR" "*VM web1 already exists*" "create of an existing VM: says so"
is "$(cksum < "$VMDIR/web1.conf")" "$sum" "create of an existing VM: file kept"

run "$NVQCTL" create ../x
is "$RC" 2 "create ../x: exit 2"
[ ! -e "$NVQCTL_CONFDIR/x.conf" ] && [ ! -e "$VMDIR/../x.conf" ]
ok $? "create ../x: nothing written"

NVQCTL_CONFDIR="$TMP/fresh/etc" run "$NVQCTL" create first
is "$RC" 0 "create: makes a missing config directory"
[ -f "$TMP/fresh/etc/vm/first.conf" ]
ok $? "create: file written in the new directory"

# --- config -------------------------------------------------------------------

# Editors: one runs sed on the file, one appends a line.
cat > "$TMP/ed-sed" <<'EOF'
#!/bin/sh
sed "$SEDEXPR" "$1" > "$1.new" && cat "$1.new" > "$1" && rm -f "$1.new"
EOF
cat > "$TMP/ed-append" <<'EOF'
#!/bin/sh
printf '%s\n' "$APPEND" >> "$1"
EOF
chmod +x "$TMP/ed-sed" "$TMP/ed-append"

leftovers() { ls -A "$VMDIR" | grep -v '^[A-Za-z0-9_-]*\.conf$'; }

EDITOR="$TMP/ed-sed" SEDEXPR='s/^#NCPU=1$/NCPU=3/' \
    run "$NVQCTL" config web1 </dev/null
is "$RC" 0 "config: a valid edit, exit 0"
like "$OUT" "*web1.conf: saved*" "config: says it saved"
grep -q '^NCPU=3$' "$VMDIR/web1.conf"
ok $? "config: the edit is installed"
is "$(leftovers)" "" "config: no temporary file left"

sum=$(cksum < "$VMDIR/web1.conf")
EDITOR="$TMP/ed-sed" SEDEXPR='s/^NCPU=3$/NCPU=300/' \
    run "$NVQCTL" config web1 </dev/null
is "$RC" 1 "config: an invalid edit, exit 1"
like "$ERR" "nvqctl: $VMDIR/web1.conf:[0-9]*: NCPU: 300 is out of range (1 to 255)*" \
    "config: the error names file, line and key"
like "$ERR" "*web1.conf unchanged*" "config: says the file is unchanged"
is "$(cksum < "$VMDIR/web1.conf")" "$sum" "config: old file untouched"
is "$(leftovers)" "" "config: no temporary file left after a refusal"

EDITOR="$TMP/ed-append" APPEND="NCPUS=4" run "$NVQCTL" config web1 </dev/null
is "$RC" 1 "config: a misspelt key, exit 1"
like "$ERR" "*: NCPUS: unknown key NCPUS (did you mean NCPU?)*" \
    "config: suggests the key"

EDITOR="$TMP/ed-append" APPEND="NCPU=2; touch $TMP/pwned" \
    run "$NVQCTL" config web1 </dev/null
is "$RC" 1 "config: a command in the file, exit 1"
[ ! -e "$TMP/pwned" ]
ok $? "config: the command did not run"
is "$(cksum < "$VMDIR/web1.conf")" "$sum" "config: old file still untouched"

EDITOR="sh $TMP/ed-sed" SEDEXPR='s/^#MEMORY=1024$/MEMORY=4G/' \
    run "$NVQCTL" config web1 </dev/null
is "$RC" 0 "config: EDITOR with an argument"
grep -q '^MEMORY=4G$' "$VMDIR/web1.conf"
ok $? "config: that edit is installed"

EDITOR=true run "$NVQCTL" config web1 </dev/null
is "$RC" 0 "config: no change, exit 0"
like "$OUT" "*no changes*" "config: says there were no changes"

sum=$(cksum < "$VMDIR/web1.conf")
EDITOR=false run "$NVQCTL" config web1 </dev/null
is "$RC" 1 "config: a failing editor, exit 1"
like "$ERR" "*editor false failed*unchanged*" "config: says the editor failed"
is "$(cksum < "$VMDIR/web1.conf")" "$sum" "config: file untouched"
is "$(leftovers)" "" "config: no temporary file left after a failed editor"

run "$NVQCTL" config nosuch </dev/null
is "$RC" 1 "config of a missing VM: exit 1"

# A config that is a symlink (kept in a repository, say) is edited where
# it points; the link stays a link.
mkdir "$TMP/repo"
printf 'NCPU=2\n' > "$TMP/repo/linked.conf"
ln -s "$TMP/repo/linked.conf" "$VMDIR/linked.conf"
EDITOR="$TMP/ed-sed" SEDEXPR='s/^NCPU=2$/NCPU=3/' \
    run "$NVQCTL" config linked </dev/null
is "$RC" 0 "config of a symlink: exit 0"
[ -L "$VMDIR/linked.conf" ]
ok $? "config of a symlink: the link is still a link"
is "$(cat "$TMP/repo/linked.conf")" "NCPU=3" \
    "config of a symlink: the file it points to has the edit"
is "$(ls -A "$TMP/repo")" "linked.conf" \
    "config of a symlink: no temporary file left next to it"
rm -f "$VMDIR/linked.conf"

# Without lua-cjson, JSON output says which package to install, in one line.
LUA_CPATH_5_4=/nonexistent/?.so run "$NVQCTL" list --json
is "$RC" 1 "no cjson: exit 1"
like "$(printf '%s\n' "$ERR" | tail -n 1)" "nvqctl: lua-cjson is not installed (Debian: apt-get install lua-cjson; NetBSD: pkgin install lua54-cjson)" \
    "no cjson: one line naming the package"
LUA_CPATH_5_4=/nonexistent/?.so run "$NVQCTL" list
is "$RC" 0 "no cjson: commands without JSON still work"

# nvqctl runs as root in any directory: a cjson.lua (or .so) found there
# must never be loaded in place of the real module.
mkdir "$TMP/cwd"
printf 'io.stderr:write("LOADED FROM CWD\\n") os.exit(3)\n' > "$TMP/cwd/cjson.lua"
(cd "$TMP/cwd" && LUA_CPATH_5_4="./?.so;;" LUA_PATH_5_4="./?.lua;;" \
    "$NVQCTL" list --json) >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "a cjson.lua in the current directory: list --json still works"
unlike "$(cat "$TMP/err")" "*LOADED FROM CWD*" \
    "a cjson.lua in the current directory is not loaded"

# A closed standard descriptor is not taken by the next file opened:
# here the progress line would have gone into the VM's lock file.
vmconf stdfd <<'CONF'
QEMU_BIN=/bin/false
ACCEL=tcg
PRE_START=/bin/true
CONF
run sh -c '"$0" start stdfd >&-' "$NVQCTL"
is "$RC" 1 "start with stdout closed: exit 1 (QEMU fails)"
is "$(cat "$NVQCTL_RUNDIR/stdfd/lock")" "" \
    "start with stdout closed: nothing written into the lock file"

# Output that cannot be written is a failure, not a silent exit 0.
if [ -w /dev/full ]; then
	run sh -c '"$0" dryrun web1 >/dev/full' "$NVQCTL"
	is "$RC" 1 "stdout on a full device: exit 1"
	like "$ERR" "*nvqctl: standard output: *" "stdout on a full device: says so"
fi

# A pidfile that cannot be looked at (here: the VM's run directory is a
# file; for a user other than root, permission denied) is an error, not
# "stopped".
mkdir -p "$NVQCTL_RUNDIR"
: > "$NVQCTL_RUNDIR/web1"
run "$NVQCTL" status web1
is "$RC" 1 "status with an unreadable pidfile: exit 1"
like "$ERR" "*web1: cannot tell whether it runs: $NVQCTL_RUNDIR/web1/qemu.pid: *" \
    "status with an unreadable pidfile: says why"
unlike "$OUT" "*stopped*" "status with an unreadable pidfile: not 'stopped'"
rm -f "$NVQCTL_RUNDIR/web1"

# Ten creates of one VM at once: exactly one writes it.
i=0
while [ $i -lt 10 ]; do
	"$NVQCTL" create race >"$TMP/race.$i" 2>&1 &
	i=$((i + 1))
done
wait
is "$(cat "$TMP"/race.* | grep -c '^created ')" 1 "concurrent create: one succeeds"
is "$(cat "$TMP"/race.* | grep -c 'already exists')" 9 "concurrent create: nine refused"
is "$(ls "$NVQCTL_CONFDIR/vm" | grep -c 'race')" 1 "concurrent create: no temporary file left"

run "$NVQCTL" -V extra
is "$RC" 2 "-V with an argument: usage error"
like "$ERR" "nvqctl: -V takes no arguments*usage:*" "-V with an argument: says so"

# A command that has to wait for another one on the same VM says so.
printf 'NCPU=1\n' >"$NVQCTL_CONFDIR/vm/held.conf"
mkdir -p "$NVQCTL_RUNDIR/held"
"$LUARUN" - <<LUA &
local core = require "nvq.core"
local lk = assert(core.lock("$NVQCTL_RUNDIR/held/lock", core.now() + 5))
core.sleep(2.5)
LUA
holder=$!
sleep 0.5
run "$NVQCTL" kill held
wait "$holder"
like "$ERR" "*held: waiting for another nvqctl command on this VM to finish*held is not running*" \
    "a held VM lock: the wait is announced, then the command goes on"

# A stray file in the run directory is no VM, and breaks nothing.
mkdir -p "$NVQCTL_RUNDIR" && : >"$NVQCTL_RUNDIR/junk"
run "$NVQCTL" top -n 1
is "$RC" 0 "a stray file in the run directory: top works"
run "$NVQCTL" list
is "$RC" 0 "a stray file in the run directory: list works"
unlike "$OUT" "*junk*" "a stray file in the run directory: not listed"

# --- policy list: policies no file provides, in order ------------------------
for p in zeta alpha mu beta omega kappa; do
	"$NVQCTL" create "pl$p" >/dev/null 2>&1
	echo "SHUTDOWN_POLICY=nopol_$p" >>"$VMDIR/pl$p.conf"
done
run "$NVQCTL" policy list
is "$RC" 0 "policy list with missing policies: exit 0"
like "$OUT" "*nopol_alpha*missing*plalpha*nopol_beta*missing*nopol_kappa*nopol_mu*nopol_omega*nopol_zeta*missing*plzeta*" \
    "policy list: the missing policies in order, with their VMs"
