# lib.sh: TAP helpers for the sh tests, sourced by every tests/*/*.t.
# Each test runs with a private config and run directory.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
NVQCTL="$TOP/nvqctl"
LUARUN="$TOP/tests/luarun"
T_N=0
T_FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nvqtest.XXXXXX")
NVQCTL_CONFDIR="$TMP/etc"
NVQCTL_RUNDIR="$TMP/run"
export NVQCTL_CONFDIR NVQCTL_RUNDIR
unset NO_COLOR
mkdir -p "$NVQCTL_CONFDIR/vm"
trap 't_cleanup' EXIT

# nvqctl needs no helper program: socat, nc and cu are replaced by
# traps that record any use, and every test file checks none happened.
mkdir -p "$TMP/forbidden"
for _h in socat nc netcat cu; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 127\n' "$_h" \
	    "$TMP/forbidden.log" >"$TMP/forbidden/$_h"
	chmod +x "$TMP/forbidden/$_h"
done
PATH="$TMP/forbidden:$PATH"
export PATH

t_cleanup() {
	[ -n "${T_CLEANUP_HOOK:-}" ] && $T_CLEANUP_HOOK
	if [ -s "$TMP/forbidden.log" ]; then
		ok 1 "no socat, nc or cu was run"
		sed 's/^/# ran: /' "$TMP/forbidden.log"
	else
		ok 0 "no socat, nc or cu was run"
	fi
	rm -rf "$TMP"
	echo "1..$T_N"
	[ "$T_FAIL" -eq 0 ] || exit 1
}

ok() {	# ok CONDITION-STATUS DESCRIPTION
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAIL=$((T_FAIL + 1))
	fi
}

diag() { printf '# %s\n' "$@"; }

# run CMD...: runs a command, keeping its exit code in $RC, stdout in
# $OUT and stderr in $ERR.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  $1" "want: $2"
	fi
}

like() {	# like TEXT GLOB-PATTERN DESCRIPTION
	case "$1" in
	$2) ok 0 "$3" ;;
	*) ok 1 "$3"; diag "text: $1" "does not match: $2" ;;
	esac
}

unlike() {
	case "$1" in
	$2) ok 1 "$3"; diag "text: $1" "matches: $2" ;;
	*) ok 0 "$3" ;;
	esac
}

# vmconf NAME <<EOF ... EOF: writes a VM config from standard input.
vmconf() { cat > "$NVQCTL_CONFDIR/vm/$1.conf"; }
