#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the debug UML (lockdep, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, KASAN)
# out of tree from the same kernel tree as the normal build: defconfig +
# ../config + ../config.debug, merged into one fragment for scripts/build.sh.
#
# Usage: build-debug.sh TREE OUT
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
T=$(dirname "$here")
tree=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)

frag=$out/uml-vfio-debug.fragment
cat "$T/config" "$T/config.debug" > "$frag.tmp"
if cmp -s "$frag.tmp" "$frag"; then
	rm -f "$frag.tmp"
else
	mv "$frag.tmp" "$frag"
fi
"$T/scripts/build.sh" "$tree" "$out" "$frag"
echo "debug UML: $out/linux"
