#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure (defconfig + our fragment) and build UML out of tree.
#
# Usage: build.sh TREE OUT FRAGMENT [make arguments...]
set -euo pipefail

TAG=build
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

tree=$1
out=$2
fragment=$3
shift 3

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

STEP="configuring $out"
configure
quiet_step "make ARCH=um O=$out -j$(nproc) $*"
kmake -j"$(nproc)" "$@"
