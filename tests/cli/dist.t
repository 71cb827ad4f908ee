#!/bin/sh
# dist.t: make dist, from a clone of the committed tree: a reproducible
# nvqctl-VERSION.tar.gz without the pkgsrc description, whose checksums
# are the committed distinfo's, and from which bmake builds nvqctl in an
# empty directory.  A tree with uncommitted changes is refused.
. "$(dirname "$0")/../lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

command -v git >/dev/null 2>&1 && git -C "$TOP" rev-parse HEAD >/dev/null 2>&1 ||
    { diag "not a git checkout: skipped"; exit 0; }
git clone -q "$TOP" "$TMP/clone" 2>"$TMP/err"
ok $? "clone the committed tree"
C="$TMP/clone"
ver=$(sed -n 's/^#define NVQ_VERSION[^"]*"\(.*\)"/\1/p' "$C/core/nvq.h")
tgz="nvqctl-$ver.tar.gz"
DI="$C/examples/pkgsrc/sysutils/nvqctl/distinfo"

(cd "$C" && make dist) >"$TMP/out" 2>&1
is "$?" 0 "make dist"
[ -f "$C/$tgz" ]
ok $? "make dist: $tgz"
cp "$C/$tgz" "$TMP/first.tgz"
(cd "$C" && make dist) >/dev/null 2>&1
cmp -s "$C/$tgz" "$TMP/first.tgz"
ok $? "make dist twice: the same bytes"
tar tzf "$C/$tgz" >"$TMP/list"
is "$(sed -n 1p "$TMP/list")" "nvqctl-$ver/" "the tarball unpacks into nvqctl-$ver/"
is "$(grep -c pkgsrc "$TMP/list")" 0 "the tarball holds no pkgsrc description"

# The committed distinfo describes this tarball; checked with sha512sum
# and wc rather than with the script that wrote it.
sha=$(sed -n "s/^SHA512 ($tgz) = //p" "$DI")
size=$(sed -n "s/^Size ($tgz) = \([0-9]*\) bytes$/\1/p" "$DI")
is "$sha" "$(sha512sum <"$C/$tgz" | cut -d' ' -f1)" "distinfo: SHA512 matches"
is "$size" "$(wc -c <"$C/$tgz" | tr -d ' ')" "distinfo: Size matches"
(cd "$C" && make distinfo) >/dev/null 2>&1
(cd "$C" && git diff --quiet -- "$DI")
ok $? "distinfo is what make distinfo writes for HEAD (if not: run make distinfo, commit)"
[ $? -eq 0 ] || (cd "$C" && git diff -- "$DI" | sed 's/^/# /')

# Built by bmake from the unpacked tarball alone.
mkdir "$TMP/empty"
(cd "$TMP/empty" && tar xzf "$C/$tgz" && cd "nvqctl-$ver" &&
    bmake nvqctl) >"$TMP/out" 2>&1
is "$?" 0 "bmake builds nvqctl from the unpacked tarball"
[ $? -eq 0 ] || tail -n 5 "$TMP/out" | sed 's/^/# /'
run "$TMP/empty/nvqctl-$ver/nvqctl" -V
like "$OUT" "nvqctl $ver*" "the tarball's nvqctl says its version"

# Uncommitted changes would be missing from the tarball: refused.
echo "# changed" >>"$C/README.md"
run sh -c "cd '$C' && make dist"
is "$RC" 2 "make dist from a dirty tree: refused"
like "$ERR" "*uncommitted changes*README.md*" "make dist from a dirty tree: says what"
