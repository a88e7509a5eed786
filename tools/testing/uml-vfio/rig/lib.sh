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
	# Wait for another apt that holds the lock instead of failing.
	if ! apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2; then
		apt-get update -q >&2
		apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2
	fi
}

# load_l1_kernel: sets L1_KVER, L1_VERSION, L1_VMLINUZ and L1_MODDIR
# (fetch-l1.sh fetches the pinned L1 kernel into the cache if needed).
load_l1_kernel() {
	local vars

	vars=$("$RIG_DIR/fetch-l1.sh") || die "fetch-l1.sh failed (exit $?): no L1 kernel"
	eval "$vars"
	if [ -z "${L1_KVER:-}" ] || [ ! -f "${L1_VMLINUZ:-}" ] || [ ! -d "${L1_MODDIR:-}" ]; then
		die "fetch-l1.sh printed no usable L1 kernel: $vars"
	fi
}

# The static busybox from busybox-static.
host_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] || continue
		case $(file -L "$b") in
		*"statically linked"*)
			echo "$b"
			return 0
			;;
		esac
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
