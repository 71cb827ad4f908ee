#!/bin/sh
# mux.t: remote/mux against fake ssh masters (fakemux.pl) that refuse,
# hang, speak another version, or end a session without its status; the
# real master is in tests/integ/remote.t.  The cases are in mux.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
perl "$top/tests/unit/fakemux.pl" "$tmp" >"$tmp/mux.out" 2>&1 &
fake=$!
trap 'pkill -P $fake 2>/dev/null; kill $fake 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
until grep -q ready "$tmp/mux.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $fake 2>/dev/null; then
		echo "Bail out! the fake masters did not start"
		exit 1
	fi
	sleep 0.05
done
TESTTMP=$tmp "$top/tests/luarun" "$top/tests/unit/mux.lua"
