#!/bin/sh
# examples.t: the hooks in examples/hooks/ run through hooks.run: the
# NetBSD commands through recording stand-ins on PATH, qemu-img for real
# on a real qcow2 image; the cases are in examples.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
# Each stand-in records its argv; "ifconfig tapN" alone (does it exist?)
# answers no, as for a tap not yet created.
for c in ifconfig brconfig logger; do
	cat >"$tmp/bin/$c" <<SH
#!/bin/sh
echo "$c \$*" >>"$tmp/argv.log"
[ "$c" = ifconfig ] && [ \$# -eq 1 ] && exit 1
exit 0
SH
	chmod +x "$tmp/bin/$c"
done
PATH="$tmp/bin:$PATH" EXAMPLES="$top/examples" \
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/examples.lua"
