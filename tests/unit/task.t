#!/bin/sh
# task.t: the fork/pipe/waitpid primitives under the orchestrator; the
# cases are in task.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
LUARUN="$top/tests/luarun" exec "$top/tests/luarun" "$top/tests/unit/task.lua"
