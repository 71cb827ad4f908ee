#!/usr/bin/perl
# readypeer.pl DIR: peers for ready.lua (started by ready.t): fake serial
# consoles, one unix socket per behaviour in DIR, and TCP ports on
# 127.0.0.1: one that starts listening late (and then holds each
# connection a second, silent), one that never listens, one that closes
# each connection at once, one that sends a banner first.  Prints
# "tcp LATE CLOSED SLAM BANNER" once all are bound.  Every process ends by
# itself within a minute, whatever becomes of the test.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Time::HiRes qw(sleep time);

my $dir = shift or die "usage: readypeer.pl DIR\n";
my $LISTEN_AFTER = 1.5;	# seconds before the late port listens
alarm 60;

my %modes = (
	# Boot noise, then the text in two writes: a match straddling reads.
	'split' => sub {
		my $c = shift;
		syswrite($c, "[    0.1] booting\r\nnoise NVQ-GU");
		sleep 0.3;
		syswrite($c, "EST-READY\r\n");
		sleep 10;
	},
	# Output without end that never holds the text, nor a newline.
	'flood' => sub {
		my $c = shift;
		my $end = time + 4;
		my $chunk = 'NVQ-GUEST-READ' x 4096;
		$SIG{PIPE} = 'IGNORE';
		while (time < $end) {
			defined syswrite($c, $chunk) or return;
		}
	},
	# A console that says nothing.
	'mute' => sub { sleep 10 },
);

$| = 1;
my @kids;
sub server {
	my ($srv, $serve) = @_;
	defined(my $pid = fork) or die "fork: $!\n";
	if ($pid) {
		push @kids, $pid;
		return;
	}
	alarm 60;
	$SIG{CHLD} = 'IGNORE';
	while (my $c = $srv->accept) {
		defined(my $h = fork) or die "fork: $!\n";
		if ($h == 0) {
			alarm 60;
			$serve->($c);
			exit 0;
		}
		close $c;
	}
	exit 0;
}

for my $mode (sort keys %modes) {
	my $path = "$dir/$mode.sock";
	unlink $path;
	my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path,
	    Listen => 8) or die "$path: $!\n";
	server($srv, $modes{$mode});
}

# Bound now, listening only later: until then a connection is refused.
my $late = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => '127.0.0.1',
    LocalPort => 0, ReuseAddr => 1) or die "tcp: $!\n";
# Bound and never listening: always refused.
my $closed = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => '127.0.0.1',
    LocalPort => 0) or die "tcp: $!\n";
# Listening: one that closes every connection at once (as a user-mode
# forward does when the guest refuses), one that speaks first (a banner).
my $slam = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => '127.0.0.1',
    LocalPort => 0, Listen => 8) or die "tcp: $!\n";
server($slam, sub { close $_[0] });
my $banner = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => '127.0.0.1',
    LocalPort => 0, Listen => 8) or die "tcp: $!\n";
server($banner, sub { syswrite($_[0], "SSH-2.0-fake\r\n"); sleep 2 });
print "tcp ", $late->sockport, " ", $closed->sockport, " ",
    $slam->sockport, " ", $banner->sockport, "\n";
defined(my $pid = fork) or die "fork: $!\n";
if ($pid == 0) {
	sleep $LISTEN_AFTER;
	listen($late, 8) or die "listen: $!\n";
	server($late, sub { sleep 1 });
	$SIG{TERM} = sub { kill 'TERM', @kids; exit 0 };
	sleep 60;
	exit 0;
}
push @kids, $pid;
# TERM (from the test, when it is done) ends the listeners too.
$SIG{TERM} = sub { kill 'TERM', @kids; exit 0 };
sleep 60;
kill 'TERM', @kids;
