# fakevm.sh: sourced by the cli tests that need a running VM and no QEMU
# (after lib.sh): fake_vm NAME DESCFILE starts fakevm.pl for VM NAME and
# waits until it is there; it is ended on the way out, whatever happens.
FAKE=
fake_stop() { [ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null; FAKE=; }
T_CLEANUP_HOOK=fake_stop

fake_vm() {
	fake_stop
	rm -f "$TMP/fake.out"
	perl "$TOP/tests/cli/fakevm.pl" "$NVQCTL_RUNDIR" "$1" "$2" >"$TMP/fake.out" &
	FAKE=$!
	_i=0
	until grep -q ready "$TMP/fake.out" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && { echo "Bail out! the fake VM did not start"; exit 1; }
		sleep 0.05
	done
}
