#!/usr/bin/perl
# fakevm.pl RUNDIR NAME DESCFILE: a running VM as nvqctl sees one, with
# no QEMU: RUNDIR/NAME/qemu.pid locked as QEMU locks it, a QMP socket
# (control.sock) that says the VM runs, and a guest agent
# (guest-agent.sock) that syncs properly, then answers every other
# command with an error whose desc is DESCFILE's bytes (a hostile
# guest's words).  QMP quit ends it; system_powerdown does nothing.  Prints "ready" once all are there; ends on TERM or
# by itself within a minute, whatever becomes of the test.
use strict;
use warnings;
use Fcntl qw(F_SETLK F_WRLCK SEEK_SET);
use IO::Socket::UNIX;
use IO::Select;
use JSON::PP;

my ($rundir, $name, $descfile) = @ARGV;
die "usage: fakevm.pl RUNDIR NAME DESCFILE\n" unless defined $descfile;
alarm 60;
my $dir = "$rundir/$name";
mkdir $rundir;
mkdir $dir;
my $desc = do { local $/; open my $f, '<:raw', $descfile or die "$descfile: $!\n"; <$f> };

open my $pf, '+>', "$dir/qemu.pid" or die "qemu.pid: $!\n";
syswrite $pf, "$$\n";
# QEMU's whole-file write lock; struct flock's layout is the system's.
my $fl = $^O eq 'netbsd' ? pack('q q l s s', 0, 0, 0, F_WRLCK, SEEK_SET) :
    pack('s s x4 q q l x4', F_WRLCK, SEEK_SET, 0, 0, 0);
fcntl($pf, F_SETLK, $fl) or die "lock: $!\n";

my %srv;
for my $s (qw(control guest-agent)) {
	unlink "$dir/$s.sock";
	$srv{$s} = IO::Socket::UNIX->new(Type => SOCK_STREAM(),
	    Local => "$dir/$s.sock", Listen => 8) or die "$s: $!\n";
}

sub qmp {
	my $c = shift;
	print $c qq({"QMP": {"version": {}, "capabilities": []}}\n);
	while (my $l = <$c>) {
		my $req = eval { decode_json($l) } or next;
		my $id = defined $req->{id} ? $req->{id} : JSON::PP::null;
		my $ret = $req->{execute} eq 'query-status' ?
		    { status => 'running', running => JSON::PP::true } : {};
		print $c encode_json({ return => $ret, id => $id }), "\n";
		# quit ends "QEMU" (its pidfile lock with it); system_powerdown
		# is ignored, as by a guest without ACPI.
		if ($req->{execute} eq 'quit') {
			kill 'TERM', getppid();
			exit 0;
		}
	}
}

sub agent {
	my $c = shift;
	while (my $l = <$c>) {
		$l =~ s/^\xff//;
		my $req = eval { decode_json($l) } or next;
		if ($req->{execute} eq 'guest-sync-delimited') {
			print $c "\xff", encode_json({ return => $req->{arguments}{id} }), "\n";
			next;
		}
		# The desc's bytes as they are: JSON escapes for the
		# characters JSON requires escaped, the rest raw.
		(my $d = $desc) =~ s/([\\"])/\\$1/g;
		$d =~ s/\n/\\n/g;
		$d =~ s/\r/\\r/g;
		$d =~ s/\0/\\u0000/g;
		print $c qq({"error": {"class": "GenericError", "desc": "$d"}}\n);
	}
}

$SIG{CHLD} = 'IGNORE';
$SIG{PIPE} = 'IGNORE';
$SIG{TERM} = sub { unlink "$dir/qemu.pid"; exit 0 };
$| = 1;
print "ready\n";
my $sel = IO::Select->new(values %srv);
while (my @r = $sel->can_read) {
	for my $s (@r) {
		my $c = $s->accept or next;
		defined(my $pid = fork) or die "fork: $!\n";
		if ($pid == 0) {
			$SIG{TERM} = 'DEFAULT';
			alarm 60;
			$c->autoflush(1);
			$s == $srv{control} ? qmp($c) : agent($c);
			exit 0;
		}
		close $c;
	}
}
