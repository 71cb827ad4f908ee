#!/usr/bin/perl
# fakepeer.pl DIR [SEED]: fake QMP and guest-agent peers for peers.lua,
# one unix socket per misbehaviour in DIR (see %modes).  The *-random
# modes send seeded random streams: connection N to a mode is seeded
# from SEED, the mode and N, so a failing case can be repeated.  Every
# process ends by itself within a minute, whatever becomes of the test.
use strict;
use warnings;
use IO::Socket::UNIX;
use JSON::PP;

my $dir = shift or die "usage: fakepeer.pl DIR [SEED]\n";
my $SEED = shift // 1;
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
# anything else ($reply->($c) when it is code: it returns false to end).
sub agent {
	my ($c, $reply) = @_;
	while (my $l = <$c>) {
		$l =~ s/^\xff//;
		my $req = eval { decode_json($l) } or next;
		if ($req->{execute} eq 'guest-sync-delimited') {
			print $c "\xff", encode_json({ return => $req->{arguments}{id} }), "\n";
		} elsif (ref $reply) {
			$reply->($c) or return;
		} else {
			print $c "$reply\n";
		}
	}
}

# Sends $data once, then keeps the connection open and silent.
sub then_silence {
	my ($c, $data) = @_;
	$SIG{PIPE} = 'IGNORE';
	syswrite($c, $data);
	sleep $FLOOD;
}

# What a random stream is made of.  No line in it is a reply any client
# could take: QMP replies carry ids nvqctl never uses (it counts from
# nvq-1; "nvq-0" never comes), agent sync replies ids it never draws
# (it draws 1 to 2^31-1), and the agent's stream after a good sync has
# no reply at all.  So every client call must end in nil, why.
my $DEEP = ('{"a": ' x 100) . '1' . ('}' x 100);
my @ANY = ('[1, 2, 3]', '"string"', 'null', '1e999', '-0', '{}', 'true',
	'{"id": "nvq-x"}', '{"event": 7}', '{"event": null, "data": 1}',
	'{"event": "X", "data": {}}', '{"QMP": {"version": {}, "capabilities": []}}',
	'{"event": "SHUTDOWN", "data": {"guest": true}, "timestamp": ' .
	'{"seconds": 1, "microseconds": 2}}', $DEEP, "{\"event\": \"\xc3\x28\xff\"}",
	'{"event": "\ud800"}', '{"QMP": 1', '{', '}', '""');
my %WORDS = (
	qmp => [@ANY, '{"return": {}, "id": "nope"}',
		'{"return": {"status": "running"}, "id": 12345}',
		'{"return": {}, "id": {"nvq": 1}}', '{"return": {}, "id": null}',
		'{"return": {}, "id": "nvq-0"}', '{"return": {}, "id": "cap"',
		'{"error": {"class": "GenericError", "desc": "no"}, "id": "nvq-0"}',
		'{"error": 7, "id": "x"}', '{"return": "\ud800", "id": -1}'],
	sync => [@ANY, "\xff", "\xff{", '{"return": 0}', '{"return": -1}',
		'{"return": "1"}', "\xff" . '{"return": 0}', '{"return": 2147483648}'],
	agent => [@ANY, "\xff", "\xff{", '{"return": 0', '{"error": {'],
);

# A random stream in the vocabulary $kind, then one of three endings:
# the connection closed, kept open and silent, or the stream sent again
# and again (a peer that never pauses).
sub random_stream {
	my ($c, $kind) = @_;
	my $w = $WORDS{$kind};
	my $s = '';
	# Half the streams are lines of JSON objects and arrays only, which
	# a QMP client reads on (a line that is not one ends its read).
	if (rand 2 < 1) {
		$w = [grep { length($_) < 500 &&
		    ref(eval { JSON::PP->new->decode($_) }) } @$w];
	}
	my $json = $w != $WORDS{$kind};
	for (1 .. 1 + int rand 120) {
		my $r = $json ? rand 40 : rand 100;
		if ($r < 40) {
			$s .= $w->[rand @$w] . "\n";
		} elsif ($r < 48) {
			my $x = $w->[rand @$w];
			$s .= substr($x, 0, int rand length $x);
		} elsif ($r < 68) {
			$s .= join '', map { chr int rand 256 } 1 .. 1 + int rand 300;
		} elsif ($r < 73) {
			$s .= "\n" x (1 + int rand 5);
		} elsif ($r < 80) {
			$s .= "\0" x (1 + int rand 5000);
		} elsif ($r < 90) {
			$s .= "\xff" x (1 + int rand 5000);
		} elsif ($r < 92) {
			$s .= 'x' x (1 + int rand 3_000_000);
			$s .= "\n" if rand 2 < 1;
		} else {
			$s .= ' ' x (int rand 50) . "\r\n";
		}
	}
	my $end = int rand 3;
	if ($end == 0) {
		$SIG{PIPE} = 'IGNORE';
		syswrite($c, $s);
	} elsif ($end == 1) {
		then_silence($c, $s);
	} else {
		flood($c, $s);
	}
	return 0;
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

	# QMP: replies to ids never asked, without end.
	'qmp-wrongid' => sub {
		qmp($_[0], sub {
			flood($_[0], (qq({"return": {}, "id": "nvq-0"}\n) .
			    qq({"return": 1, "id": 99}\n)) x 2048);
			return 0;
		});
	},
	# QMP: replies with numbers for ids, none of them asked (qmpbatch
	# asks 1..n), then silence.
	'qmp-otherid' => sub {
		qmp($_[0], sub {
			then_silence($_[0], join('', map { qq({"return": {}, "id": $_}\n) }
			    0, 2, 1.5, -1, 12345, '1e400', '"1"'));
			return 0;
		});
	},
	# QMP: NUL bytes without end (no newline: a line over any bound).
	'qmp-nul' => sub {
		qmp($_[0], sub { flood($_[0], "\0" x 65536); 0 });
	},
	# QMP: lines of NULs without end.
	'qmp-nullines' => sub {
		qmp($_[0], sub { flood($_[0], "\0\0\0\n" x 16384); 0 });
	},
	# QMP: a 20 MB line (more than any reader takes), then silence.
	'qmp-hugeline' => sub {
		qmp($_[0], sub { then_silence($_[0], 'x' x 20_000_000); 0 });
	},
	# QMP: half a reply, then silence.
	'qmp-partial' => sub {
		qmp($_[0], sub {
			then_silence($_[0], qq({"return": {"status": "runn));
			return 0;
		});
	},
	# QMP: a reply nested deeper than the decoder goes, without end.
	'qmp-deep' => sub {
		qmp($_[0], sub { flood($_[0], "$DEEP\n" x 256); 0 });
	},
	# QMP: no greeting, random bytes without end.
	'qmp-nogreet' => sub {
		flood($_[0], join('', map { chr int rand 256 } 1 .. 65536));
	},
	# QMP: random streams from the start, or after a proper greeting
	# and negotiation.
	'qmp-random' => sub { random_stream($_[0], 'qmp') },
	'qmp-random-synced' => sub {
		qmp($_[0], sub { random_stream($_[0], 'qmp') });
	},
	# The agent: a storm of 0xFF bytes, no newline.
	'agent-ffstorm' => sub { flood($_[0], "\xff" x 65536) },
	# The agent: 0xFF and an empty line, without end.
	'agent-fflines' => sub { flood($_[0], "\xff\n" x 32768) },
	# The agent: syncs, then NULs without end.
	'agent-nul' => sub { agent($_[0], sub { flood($_[0], "\0" x 65536); 0 }) },
	# The agent: syncs, then a 3 MB line and silence.
	'agent-hugeline' => sub {
		agent($_[0], sub { then_silence($_[0], 'y' x 3_000_000 . "\n"); 0 });
	},
	# The agent: syncs, then half a reply and silence.
	'agent-partial' => sub {
		agent($_[0], sub { then_silence($_[0], '{"return": {"a'); 0 });
	},
	# The agent: random streams from the start, or after a good sync.
	'agent-random' => sub { random_stream($_[0], 'sync') },
	'agent-random-synced' => sub {
		agent($_[0], sub { random_stream($_[0], 'agent') });
	},
);

$| = 1;
my @kids;
my $mi = 0;
for my $mode (sort keys %modes) {
	$mi++;
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
	my $n = 0;
	while (my $c = $srv->accept) {
		$n++;
		defined(my $h = fork) or die "fork: $!\n";
		if ($h == 0) {
			alarm 60;
			# Connection $n to this mode: its own reproducible stream.
			srand($SEED * 1000 + $mi * 100 + $n);
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
