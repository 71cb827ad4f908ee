#!/bin/sh
# qmptext.t: JSON kept as text and the monitor's line syntax; the cases
# are in qmptext.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/luarun" "$top/tests/unit/qmptext.lua"
