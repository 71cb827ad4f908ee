#!/bin/sh
# The manual page is valid mdoc and documents every command nvqctl has.
. "$(dirname "$0")/../lib.sh"
MAN="$TOP/doc/nvqctl.8"
if command -v mandoc >/dev/null 2>&1; then
	run mandoc -Tlint -W warning "$MAN"
	is "$RC$OUT" 0 "mandoc -Tlint finds nothing"
	run mandoc -Tlint -W warning "$TOP/doc/nvqctl-lua.7"
	is "$RC$OUT" 0 "mandoc -Tlint finds nothing in nvqctl-lua.7"
	run mandoc -Tlint -W warning "$TOP/doc/nvqctl.conf.5"
	is "$RC$OUT" 0 "mandoc -Tlint finds nothing in nvqctl.conf.5"
fi
# nvqctl.conf(5) documents every key of conf/load.lua's KEYS, each with
# its default and the files that may set it, and no key that is not one.
CONF5="$TOP/doc/nvqctl.conf.5"
echo 'for _, k in ipairs(require("conf.load").KEYS) do
	local where = k.global and "only nvqctl.conf" or
	    k.vm_only and "only a VM" or "either file"
	print(k.key .. "\t" .. where .. "\t" ..
	    (k.key == "BOOT_PARALLEL" and "CPUs" or
	    k.default == "" and "empty" or k.default))
end' | "$LUARUN" - >"$TMP/keys"
[ -s "$TMP/keys" ]
ok $? "the keys are read from conf/load.lua"
tab=$(printf '\t')
while IFS="$tab" read -r key where def; do
	# The entry: from ".It Ev KEY" to the next ".It" at its level.
	entry=$(awk -v k=".It Ev $key" '
	    $0 == k { on = 1; next }
	    on && /^\.Bl/ { depth++ }
	    on && /^\.El/ { if (depth == 0) exit; depth-- }
	    on && /^\.It / && depth == 0 { exit }
	    on { print }' "$CONF5" | tr '\n' ' ')
	if [ -z "$entry" ]; then
		ok 1 "nvqctl.conf.5 documents $key"
		continue
	fi
	case $entry in
	*"Default"*"$def"*"$where"*) ok 0 "nvqctl.conf.5 documents $key: default $def, $where" ;;
	*) ok 1 "nvqctl.conf.5 documents $key: default $def, $where"
	   diag "entry: $entry" ;;
	esac
done <"$TMP/keys"
sed -n '/^\.Ss Keys$/,/^\.Sh /s/^\.It Ev \([A-Z_]*\)$/\1/p' "$CONF5" |
while read -r key; do
	grep -q "^$key$tab" "$TMP/keys" || echo "$key"
done >"$TMP/extra"
is "$(cat "$TMP/extra")" "" "nvqctl.conf.5 documents no key nvqctl lacks"
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
