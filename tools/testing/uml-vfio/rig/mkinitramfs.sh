#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the L1 initramfs: static busybox, the L1 kernel's VFIO and peer-NIC
# modules (decompressed, in dependency order), /init (l1-init.sh), the
# vfio-reopen and vfio-poke helpers, uml_mconsole (Debian's uml-utilities,
# with its libraries), and optionally a UML binary at /uml/linux (plus the
# shared libraries it needs) and UML's hostfs root at /uml-root.
#
# Usage: mkinitramfs.sh OUT.cpio.gz [--uml UML_BINARY] [--uml-root DIR]
#                       [--l1-extra DIR]
#   --l1-extra: DIR is copied to /rig in L1; a /rig/job.sh there is what
#   rig.job=script runs (see l1-init.sh).
# Env: RIG_L1_MODULES="names" adds L1 modules (and their dependencies) as
#      the set "extra", which a job script loads with: load_modules extra
#   DIR (guest/mkroot.sh builds it) is copied into /uml-root next to a
#   static busybox (/uml-root/bin); it must hold /init when UML is given.
# Env: RIG_NO_STRIP=1 keeps the UML binary's debug info (default: stripped
#      copy, to keep the initramfs small).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Module sets: top-level names; dependencies come from modules.dep/softdep.
VFIO_MODULES="vfio vfio_iommu_type1 vfio-pci"
PEER_MODULES="virtio_pci virtio_net"

OUT=
UML=
UML_ROOT=
L1_EXTRA=
STAGE=

cleanup() {
	[ -z "$STAGE" ] || rm -rf "$STAGE"
	[ -z "$OUT" ] || rm -f "$OUT.tmp"
}

usage() { die "usage: mkinitramfs.sh OUT.cpio.gz [--uml UML_BINARY] [--uml-root DIR] [--l1-extra DIR]"; }

parse_args() {
	[ $# -ge 1 ] || usage
	OUT=$1
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--uml) UML=${2:?}; shift 2 ;;
		--uml-root) UML_ROOT=${2:?}; shift 2 ;;
		--l1-extra) L1_EXTRA=${2:?}; shift 2 ;;
		*) usage ;;
		esac
	done
	[ -z "$UML" ] || [ -x "$UML" ] || die "$UML is not an executable"
	[ -z "$UML_ROOT" ] || [ -d "$UML_ROOT" ] || die "$UML_ROOT is not a directory"
	[ -z "$L1_EXTRA" ] || [ -d "$L1_EXTRA" ] || die "$L1_EXTRA is not a directory"
}

# add_modules SET NAMES: decompress NAMES and their dependencies into
# /lib/rig-modules and list them, in load order, in SET.order.
add_modules() {
	local set=$1 names=$2 root=${L1_MODDIR%/lib/modules/*} dir=$STAGE/lib/rig-modules
	local m what path ko
	mkdir -p "$dir"
	: > "$dir/$set.order"
	for m in $names; do
		modprobe -d "$root" -S "$L1_KVER" --show-depends "$m"
	done | while read -r what path _; do
		[ "$what" = insmod ] || continue   # "builtin NAME"
		ko=$(basename "$path" .xz)
		ko=${ko%.zst}
		grep -qxF "$ko" "$dir"/*.order && continue
		case $path in
		*.xz) xz -dc "$path" > "$dir/$ko" ;;
		*.zst) zstd -qdc "$path" > "$dir/$ko" ;;
		*) cp "$path" "$dir/$ko" ;;
		esac
		echo "$ko" >> "$dir/$set.order"
	done
	log "modules $set: $(tr '\n' ' ' < "$dir/$set.order")"
}

# uml_mconsole from Debian's uml-utilities, unpacked into the cache (not
# installed: the package brings a daemon and its setup along).
add_mconsole() {
	local dir=$RIG_CACHE/uml-utilities tmp lib bin
	bin=$dir/usr/bin/uml_mconsole
	if [ ! -x "$bin" ]; then
		tmp=$(mktemp -d "$RIG_CACHE/dl.XXXXXX")
		log "downloading uml-utilities (for uml_mconsole)"
		(cd "$tmp" && apt-get download -q uml-utilities) >&2 ||
			die "cannot download uml-utilities"
		rm -rf "$dir"
		dpkg-deb -x "$tmp"/*.deb "$dir"
		rm -rf "$tmp"
	fi
	ensure_pkgs "for uml_mconsole's libraries" libreadline8
	install -m 755 "$bin" "$STAGE/bin/uml_mconsole"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		copy_lib "$lib"
	done
}

# build_helper NAME: the static rig/NAME.c as /bin/NAME (cached).
build_helper() {
	local bin=$RIG_CACHE/$1 src=$RIG_DIR/$1.c
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		step "building the static $1 helper"
		mkdir -p "$RIG_CACHE"
		gcc -static -O2 -Wall -o "$bin.tmp" "$src"
		mv "$bin.tmp" "$bin"
	fi
	cp "$bin" "$STAGE/bin/$1"
}

add_uml_root() {
	local r=$STAGE/uml-root
	install_busybox "$r"
	mkdir -p "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/tests"
	# The kernel opens /dev/console before init runs; hostfs passes the
	# device nodes through to UML's own drivers.
	mknod -m 600 "$r/dev/console" c 5 1
	mknod -m 666 "$r/dev/null" c 1 3
	if [ -n "$UML_ROOT" ]; then
		cp -a "$UML_ROOT/." "$r/"
	fi
	[ -z "$UML" ] || [ -x "$r/init" ] ||
		die "UML's root has no /init: pass --uml-root (see guest/mkroot.sh)"
}

# Copy FILE to the same path inside the stage, following symlinks.
copy_lib() {
	mkdir -p "$STAGE$(dirname "$1")"
	cp -L "$1" "$STAGE$1"
}

add_uml_libs() {
	local lib libc
	if ! ldd "$UML" >/dev/null 2>&1; then
		log "UML is statically linked"
		return 0
	fi
	for lib in $(ldd "$UML" | grep -o '/[^ ]*'); do
		copy_lib "$lib"
	done
	# pthread_cancel dlopens libgcc_s at UML shutdown; ldd does not list it.
	libc=$(ldd "$UML" | sed -n 's/.*=> \(\/[^ ]*libc\.so\.6\) .*/\1/p')
	[ -n "$libc" ] || die "cannot find UML's libc"
	lib=$(dirname "$libc")/libgcc_s.so.1
	[ -e "$lib" ] || die "$lib missing (package libgcc-s1)"
	copy_lib "$lib"
	log "UML is dynamically linked: copied $(ldd "$UML" | wc -l) libs + libgcc_s.so.1"
}

add_uml() {
	step "adding UML ($UML) and its libraries"
	mkdir -p "$STAGE/uml"
	if [ "${RIG_NO_STRIP:-0}" = 1 ]; then
		cp "$UML" "$STAGE/uml/linux"
	else
		strip --strip-debug -o "$STAGE/uml/linux" "$UML"
	fi
	add_uml_libs
}

pack() {
	step "packing $OUT"
	mkdir -p "$(dirname "$OUT")"
	(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	log "wrote $OUT ($(du -h "$OUT" | cut -f1))"
}

main() {
	parse_args "$@"
	ensure_pkgs "to build the L1 initramfs" busybox-static cpio kmod xz-utils zstd file
	ensure_pkgs "to build the static vfio-reopen and vfio-poke helpers" gcc libc6-dev
	quiet_step "getting the L1 kernel (fetch-l1.sh)"
	load_l1_kernel
	STAGE=$(mktemp -d /tmp/uml-vfio-initramfs.XXXXXX)
	step "staging busybox, /init and the L1 kernel's modules ($L1_KVER)"
	install_busybox "$STAGE"
	mkdir -p "$STAGE/proc" "$STAGE/sys" "$STAGE/dev" "$STAGE/tmp"
	install -m 755 "$RIG_DIR/l1-init.sh" "$STAGE/init"
	add_modules vfio "$VFIO_MODULES"
	add_modules peer "$PEER_MODULES"
	# For rig.job=script: load_modules extra
	add_modules extra "${RIG_L1_MODULES:-}"
	build_helper vfio-reopen
	build_helper vfio-poke
	add_mconsole
	quiet_step "staging UML's root"
	add_uml_root
	[ -z "$UML" ] || add_uml
	if [ -n "$L1_EXTRA" ]; then
		mkdir -p "$STAGE/rig"
		cp -a "$L1_EXTRA/." "$STAGE/rig/"
	fi
	pack
}

main "$@"
