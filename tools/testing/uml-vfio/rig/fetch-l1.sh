#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch the L1 guest kernel: Debian's linux-image-6.12, pinned to one
# version (PIN_VERSION below, or L1_KERNEL_VERSION=), downloaded through a
# private apt sources file and lists directory in the cache (/etc/apt is
# never touched), unpacked into the cache and indexed with depmod. If the
# pinned version is gone from the archive, the newest
# linux-image-6.12.N+deb12-amd64 of bookworm-security, then of bookworm,
# is taken with a WARNING line (repeated at every run that uses it). The
# version used is recorded in $RIG_CACHE/l1-version ("PACKAGE VERSION").
#
# Usage: fetch-l1.sh              prints shell assignments (eval them):
#          L1_KVER=6.12.117+deb12-amd64
#          L1_VERSION=6.12.117-1~deb12u1
#          L1_VMLINUZ=.../boot/vmlinuz-$L1_KVER
#          L1_MODDIR=.../lib/modules/$L1_KVER  (has modules.dep, modules.builtin)
#        fetch-l1.sh headers DIR  unpacks the linux-headers of that kernel
#                                 (same version, with its -common and kbuild
#                                 packages) into DIR
#        fetch-l1.sh pin          prints the pinned package and version
# Env: L1_KERNEL_VERSION  the version to pin instead of PIN_VERSION
#      UML_VFIO_CACHE     cache root (default ~/.cache/uml-vfio)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIN_VERSION=${L1_KERNEL_VERSION:-6.12.117-1~deb12u1}
# bookworm's 6.12 image packages are named after the upstream version.
PIN_PKG=linux-image-${PIN_VERSION%%-*}+deb12-amd64
SUITES="bookworm-security bookworm"
APT_DIR=$RIG_CACHE/apt
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
APT_OPTS=(-o "Dir::Etc::sourcelist=$APT_DIR/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache"
	-o "Dir::Cache::archives=$APT_DIR/archives" -o "Dir::State::status=$APT_DIR/status"
	-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
TMP=

cleanup() {
	[ -z "$TMP" ] || rm -rf "$TMP"
}

# The private package lists, updated once per choice of kernel.
update_lists() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial"
	: > "$APT_DIR/status"
	cat > "$APT_DIR/sources.list" <<-SRC
	deb [signed-by=$KEYRING] http://deb.debian.org/debian-security bookworm-security main
	deb [signed-by=$KEYRING] http://deb.debian.org/debian bookworm main
	SRC
	step "updating the private package lists in $APT_DIR ($SUITES)"
	rm -f "$APT_DIR/updated"
	apt-get -q "${APT_OPTS[@]}" update >&2
	touch "$APT_DIR/updated"
}

# Every linux-image-6.12.N+deb12-amd64 in the private lists, one per line
# as "suite version package".
candidates() {
	local pkgs

	pkgs=$(apt-cache "${APT_OPTS[@]}" pkgnames linux-image-6.12. |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' || true)
	[ -n "$pkgs" ] || return 0
	# shellcheck disable=SC2086
	apt-cache "${APT_OPTS[@]}" madison $pkgs |
		awk -F' *[|] *' '{ sub(/^ +/, "", $1); split($3, u, " "); split(u[2], s, "/"); print s[1], $2, $1 }'
}

# "package version" to use: the pin, else the newest of the first suite
# that has any.
pick() {
	local all suite best

	all=$(candidates)
	if [ -n "$(awk -v p="$PIN_PKG" -v v="$PIN_VERSION" '$3 == p && $2 == v' <<<"$all")" ]; then
		echo "$PIN_PKG $PIN_VERSION"
		return
	fi
	for suite in $SUITES; do
		best=$(awk -v s="$suite" '$1 == s { print $3, $2 }' <<<"$all" | sort -k2,2V | tail -n 1)
		if [ -n "$best" ]; then
			warn "pinned L1 kernel $PIN_PKG=$PIN_VERSION is gone from $SUITES; falling back to ${best/ /=} from $suite"
			echo "$best"
			return
		fi
	done
	die "no linux-image-6.12.*+deb12-amd64 in $SUITES"
}

# Sets PKG and VERSION: the choice recorded for this pin, or a new one.
choose() {
	local choice

	if [ "$(cat "$RIG_CACHE/l1-pin" 2> /dev/null)" = "$PIN_PKG $PIN_VERSION" ] &&
	   [ -s "$RIG_CACHE/l1-version" ]; then
		read -r PKG VERSION < "$RIG_CACHE/l1-version"
		if [ "$PKG $VERSION" != "$PIN_PKG $PIN_VERSION" ]; then
			warn "using $PKG=$VERSION, not the pinned $PIN_PKG=$PIN_VERSION (gone; recorded in $RIG_CACHE/l1-version)"
		fi
		return
	fi
	update_lists
	step "choosing the L1 kernel (pinned: $PIN_PKG=$PIN_VERSION)"
	choice=$(pick)
	read -r PKG VERSION <<<"$choice"
	rm -f "$RIG_CACHE/l1-pin"
	echo "$PKG $VERSION" > "$RIG_CACHE/l1-version"
	echo "$PIN_PKG $PIN_VERSION" > "$RIG_CACHE/l1-pin"
}

# fetch DEST PKG=VERSION...: download the packages and unpack them all
# into DEST, which then holds a .unpacked file naming them.
fetch() {
	local dest=$1 deb

	shift
	[ "$(cat "$dest/.unpacked" 2> /dev/null)" != "$*" ] || return 0
	[ -f "$APT_DIR/updated" ] || update_lists
	TMP=$(mktemp -d "$RIG_CACHE/dl.XXXXXX")
	step "downloading $*"
	(cd "$TMP" && apt-get -q "${APT_OPTS[@]}" -o APT::Status-Fd=3 download "$@" 3>&1 >&2 |
		apt_progress "downloading ${1%%=*}")
	step "unpacking $* into $dest"
	rm -rf "$dest"
	mkdir -p "$dest"
	for deb in "$TMP"/*.deb; do
		[ -f "$deb" ] || die "apt-get download left no .deb for $*"
		dpkg-deb -x "$deb" "$dest"
	done
	rm -rf "$TMP"
	TMP=
	echo "$*" > "$dest/.unpacked"
}

kernel() {
	local kver root

	ensure_pkgs "to unpack and index the L1 kernel's modules" kmod xz-utils
	choose
	kver=${PKG#linux-image-}
	root=$RIG_CACHE/kernel/$kver
	fetch "$root" "$PKG=$VERSION"
	if [ ! -s "$root/lib/modules/$kver/modules.dep" ]; then
		step "indexing the L1 kernel's modules (depmod $kver)"
		depmod -b "$root" "$kver"
	fi
	[ -f "$root/boot/vmlinuz-$kver" ] || die "no vmlinuz in $PKG=$VERSION"
	echo "L1_KVER=$kver"
	echo "L1_VERSION=$VERSION"
	echo "L1_VMLINUZ=$root/boot/vmlinuz-$kver"
	echo "L1_MODDIR=$root/lib/modules/$kver"
}

headers() {
	local dest=$1 hdr deps p pkgs

	choose
	hdr=linux-headers-${PKG#linux-image-}
	[ -f "$APT_DIR/updated" ] || update_lists
	deps=$(apt-cache "${APT_OPTS[@]}" depends "$hdr=$VERSION" |
		sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p')
	pkgs=("$hdr=$VERSION")
	for p in $deps; do
		pkgs+=("$p=$VERSION")
	done
	fetch "$dest" "${pkgs[@]}"
}

main() {
	case ${1:-} in
	"") mkdir -p "$RIG_CACHE"; kernel ;;
	headers) [ $# -eq 2 ] || die "usage: fetch-l1.sh headers DIR"; mkdir -p "$RIG_CACHE"; headers "$2" ;;
	pin) echo "$PIN_PKG $PIN_VERSION" ;;
	*) die "usage: fetch-l1.sh [headers DIR | pin]" ;;
	esac
}

main "$@"
