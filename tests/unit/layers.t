#!/bin/sh
# layers.t: requires follow the order doc/ARCHITECTURE.md writes down;
# the cases are in layers.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/tests/luarun" "$top/tests/unit/layers.lua" "$top"
