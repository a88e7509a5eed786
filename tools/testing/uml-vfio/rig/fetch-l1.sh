#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's L1 guest kernel (default: linux-image-6.12-amd64, from
# bookworm-security) with `apt-get download`, unpack it into the cache and
# run depmod on it. Uses the system's existing apt lists; never edits /etc/apt.
#
# Usage: fetch-l1.sh
# Prints shell assignments on stdout (eval them):
#   L1_KVER=6.12.x+deb12-amd64
#   L1_VMLINUZ=.../boot/vmlinuz-$L1_KVER
#   L1_MODDIR=.../lib/modules/$L1_KVER   (has modules.dep, modules.builtin)
# Env: L1_KERNEL_META  meta-package to resolve (default linux-image-6.12-amd64)
#      UML_VFIO_CACHE  cache root (default ~/.cache/uml-vfio)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

meta=${L1_KERNEL_META:-linux-image-6.12-amd64}

# "linux-image-6.12.117+deb12-amd64" from the meta-package's Depends;
# nothing if apt-cache does not know the meta-package (yet).
real_image_pkg() {
	local show

	show=$(apt-cache show "$meta" 2> /dev/null || true)
	sed -n 's/^Depends: *//p' <<<"$show" | sed -n 1p | tr ',' '\n' |
		sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | sed -n 1p
}

resolve_pkg() {
	local pkg
	pkg=$(real_image_pkg)
	if [ -z "$pkg" ]; then
		step "$meta unknown to apt-cache: running apt-get update"
		apt-get update -q >&2
		pkg=$(real_image_pkg)
	fi
	[ -n "$pkg" ] || die "cannot resolve $meta to a versioned image package"
	echo "$pkg"
}

# Download and unpack PKG into DEST (once).
unpack_pkg() {
	local pkg=$1 dest=$2 tmp deb
	[ -e "$dest/.unpacked" ] && return 0
	tmp=$(mktemp -d "$RIG_CACHE/dl.XXXXXX")
	step "downloading $pkg"
	(cd "$tmp" && apt-get download -q "$pkg") >&2
	step "unpacking $pkg into $dest"
	rm -rf "$dest"
	mkdir -p "$dest"
	for deb in "$tmp"/*.deb; do
		[ -f "$deb" ] || die "apt-get download left no .deb for $pkg"
		dpkg-deb -x "$deb" "$dest"
	done
	rm -rf "$tmp"
	touch "$dest/.unpacked"
}

main() {
	local pkg kver root
	ensure_pkgs "to unpack and index the L1 kernel's modules" kmod xz-utils
	mkdir -p "$RIG_CACHE"
	quiet_step "resolving $meta to an image package"
	pkg=$(resolve_pkg)
	kver=${pkg#linux-image-}
	root=$RIG_CACHE/kernel/$kver
	unpack_pkg "$pkg" "$root"
	if [ ! -s "$root/lib/modules/$kver/modules.dep" ]; then
		step "indexing the L1 kernel's modules (depmod $kver)"
		depmod -b "$root" "$kver"
	fi
	[ -f "$root/boot/vmlinuz-$kver" ] || die "no vmlinuz in $pkg"
	echo "L1_KVER=$kver"
	echo "L1_VMLINUZ=$root/boot/vmlinuz-$kver"
	echo "L1_MODDIR=$root/lib/modules/$kver"
}

main "$@"
