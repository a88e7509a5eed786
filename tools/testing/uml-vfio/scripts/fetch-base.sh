#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's linux-source-7.x through a private apt setup (never /etc/apt)
# and unpack it into the cache. Prints the path of the unpacked tree.
#
# Usage: fetch-base.sh CACHE_DIR PINNED_VERSION
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

cache=$1
pin=$2
apt_dir=$cache/apt
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

apt_opts() {
	echo "-o Dir::Etc::sourcelist=$apt_dir/sources.list" \
	     "-o Dir::Etc::sourceparts=- -o Dir::State::Lists=$apt_dir/lists" \
	     "-o Dir::Cache=$apt_dir/cache -o Dir::Cache::archives=$apt_dir/archives" \
	     "-o Dir::State::status=$apt_dir/status -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root"
}

setup_apt() {
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
	: > "$apt_dir/status"
	cat > "$apt_dir/sources.list" <<SRC
deb [signed-by=$keyring] http://deb.debian.org/debian trixie-backports main
deb [signed-by=$keyring] http://deb.debian.org/debian sid main
SRC
	step "updating private package lists in $apt_dir (trixie-backports, sid)"
	# shellcheck disable=SC2046
	apt-get -q $(apt_opts) update >&2
}

# All linux-source-7.* candidates as "suite version package".
candidates() {
	local pkgs
	# shellcheck disable=SC2046
	pkgs=$(apt-cache $(apt_opts) pkgnames linux-source-7.)
	[ -n "$pkgs" ] || return 0
	# shellcheck disable=SC2046,SC2086
	apt-cache $(apt_opts) madison $pkgs |
	awk -F' *[|] *' '{ split($3, u, " "); split(u[2], s, "/"); print s[1], $2, $1 }' |
	sed 's/^ *//'
}

pick() {
	local all
	all=$(candidates)
	if [ -n "$(awk -v v="$pin" '$1 == "trixie-backports" && $2 == v && $3 == "linux-source-7.3"' <<<"$all")" ]; then
		echo "linux-source-7.3 $pin"
		return
	fi
	for suite in trixie-backports sid; do
		local best
		best=$(echo "$all" | awk -v s="$suite" '$1 == s { print $3, $2 }' |
		       sort -k2,2V | tail -n 1)
		if [ -n "$best" ]; then
			warn "pinned linux-source-7.3=$pin is gone; falling back to $best from $suite"
			echo "$best"
			return
		fi
	done
	die "no linux-source-7.* in trixie-backports or sid"
}

# download PKG VER: sets DEB to the .deb in $apt_dir/archives (downloaded
# once).
download() {
	local pkg=$1 ver=$2

	DEB=$apt_dir/archives/${pkg}_${ver//:/%3a}_all.deb
	if [ ! -f "$DEB" ]; then
		step "downloading $pkg=$ver"
		# shellcheck disable=SC2046
		(cd "$apt_dir/archives" &&
		 apt-get -q $(apt_opts) -o APT::Status-Fd=3 download "$pkg=$ver" 3>&1 >&2 |
			apt_progress "downloading $pkg")
	fi
	[ -f "$DEB" ] || die "apt-get download left no $DEB"
}

# tar_progress WHAT MB: a filter for tar's checkpoint lines ("tar:
# checkpoint RECORDS", 10 KiB records) of an archive of MB MiB; passes
# tar's other messages on.
tar_progress() {
	local what=$1 total=$2 line

	progress_begin
	while IFS= read -r line; do
		case $line in
		"tar: checkpoint "*) progress "$what" $((${line#tar: checkpoint } * 10 / 1024)) "$total" MiB ;;
		*) echo "$line" >&2 ;;
		esac
	done
	progress_end
}

# extract TARBALL DIR, with progress: a checkpoint every 1% of the
# uncompressed size that xz reports.
extract() {
	local tarball=$1 dir=$2 bytes records

	bytes=$(xz --robot --list "$tarball" 2> /dev/null | awk '$1 == "totals" { print $5 }' || true)
	records=$(((${bytes:-0} + 10239) / 10240))
	step "extracting $(basename "$tarball")"
	if [ "$records" -lt 100 ]; then
		tar -C "$dir" -xf "$tarball"
		return
	fi
	tar -C "$dir" --checkpoint=$((records / 100)) --checkpoint-action='echo=checkpoint %u' \
		-xf "$tarball" 2>&1 >/dev/null | tar_progress "extracting" $((bytes / 1048576))
}

# first GLOB...: the first path the glob matched; an error if none.
first() {
	[ -e "$1" ] || die "no file matches $1"
	echo "$1"
}

main() {
	local pkg ver tree choice tarball
	mkdir -p "$cache"
	if [ -f "$cache/base-version" ] && [ -d "$(cat "$cache/base-dir" 2>/dev/null)" ]; then
		cat "$cache/base-dir"
		return
	fi
	# The .deb (~150 MiB), then the tree it holds (~1.8 GiB).
	need_space "$cache" 2200 "fetching the base tree"
	setup_apt
	step "choosing linux-source (pinned: linux-source-7.3=$pin)"
	choice=$(pick)
	read -r pkg ver <<<"$choice"
	download "$pkg" "$ver"
	step "unpacking $DEB"
	rm -rf "$cache/deb"
	dpkg-deb -x "$DEB" "$cache/deb"
	tarball=$(first "$cache"/deb/usr/src/linux-source-*.tar.*)
	tree=$cache/src
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	extract "$tarball" "$tree.tmp"
	quiet_step "moving the tree to $tree"
	mv "$(first "$tree.tmp"/linux-source-*)" "$tree"
	rm -rf "$tree.tmp" "$cache/deb"
	echo "$pkg $ver" > "$cache/base-version"
	echo "$tree" > "$cache/base-dir"
	cat "$cache/base-dir"
}

main "$@"
