#!/usr/bin/perl
# lateqmp.pl SOCKET DELAY: a QMP peer that binds SOCKET but listens only
# DELAY seconds later.  Until then a connect is refused (ECONNREFUSED),
# which is how NetBSD answers a connect to a full listen queue: a QEMU
# that is alive but busy.  Then it greets, negotiates and answers
# query-status "running" on each connection.  Ends within 30 seconds.
use strict;
use warnings;
use Socket;
use IO::Handle;
use Time::HiRes qw(sleep);

my ($path, $delay) = @ARGV;
alarm 30;
socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
unlink $path;
bind($s, pack_sockaddr_un($path)) or die "bind: $!";
print "bound\n";
STDOUT->flush;
sleep $delay;
listen($s, 5) or die "listen: $!";
while (accept(my $c, $s)) {
	$c->autoflush(1);
	print $c qq({"QMP": {"version": {}, "capabilities": []}}\n);
	while (my $l = <$c>) {
		my ($id) = $l =~ /"id":\s*("[^"]*"|\d+)/;
		$id = 'null' unless defined $id;
		if ($l =~ /query-status/) {
			print $c qq({"return": {"status": "running", "running": true}, "id": $id}\n);
		} else {
			print $c qq({"return": {}, "id": $id}\n);
		}
	}
	close $c;
}
