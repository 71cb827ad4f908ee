#!/bin/sh
# mkdistinfo.sh TARBALL: prints a pkgsrc distinfo for TARBALL, the three
# lines pkgsrc's "make makesum" writes (BLAKE2s, SHA512, Size).  Uses
# NetBSD's digest(1) when there is one, else openssl(1).
set -eu
f=$1
name=${f##*/}
sum() {	# sum ALGORITHM: the hex digest of $f
	if command -v digest >/dev/null 2>&1; then
		digest "$1" <"$f" | sed 's/.*[= ]//'
	else
		case $1 in
		blake2s) a=blake2s256 ;;
		sha512) a=sha512 ;;
		esac
		openssl dgst "-$a" <"$f" | sed 's/.*= *//'
	fi
}
size=$(wc -c <"$f" | tr -d ' ')
printf '$%s$\n\n' NetBSD
printf 'BLAKE2s (%s) = %s\n' "$name" "$(sum blake2s)"
printf 'SHA512 (%s) = %s\n' "$name" "$(sum sha512)"
printf 'Size (%s) = %s bytes\n' "$name" "$size"
