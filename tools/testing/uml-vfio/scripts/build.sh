#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure (defconfig + our fragment) and build UML out of tree. While
# make runs, shows how many objects it has built of how many a full build
# of this .config has: the count its last full build recorded in the
# cache, or an estimate ("~").
#
# Usage: build.sh TREE OUT FRAGMENT [make arguments...]
# Env: UML_VFIO_CACHE (default ~/.cache/uml-vfio)
set -euo pipefail

TAG=build
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

tree=$1
out=$2
fragment=$3
shift 3
counts=${UML_VFIO_CACHE:-$HOME/.cache/uml-vfio}/build-objects
# Objects of a full build of defconfig + ../config (7.3.4: 1001).
ESTIMATE=1000

kmake() {
	local cc=gcc

	command -v ccache >/dev/null && cc="ccache gcc"
	CCACHE_BASEDIR=$tree CCACHE_NOHASHDIR=1 \
		make -s -C "$tree" O="$out" ARCH=um CC="$cc" HOSTCC="$cc" "$@"
}

# Every line of the fragment must hold in .config, or Kconfig dropped it.
check_config() {
	local line sym missing=0

	while read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$out/.config" || {
				echo "config: $line did not stick" >&2; missing=1; }
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$out/.config" && {
				echo "config: $sym should be unset" >&2; missing=1; }
			;;
		esac
	done < "$fragment"
	return $missing
}

configure() {
	local stamp

	stamp=$(cat "$fragment" "$tree/arch/um/drivers/Kconfig" | sha256sum | cut -d' ' -f1)
	if [ -f "$out/.config" ] && [ "$(cat "$out/.uml-vfio-config" 2>/dev/null)" = "$stamp" ]; then
		return
	fi
	echo "config: defconfig + $(basename "$(dirname "$fragment")")/$(basename "$fragment")" >&2
	mkdir -p "$out"
	kmake defconfig >/dev/null
	KCONFIG_CONFIG=$out/.config "$tree/scripts/kconfig/merge_config.sh" -m -O "$out" \
		"$out/.config" "$fragment" >/dev/null
	kmake olddefconfig >/dev/null
	check_config
	echo "$stamp" > "$out/.uml-vfio-config"
}

# The file that holds the object count of a full build of this .config.
count_file() {
	echo "$counts/$(sha256sum < "$out/.config" | cut -c1-16)"
}

# Objects made since this build started.
new_objects() {
	find "$out" -name '*.o' -newer "$out/.uml-vfio-build-start" | wc -l
}

# A first build writes ~1.2 GiB of objects, ccache as much again; a
# rebuild of a few files far less.
if [ -f "$out/vmlinux" ]; then
	need_space "$out" 512 "building UML"
else
	need_space "$out" 3072 "a full build of UML ($out)"
fi
mkdir -p "$out"
touch "$out/.uml-vfio-build-start"
STEP="configuring $out"
configure
# With make arguments (W=1 and targets, say) the total is not known.
total=
if [ $# -eq 0 ]; then
	total=$(cat "$(count_file)" 2> /dev/null || echo "~$ESTIMATE")
fi
quiet_step "make ARCH=um O=$out -j$(nproc) $*"
progress_watch compiling "$total" objects new_objects
kmake -j"$(nproc)" "$@"
progress_stop
if [ $# -eq 0 ]; then
	mkdir -p "$counts"
	find "$out" -name '*.o' | wc -l > "$(count_file)"
fi
