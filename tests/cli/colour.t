#!/bin/sh
# Colours only on a terminal, and never with NO_COLOR set.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integ/tmux.sh"

printf 'NCPU=1\n' >"$NVQCTL_CONFDIR/vm/c1.conf"
ESC=$(printf '\033')

run "$NVQCTL" list
unlike "$OUT" "*$ESC*" "not a terminal: no escape sequences"

tm_open tty
tm_keys tty "clear; $NVQCTL list; echo done-1" Enter
tm_wait tty "^done-1"
screen=$(tm capture-pane -e -p -t tty)
like "$screen" "*c1*${ESC}[31mstopped*" "on a terminal: the state is coloured"

tm_keys tty "clear; NO_COLOR=1 $NVQCTL list; echo done-2" Enter
tm_wait tty "^done-2"
screen=$(tm capture-pane -e -p -t tty)
like "$screen" "*c1*stopped*" "NO_COLOR: the list is shown"
unlike "$screen" "*${ESC}[31m*" "NO_COLOR: no colour"
