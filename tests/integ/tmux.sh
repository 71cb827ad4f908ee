# tmux.sh: drives interactive commands through a private tmux server,
# one session per step so that each starts on a clean screen.  Sourced
# after lib.sh (and guest.sh, whose cleanup it keeps).
if ! command -v tmux >/dev/null 2>&1; then
	echo "Bail out! tmux is needed for the interactive tests"
	exit 1
fi

TM_SOCK="$TMP/tmux.sock"
tm() { tmux -S "$TM_SOCK" "$@"; }

# The consoles and shells in tmux go first, then the VMs.
_tm_prev_hook=${T_CLEANUP_HOOK:-}
tm_cleanup() {
	tm kill-server >/dev/null 2>&1
	[ -n "$_tm_prev_hook" ] && $_tm_prev_hook
}
T_CLEANUP_HOOK=tm_cleanup

# tm_open S: a new session S running sh with this test's environment.
tm_open() {
	tm new-session -d -s "$1" -x 150 -y 40 \
	    "env NVQCTL_CONFDIR='$NVQCTL_CONFDIR' NVQCTL_RUNDIR='$NVQCTL_RUNDIR' PS1='$ ' sh"
}

# tm_keys S KEYS...: tmux send-keys to session S.
tm_keys() {
	_s=$1
	shift
	tm send-keys -t "$_s" "$@"
}

tm_screen() { tm capture-pane -p -t "$1" -S -; }

# tm_wait S GREP-PATTERN [SECONDS]: until S shows a matching line.
tm_wait() {
	_i=0
	while [ "$_i" -lt $((${3:-10} * 10)) ]; do
		tm_screen "$1" | grep -q -- "$2" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	diag "session $1 never showed '$2'; its screen:"
	tm_screen "$1" | sed -e '/^$/d' -e 's/^/#   /'
	return 1
}

# wait_file FILE [SECONDS]: until FILE exists.
wait_file() {
	_i=0
	while [ "$_i" -lt $((${2:-10} * 10)) ]; do
		[ -e "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# tm_sane S: runs stty -a in S's shell; true when the terminal is back
# in cooked mode (icanon and echo on).  A terminal left raw does not
# even run the command: Enter sends CR and nothing maps it to NL.
tm_sane() {
	_f="$TMP/stty.$1.$$"
	rm -f "$_f"
	tm_keys "$1" "stty -a > $_f.tmp; mv $_f.tmp $_f" Enter
	wait_file "$_f" 5 || { diag "stty never ran in $1"; return 1; }
	_w=$(tr ' ;' '\n\n' < "$_f")
	printf '%s\n' "$_w" | grep -qx icanon &&
	    printf '%s\n' "$_w" | grep -qx echo &&
	    printf '%s\n' "$_w" | grep -qx icrnl &&
	    printf '%s\n' "$_w" | grep -qx opost
}

# tm_pid FILE: the pid a pane wrote to FILE, once it has.
tm_pid() { wait_file "$1" 5 && cat "$1"; }

# tm_run S COMMAND: types COMMAND into S, as it is, and Enter.
tm_run() {
	tm send-keys -t "$1" -l "$2"
	tm send-keys -t "$1" Enter
}
