#!/bin/sh
# The manual page is valid mdoc and documents every command nvqctl has.
. "$(dirname "$0")/../lib.sh"
MAN="$TOP/doc/nvqctl.8"
if command -v mandoc >/dev/null 2>&1; then
	run mandoc -Tlint -W warning "$MAN"
	is "$RC$OUT" 0 "mandoc -Tlint finds nothing"
fi
for c in $("$NVQCTL" help | sed -n 's/^  \([a-z]*\).*/\1/p'); do
	grep -q "^\.It Cm $c" "$MAN"
	ok $? "nvqctl.8 documents '$c'"
done
