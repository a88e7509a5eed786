# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers for the L1 test rig. Sourced, not run.

# shellcheck disable=SC2034 # used by the scripts that source this
RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_CACHE=${UML_VFIO_CACHE:-$HOME/.cache/uml-vfio}/l1
# log, warn, die, step, cleanup at exit.
# shellcheck source=../scripts/lib.sh
. "$RIG_DIR/../scripts/lib.sh"

# Install Debian packages that are missing. $1 says why they are needed.
ensure_pkgs() {
	local why=$1 missing=() p
	shift
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	step "installing ${missing[*]} ($why)"
	if ! apt-get install -y -q "${missing[@]}" >&2; then
		apt-get update -q >&2
		apt-get install -y -q "${missing[@]}" >&2
	fi
}

# The static busybox from busybox-static.
host_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && file -L "$b" | grep -q 'statically linked'; then
			echo "$b"
			return 0
		fi
	done
	die "no static busybox found (package busybox-static)"
}

# Fill DIR/bin with a static busybox and one symlink per applet.
install_busybox() {
	local dir=$1 a
	mkdir -p "$dir/bin"
	cp "$(host_busybox)" "$dir/bin/busybox"
	for a in $("$dir/bin/busybox" --list); do
		[ "$a" = busybox ] && continue
		[ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
	done
}
