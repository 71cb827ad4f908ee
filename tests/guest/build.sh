#!/bin/sh
# Build the nvqctl test guest: a Debian cloud kernel plus a tiny initramfs
# (busybox-static, qemu-ga and the modules for virtio-serial and the ACPI
# power button).  See README beside this file.
#
#   sh tests/guest/build.sh [-f] [OUTDIR]
#
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.img (default OUTDIR: build/guest
# under the repository top) and prints their paths.  Does nothing when both
# are newer than every file in tests/guest/, unless -f is given.
#
# POSIX sh: keep it free of bashisms (it must run under dash and NetBSD sh).

set -eu

prog=build.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
	cat >&2 <<EOF
usage: sh tests/guest/build.sh [-f] [OUTDIR]
  -f      rebuild even if OUTDIR/vmlinuz and OUTDIR/initrd.img are up to date
  OUTDIR  where to write vmlinuz and initrd.img (default: <top>/build/guest)
environment:
  NVQ_GUEST_KERNEL_PKG  kernel metapackage (default linux-image-cloud-amd64)
  NVQ_GUEST_KERNEL_DEB  use this linux-image .deb instead of downloading one
EOF
	exit 2
}

force=0
while getopts fh opt; do
	case $opt in
	f) force=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage

# --- where things are ------------------------------------------------------
here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
out=${1:-$top/build/guest}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

# Every file here except README is an input of the build.
inputs_newer_than() {
	find "$here" -type f ! -name README ! -name '*~' -newer "$1" | grep -q .
}

if [ "$force" = 0 ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
	! inputs_newer_than "$out/vmlinuz" && ! inputs_newer_than "$out/initrd.img"; then
	say "up to date (use -f to rebuild)"
	printf '%s\n%s\n' "$out/vmlinuz" "$out/initrd.img"
	exit 0
fi

# --- host requirements -----------------------------------------------------
# The guest runs the host's busybox and qemu-ga, so the host must be amd64
# like the kernel.
case $(uname -m) in
x86_64 | amd64) ;;
*) die "the guest is x86_64 and uses the host's busybox and qemu-ga: build it on an x86_64 host" ;;
esac

missing=
busybox=
for p in /bin/busybox /usr/bin/busybox; do
	# Must be static (busybox-static): it is copied into the guest alone.
	if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then busybox=$p; break; fi
done
[ -n "$busybox" ] || missing="$missing busybox-static"

qga=
for p in /usr/sbin/qemu-ga /usr/bin/qemu-ga /usr/libexec/qemu-ga; do
	if [ -x "$p" ]; then qga=$p; break; fi
done
[ -n "$qga" ] || missing="$missing qemu-guest-agent"

for c in ldd gzip; do
	command -v $c >/dev/null 2>&1 || missing="$missing libc-bin/gzip($c)"
done
if [ -z "${NVQ_GUEST_KERNEL_DEB:-}" ]; then
	for c in apt-get apt-cache; do
		command -v $c >/dev/null 2>&1 || missing="$missing apt($c)"
	done
fi
command -v dpkg-deb >/dev/null 2>&1 || missing="$missing dpkg(dpkg-deb)"

if [ -n "$missing" ]; then
	say "missing on this host:$missing"
	say "install with:  apt-get install busybox-static qemu-guest-agent"
	exit 1
fi

# --- scratch space -----------------------------------------------------------
# Big scratch (the unpacked kernel package, ~110 MB) under TMPDIR; the
# finished files are staged inside OUTDIR so the final mv is a rename.
scratch=
stage=
cleanup() {
	[ -z "$scratch" ] || rm -rf "$scratch"
	[ -z "$stage" ] || rm -rf "$stage"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nvq-guest.XXXXXX")
stage=$(mktemp -d "$out/.build.XXXXXX")

# --- kernel ------------------------------------------------------------------
if [ -n "${NVQ_GUEST_KERNEL_DEB:-}" ]; then
	deb=$NVQ_GUEST_KERNEL_DEB
	[ -f "$deb" ] || die "NVQ_GUEST_KERNEL_DEB=$deb: no such file"
else
	meta=${NVQ_GUEST_KERNEL_PKG:-linux-image-cloud-amd64}
	kpkg=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^[ |]*Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
	[ -n "$kpkg" ] || die "apt-cache cannot resolve $meta (run: apt-get update)"
	say "kernel: $meta -> $kpkg (apt-get download)"
	mkdir "$scratch/dl"
	# apt drops to the _apt user to download when root; that user cannot
	# write to our private scratch dir, so stay root for this download.
	(cd "$scratch/dl" && apt-get -q -o APT::Sandbox::User=root download "$kpkg" >/dev/null) ||
		die "apt-get download $kpkg failed"
	deb=$(ls "$scratch"/dl/*.deb)
fi
dpkg-deb -x "$deb" "$scratch/k" || die "dpkg-deb -x $deb failed"

kver=$(cd "$scratch/k/lib/modules" && for d in *; do [ -d "$d" ] && echo "$d"; done | head -n 1)
[ -n "$kver" ] || die "$deb has no /lib/modules"
moddir=$scratch/k/lib/modules/$kver
vmlinuz=$scratch/k/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "$deb has no /boot/vmlinuz-$kver"
say "kernel version $kver"

# --- modules ---------------------------------------------------------------
# Wanted: virtio_console + virtio_pci for virtio-serial, virtio_net for
# the network tests, button + evdev for
# the ACPI power button.  Anything built in (modules.builtin) is skipped;
# the rest is loaded in dependency order read from each .ko's depends=.

# The .ko file of module $1 ('-' and '_' are the same in module names), or
# nothing if there is none.
mod_file() {
	_u=$(printf '%s' "$1" | tr - _)
	_d=$(printf '%s' "$1" | tr _ -)
	find "$moddir/kernel" -type f \( -name "$_u.ko" -o -name "$_u.ko.*" \
		-o -name "$_d.ko" -o -name "$_d.ko.*" \) | head -n 1
}

mod_builtin() {
	_u=$(printf '%s' "$1" | tr - _)
	_d=$(printf '%s' "$1" | tr _ -)
	[ -f "$moddir/modules.builtin" ] &&
		grep -q -e "/$_u\.ko\$" -e "/$_d\.ko\$" "$moddir/modules.builtin"
}

# Uncompressed contents of module file $1 on stdout.
mod_cat() {
	case $1 in
	*.ko) cat "$1" ;;
	*.ko.xz) if command -v xz >/dev/null 2>&1; then xz -dc "$1"; else "$busybox" unxz -c "$1"; fi ;;
	*.ko.gz) gzip -dc "$1" ;;
	*.ko.zst) command -v zstd >/dev/null 2>&1 || die "$1 needs zstd (apt-get install zstd)"
		zstd -qdc "$1" ;;
	*) die "unknown module format: $1" ;;
	esac
}

mod_depends() {
	mod_cat "$1" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1 | tr , ' '
}

# Prints module $1's dependencies (recursively) and then $1, one a line;
# built-in modules print nothing.  Duplicates are removed by the caller,
# keeping the first, which keeps every module after its dependencies.
# (Only positional parameters are local in sh: "$1" survives the recursion.)
mod_closure() {
	if mod_builtin "$1"; then
		say "module $1: built in"
		return 0
	fi
	_f=$(mod_file "$1")
	[ -n "$_f" ] || die "module $1: neither built in nor in $deb"
	for _dep in $(mod_depends "$_f"); do
		mod_closure "$_dep"
	done
	printf '%s\n' "$1"
}

root=$scratch/root
mkdir -p "$root/lib/modules"
: >"$root/lib/modules/load.list"
for m in virtio_console virtio_pci button evdev virtio_net; do
	mod_closure "$m"
done >"$scratch/modules.all"
awk '!seen[$0]++' "$scratch/modules.all" >"$scratch/modules"
while read -r m; do
	f=$(mod_file "$m")
	n=$(printf '%s' "$m" | tr - _)
	mod_cat "$f" >"$root/lib/modules/$n.ko"
	printf '%s\n' "$n" >>"$root/lib/modules/load.list"
done <"$scratch/modules"
say "modules (load order): $(tr '\n' ' ' <"$root/lib/modules/load.list")"
# Loaded only by the nvq.disks switch (init): virtio_blk, after the
# dependencies it does not share with the list above.
mod_closure virtio_blk | while read -r m; do
	n=$(printf '%s' "$m" | tr - _)
	grep -qx "$n" "$root/lib/modules/load.list" && continue
	mod_cat "$(mod_file "$m")" >"$root/lib/modules/$n.ko"
	printf '%s\n' "$n"
done >"$root/lib/modules/disks.list"
say "modules for nvq.disks: $(tr '\n' ' ' <"$root/lib/modules/disks.list")"

# Loaded only with nvq.cidata (init): virtio disks, FAT and ISO9660 for a
# cloud-init seed, the IDE CD-ROM for an ISO; those of load.list skipped.
for m in virtio_blk vfat nls_cp437 nls_ascii nls_utf8 isofs ata_piix sr_mod; do
	mod_closure "$m"
done >"$scratch/cidata.all"
awk 'NR == FNR { have[$0] = 1; next } !have[$0] && !seen[$0]++' \
	"$scratch/modules" "$scratch/cidata.all" >"$scratch/cidata"
: >"$root/lib/modules/cidata.list"
while read -r m; do
	f=$(mod_file "$m")
	n=$(printf '%s' "$m" | tr - _)
	mod_cat "$f" >"$root/lib/modules/$n.ko"
	printf '%s\n' "$n" >>"$root/lib/modules/cidata.list"
done <"$scratch/cidata"
say "nvq.cidata modules: $(tr '\n' ' ' <"$root/lib/modules/cidata.list")"

# --- initramfs tree ----------------------------------------------------------
for d in bin sbin usr/bin usr/sbin dev proc sys run tmp root var/log etc/acpi/PWRF; do
	mkdir -p "$root/$d"
done
chmod 1777 "$root/tmp"

cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r a; do
	case $a in bin/busybox | "") continue ;; esac
	[ -e "$root/$a" ] || [ -h "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done

# qemu-ga and every library ldd lists, at the same paths (the guest has no
# ld.so.cache; the loader's built-in search path covers them).
cp "$qga" "$root/usr/sbin/qemu-ga"
ln -s ../sbin/qemu-ga "$root/usr/bin/qemu-ga"
ldd "$qga" >"$scratch/ldd" || die "ldd $qga failed"
if grep -q 'not found' "$scratch/ldd"; then
	cat "$scratch/ldd" >&2
	die "ldd $qga: libraries not found"
fi
while read -r a b c rest; do
	case $a in
	/*) lib=$a ;;                 # the dynamic loader
	*) [ "$b" = "=>" ] || continue # linux-vdso.so.1
		lib=$c ;;
	esac
	case $lib in /*) ;; *) continue ;; esac
	mkdir -p "$root${lib%/*}"
	cp -L "$lib" "$root$lib"
done <"$scratch/ldd"

# A guest whose init does not parse panics its kernel part-way through
# boot; refuse to build one.
sh -n "$here/init" || die "$here/init: sh -n refuses it"
cp "$here/init" "$root/init"
cp "$here/shutdown" "$root/sbin/shutdown"
cp "$here/acpi-power" "$root/etc/acpi/PWRF/00000080"
chmod 755 "$root/init" "$root/sbin/shutdown" "$root/etc/acpi/PWRF/00000080"

# --- pack ------------------------------------------------------------------
(cd "$root" && find . | sed 's|^\./||' | grep -v '^\.$' | LC_ALL=C sort >"$scratch/list" &&
	"$busybox" cpio -o -H newc -R 0:0 <"$scratch/list" >"$scratch/initrd.cpio" 2>"$scratch/cpio.err") ||
	{ cat "$scratch/cpio.err" >&2; die "cpio failed"; }
gzip -9 -n <"$scratch/initrd.cpio" >"$stage/initrd.img" || die "gzip failed"
cp "$vmlinuz" "$stage/vmlinuz"

# Commit: initrd.img appears last, so a build killed in between leaves no
# initrd.img and the next run rebuilds.
rm -f "$out/initrd.img"
mv -f "$stage/vmlinuz" "$out/vmlinuz"
mv -f "$stage/initrd.img" "$out/initrd.img"

say "initrd.img: $(wc -c <"$out/initrd.img" | tr -d ' ') bytes"
printf '%s\n%s\n' "$out/vmlinuz" "$out/initrd.img"
