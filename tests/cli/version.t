#!/bin/sh
# version.t: nvqctl -V names nvqctl's version, Lua's, lua-cjson's and
# the default QEMU's (nvqctl.conf's QEMU_BIN, else the built-in one).
. "$(dirname "$0")/../lib.sh"

cat >"$TMP/qemu" <<'SH'
#!/bin/sh
[ "$1" = --version ] && echo "QEMU emulator version 9.8.7 (test)"
SH
chmod +x "$TMP/qemu"
printf 'QEMU_BIN=%s\n' "$TMP/qemu" >"$NVQCTL_CONFDIR/nvqctl.conf"

run "$NVQCTL" -V
is "$RC" 0 "-V: exit 0"
ver=$(sed -n 's/^#define NVQ_VERSION[^"]*"\(.*\)"/\1/p' "$TOP/core/nvq.h")
is "$(printf '%s\n' "$OUT" | sed -n 1p)" "nvqctl $ver" \
    "-V: first line, nvqctl's version from core/nvq.h"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" "Lua 5.4.[0-9]*" "-V: Lua's release"
like "$(printf '%s\n' "$OUT" | sed -n 3p)" "lua-cjson [0-9]*.[0-9]*" \
    "-V: lua-cjson's version"
is "$(printf '%s\n' "$OUT" | sed -n 4p)" \
    "QEMU 9.8.7 ($TMP/qemu, QEMU_BIN of $NVQCTL_CONFDIR/nvqctl.conf:1)" \
    "-V: the default QEMU's version, and where it comes from"

LUA_CPATH_5_4=/nonexistent/?.so run "$NVQCTL" -V
is "$RC" 0 "-V without lua-cjson: exit 0"
like "$OUT" "*lua-cjson not installed*" "-V without lua-cjson: says so"

printf 'QEMU_BIN=%s\n' "$TMP/none" >"$NVQCTL_CONFDIR/nvqctl.conf"
run "$NVQCTL" -V
is "$RC" 0 "-V with a missing QEMU: exit 0"
like "$OUT" "*QEMU unknown: $TMP/none does not exist*" \
    "-V with a missing QEMU: says why"
