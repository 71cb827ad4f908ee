#!/bin/sh
# sanitize.sh [test.t ...]: runs the unit tests, the CLI tests and the lifecycle
# integration test against an nvqctl and a tests/luarun built with
# AddressSanitizer and UndefinedBehaviorSanitizer ("make check-sanitize"
# builds them first), or the tests named.  It fails on any sanitizer report, even one from
# a process whose failure a test expected: the reports go to files, not
# to stderr (where a test would see them as output), and are looked for
# afterwards.
#
# Only nvqctl and luarun are instrumented: QEMU, sh and perl inherit the
# options and ignore them.  LeakSanitizer stays on: nvqctl and luarun
# close their Lua state before they exit (no os.exit in nvqctl), so a
# leak reported is a leak, not the interpreter's heap left for exit.
top=$(cd "$(dirname "$0")/.." && pwd)
logs=$(mktemp -d "${TMPDIR:-/tmp}/nvqsan.XXXXXX") || exit 1
trap 'rm -rf "$logs"' EXIT

ASAN_OPTIONS="log_path=$logs/asan:halt_on_error=1:detect_leaks=1"
ASAN_OPTIONS="$ASAN_OPTIONS:detect_stack_use_after_return=1:exitcode=86"
UBSAN_OPTIONS="log_path=$logs/ubsan:halt_on_error=1:print_stacktrace=1"
UBSAN_OPTIONS="$UBSAN_OPTIONS:exitcode=87"
export ASAN_OPTIONS UBSAN_OPTIONS

cd "$top" || exit 1
# The binaries must be the instrumented ones: a report needs a runtime.
for b in nvqctl tests/luarun; do
	if ! nm "$b" 2>/dev/null | grep -q __asan_init; then
		echo "sanitize: $b is not built with -fsanitize=address" \
		    "(run make check-sanitize)" >&2
		exit 2
	fi
done
if [ $# -eq 0 ]; then
	set -- tests/unit/*.t tests/cli/*.t tests/integ/lifecycle.t
fi
prove -f "$@"
rc=$?
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "== sanitizer report $(basename "$f")" >&2
		cat "$f" >&2
	done
	echo "sanitize: $(echo "$reports" | wc -l | tr -d ' ') sanitizer" \
	    "report(s)" >&2
	exit 1
fi
[ $rc -eq 0 ] && echo "sanitize: no sanitizer report"
exit $rc
