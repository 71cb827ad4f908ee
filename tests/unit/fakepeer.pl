#!/usr/bin/perl
# fakepeer.pl DIR: fake QMP and guest-agent peers for peers.lua, one
# unix socket per misbehaviour in DIR (see %modes).  Every process ends
# by itself within a minute, whatever becomes of the test.
use strict;
use warnings;
use IO::Socket::UNIX;
use JSON::PP;

my $dir = shift or die "usage: fakepeer.pl DIR\n";
my $FLOOD = 4;	# seconds a flood lasts: longer than any deadline tested
alarm 60;

sub greet { print {$_[0]} qq({"QMP": {"version": {}, "capabilities": []}}\n) }

# Sends $chunk again and again for $FLOOD seconds (or until the client
# has gone), so that a read never has to wait.
sub flood {
	my ($c, $chunk) = @_;
	my $end = time + $FLOOD;
	$SIG{PIPE} = 'IGNORE';
	while (time < $end) {
		defined syswrite($c, $chunk) or return;
	}
}

# Answers the agent's guest-sync-delimited properly; gives $reply to
# anything else.
sub agent {
	my ($c, $reply) = @_;
	while (my $l = <$c>) {
		$l =~ s/^\xff//;
		my $req = eval { decode_json($l) } or next;
		if ($req->{execute} eq 'guest-sync-delimited') {
			print $c "\xff", encode_json({ return => $req->{arguments}{id} }), "\n";
		} else {
			print $c "$reply\n";
		}
	}
}

# Greets, negotiates, then answers every command by $answer->(id).
sub qmp {
	my ($c, $answer) = @_;
	greet($c);
	while (my $l = <$c>) {
		my $req = eval { decode_json($l) } or next;
		my $id = encode_json([$req->{id}]);
		$id =~ s/^\[(.*)\]$/$1/;
		if ($req->{execute} eq 'qmp_capabilities') {
			print $c qq({"return": {}, "id": $id}\n);
		} else {
			$answer->($c, $id) or return;
		}
	}
}

my %modes = (
	# The agent: 0xFF and a sync reply with the wrong id, without end.
	'agent-syncflood' => sub { flood($_[0], qq(\xff{"return": 1}\n) x 4096) },
	# The agent: bytes without the 0xFF marker, without end.
	'agent-noff' => sub { flood($_[0], 'z' x 65536) },
	# The agent: syncs, then an error that is no object.
	'agent-errnum' => sub { agent($_[0], '{"error": 7}') },
	# QMP: greets, negotiates, then events without end, no reply.
	'qmp-eventflood' => sub {
		qmp($_[0], sub {
			flood($_[0], qq({"event": "X", "data": {}}\n) x 4096);
			return 0;
		});
	},
	# QMP: an error reply that is no object.
	'qmp-errnum' => sub {
		qmp($_[0], sub { print {$_[0]} qq({"error": 7, "id": $_[1]}\n); 1 });
	},
);

$| = 1;
my @kids;
for my $mode (sort keys %modes) {
	my $path = "$dir/$mode.sock";
	unlink $path;
	my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path,
	    Listen => 8) or die "$path: $!\n";
	defined(my $pid = fork) or die "fork: $!\n";
	if ($pid) {
		push @kids, $pid;
		next;
	}
	alarm 60;
	$SIG{CHLD} = 'IGNORE';
	while (my $c = $srv->accept) {
		defined(my $h = fork) or die "fork: $!\n";
		if ($h == 0) {
			alarm 60;
			$c->autoflush(1);
			$modes{$mode}->($c);
			exit 0;
		}
		close $c;
	}
	exit 0;
}
# TERM (from the test, when it is done) ends the listeners too.
$SIG{TERM} = sub { kill 'TERM', @kids; exit 0 };
print "ready\n";
sleep 60;
kill 'TERM', @kids;
