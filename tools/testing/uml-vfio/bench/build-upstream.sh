#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (once, cached) the anchor UML: the untouched base tree (tag "base"
# of the cached base repository, with upstream's own vfio_kern.c) configured
# with the same fragment as ours. Prints the binary's path on stdout.
#
# Usage: build-upstream.sh
# Env: UML_VFIO_CACHE (default ~/.cache/uml-vfio)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
T=$(cd "$here/.." && pwd)
cache=${UML_VFIO_CACHE:-$HOME/.cache/uml-vfio}
repo=$cache/base.git
src=$cache/bench/upstream-src
out=$cache/bench/upstream-out

log() { echo "bench: $*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

# A checkout of tag base that shares base.git's objects (base.git is not
# modified: no worktree entry, no new refs).
checkout() {
	local sha=$1

	if [ "$(git -C "$src" rev-parse -q --verify HEAD 2>/dev/null)" = "$sha" ] &&
	   [ -f "$src/Makefile" ]; then
		return
	fi
	log "checking out tag base ($sha) into $src (one-time)"
	rm -rf "$src"
	git clone -q --shared --no-checkout "$repo" "$src"
	git -C "$src" -c advice.detachedHead=false checkout -q --detach "$sha"
}

main() {
	local sha stamp

	[ -d "$repo" ] || die "$repo missing: run 'make' first"
	sha=$(git -C "$repo" rev-parse "refs/tags/base^{commit}")
	stamp="$sha $(sha256sum < "$T/config" | cut -c1-16)"
	if [ -x "$out/linux" ] && [ "$(cat "$out/.bench-stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "$out/linux"
		return
	fi
	checkout "$sha"
	git -C "$src" diff --quiet HEAD || die "$src has local changes"
	log "building upstream's UML (tag base, untouched) in $out (~7 min, once)"
	# Without our series it has no port I/O: drop the drivers that need it.
	mkdir -p "$out"
	sed '/^# Drivers of devices with I\/O BARs/,/^$/d' "$T/config" > "$out/config.fragment"
	"$T/scripts/build.sh" "$src" "$out" "$out/config.fragment" >&2
	grep -q 'arch/um/drivers/vfio_kern.c' "$out/arch/um/drivers/.vfio_kern.o.cmd" ||
		die "upstream's vfio_kern.o was not built"
	echo "$stamp" > "$out/.bench-stamp"
	echo "$out/linux"
}

main "$@"
