#!/bin/sh
# The manual page is valid mdoc and documents every command nvqctl has.
. "$(dirname "$0")/../lib.sh"
MAN="$TOP/doc/nvqctl.8"
if command -v mandoc >/dev/null 2>&1; then
	run mandoc -Tlint -W warning "$MAN"
	is "$RC$OUT" 0 "mandoc -Tlint finds nothing"
	run mandoc -Tlint -W warning "$TOP/doc/nvqctl-lua.7"
	is "$RC$OUT" 0 "mandoc -Tlint finds nothing in nvqctl-lua.7"
fi
# nvqctl-lua(7) documents every method of the handle user code gets and
# every function of its nvq.core.
LUA7="$TOP/doc/nvqctl-lua.7"
for m in $(echo 'local h = require("ulua.runner").handle({ cfg = {} })
	for _, m in ipairs({ "now", "log", "say", "alive", "wait_exit",
	    "powerdown", "reset", "quit", "qmp_call", "agent_shutdown",
	    "agent_call", "signal" }) do assert(h[m], m) end
	local env = require("ulua.runner").env()
	local c = env.require("nvq.core")
	local names = {}
	for k in pairs(c) do names[#names + 1] = "core." .. k end
	table.sort(names)
	print("vm:now vm:log vm:say vm:alive vm:wait_exit vm:powerdown " ..
	    "vm:reset vm:quit vm:qmp_call vm:agent_shutdown vm:agent_call " ..
	    "vm:signal " .. table.concat(names, " "))' | "$LUARUN" -); do
	grep -q "^\.It Fn $m" "$LUA7"
	ok $? "nvqctl-lua.7 documents $m"
done
for c in $("$NVQCTL" help | sed -n 's/^  \([a-z]*\).*/\1/p'); do
	grep -q "^\.It Cm $c" "$MAN"
	ok $? "nvqctl.8 documents '$c'"
done
