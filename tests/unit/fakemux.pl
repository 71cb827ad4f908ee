#!/usr/bin/perl
# fakemux.pl DIR: fake ssh ControlMaster sockets for mux.lua, one per
# misbehaviour in DIR (see %modes).  Each reads what the client sends
# and writes canned packets of OpenSSH's multiplexing protocol; the
# descriptors the client passes are dropped.  Ends by itself within a
# minute, whatever becomes of the test.
use strict;
use warnings;
use IO::Socket::UNIX;

my $dir = shift or die "usage: fakemux.pl DIR\n";
alarm 60;
$SIG{PIPE} = 'IGNORE';
$| = 1;

sub pkt { my $b = pack('N*', @_); pack('N', length $b) . $b }
sub pktstr { my ($t, $rid, $s) = @_;
	my $b = pack('NN', $t, $rid) . pack('N', length $s) . $s;
	pack('N', length $b) . $b }
my $HELLO = pkt(1, 4);
my $OPENED = pkt(0x80000006, 1, 7);

# Each mode: what follows the client's hello, and what follows its
# session request (with the three bytes that carried descriptors).
my %modes = (
	# A session that ends with status 3 and no output.
	'exit3' => [$HELLO, $OPENED . pkt(0x80000004, 7, 3)],
	# Opened, then the master goes: no exit status.
	'noexit' => [$HELLO, $OPENED],
	# The master refuses the session.
	'refuse' => [$HELLO, pktstr(0x80000003, 1, 'no more sessions')],
	# Another protocol version.
	'v3' => [pkt(1, 3)],
	# A packet length no master sends.
	'huge' => ["\xff\xff\xff\xff" . ("x" x 64)],
	# Hello, then silence.
	'hang' => [$HELLO],
);

# Reads exactly $n bytes (less when the client goes).
sub take {
	my ($c, $n) = @_;
	my $got = '';
	while (length $got < $n) {
		my $r = sysread($c, my $buf, $n - length $got) or last;
		$got .= $buf;
	}
	return $got;
}

sub serve {
	my ($c, $m) = @_;
	my ($first, $second) = @{$modes{$m}};
	take($c, 12);
	syswrite($c, $first);
	if (!defined $second) {
		sleep 5 if $m eq 'hang';
		return;
	}
	my $len = unpack('N', take($c, 4) || "\0\0\0\0");
	take($c, $len + 3);
	syswrite($c, $second);
}

for my $m (keys %modes) {
	my $path = "$dir/$m";
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
	    Listen => 5) or die "$path: $!\n";
	next if fork;
	while (my $c = $s->accept) {
		serve($c, $m);
		close $c;
	}
	exit 0;
}
print "ready\n";
sleep 60;
