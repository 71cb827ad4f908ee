# sshd.sh: a private OpenSSH server on 127.0.0.1 for the -H tests, and
# an ssh_config whose aliases stand for hosts.  Sourced after lib.sh
# (and guest.sh, whose cleanup it keeps).  Host keys, the client key,
# known_hosts and every socket live in $TMP; sshd and the shared
# connections are ended on every way out.
SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ] || ! command -v ssh-keygen >/dev/null 2>&1; then
	echo "Bail out! the -H tests need openssh-server (sshd) and ssh-keygen"
	exit 1
fi
SD="$TMP/sshd"
mkdir -p "$SD"
chmod 700 "$SD"
# The shared connections' sockets: nvqctl puts them under TMPDIR.
TMPDIR=$TMP
export TMPDIR
CTL_DIR="$TMP/nvqctl-ssh.$(id -u)"

# ssh_masters_exit: ends every shared connection nvqctl made (their
# sockets, named by nvqctl, are all in CTL_DIR).
ssh_masters_exit() {
	for _s in "$CTL_DIR"/*; do
		[ -S "$_s" ] && ssh -F "$SD/ssh_config" -o ControlPath="$_s" \
		    -O exit x >/dev/null 2>&1
	done
}

_sshd_prev_hook=${T_CLEANUP_HOOK:-}
sshd_cleanup() {
	ssh_masters_exit
	[ -f "$SD/sshd.pid" ] && kill "$(cat "$SD/sshd.pid")" 2>/dev/null
	[ -n "$_sshd_prev_hook" ] && $_sshd_prev_hook
}
T_CLEANUP_HOOK=sshd_cleanup

ssh-keygen -q -t ed25519 -N '' -f "$SD/host_key" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$SD/id" </dev/null
cp "$SD/id.pub" "$SD/authorized_keys"
# sshd refuses to start without its privilege separation directory.
mkdir -p /run/sshd

# sshd_start: on a free port (tried until one binds); SSH_PORT.
sshd_start() {
	_try=0
	while [ "$_try" -lt 10 ]; do
		SSH_PORT=$(( ($(od -An -N2 -tu2 /dev/urandom) % 20000) + 20000 ))
		cat > "$SD/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
ListenAddress 127.0.0.2
ListenAddress 127.0.0.3
HostKey $SD/host_key
PidFile $SD/sshd.pid
AuthorizedKeysFile $SD/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
CONF
		rm -f "$SD/sshd.log" "$SD/sshd.pid"
		# root's ~/.bashrc runs for every ssh command (bash reads it
		# when sshd starts it); on a machine where it is slow (pyenv
		# init: 0.8 s) it would be all that is measured.  sshd gets a
		# mount namespace of its own where it is empty, if it can.
		if [ -s "$HOME/.bashrc" ] && unshare -m true 2>/dev/null; then
			unshare -m sh -c 'mount --bind /dev/null "$1" 2>/dev/null
			    shift; exec "$@"' sh "$HOME/.bashrc" \
			    "$SSHD" -D -f "$SD/sshd_config" -E "$SD/sshd.log" &
		else
			"$SSHD" -D -f "$SD/sshd_config" -E "$SD/sshd.log" &
		fi
		_i=0
		while [ "$_i" -lt 50 ]; do
			grep -q "Server listening" "$SD/sshd.log" 2>/dev/null &&
			    return 0
			kill -0 $! 2>/dev/null || break
			sleep 0.1
			_i=$((_i + 1))
		done
		kill $! 2>/dev/null
		_try=$((_try + 1))
	done
	echo "Bail out! sshd did not start:"
	sed 's/^/# /' "$SD/sshd.log"
	exit 1
}

# ssh_hosts ALIAS...: the ssh_config naming each alias for this sshd,
# at 127.0.0.1, .2, .3 in turn (one shared connection each, as for real
# hosts); "ALIAS=PORT" points that one at another port (nothing there).
ssh_hosts() {
	: > "$SD/ssh_config"
	: > "$SD/known_hosts"
	SSH_ALIASES=
	_n=0
	for _h in "$@"; do
		_a=${_h%%=*} _p=$SSH_PORT
		[ "$_a" != "$_h" ] && _p=${_h#*=}
		_n=$((_n % 3 + 1))
		SSH_ALIASES="$SSH_ALIASES $_a"
		echo "[127.0.0.$_n]:$SSH_PORT $(cat "$SD/host_key.pub")" \
		    >> "$SD/known_hosts"
		cat >> "$SD/ssh_config" <<CONF
Host $_a
  HostName 127.0.0.$_n
  Port $_p
  User root
  IdentityFile $SD/id
  IdentitiesOnly yes
  UserKnownHostsFile $SD/known_hosts
  StrictHostKeyChecking yes
  LogLevel ERROR
CONF
	done
	NVQCTL_SSH="ssh -F $SD/ssh_config"
	export NVQCTL_SSH
}

# host_dirs ALIAS CONFDIR RUNDIR: what nvqctl on "host" ALIAS works on.
host_dirs() {
	mkdir -p "$2/vm" "$3"
	eval "NVQCTL_REMOTE_$1=\"NVQCTL_CONFDIR=$2 NVQCTL_RUNDIR=$3 $NVQCTL\""
	export "NVQCTL_REMOTE_$1"
}
