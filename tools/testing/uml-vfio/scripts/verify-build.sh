#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prove that the UML binary was built from the repository's driver files and
# not from upstream's copy: each object's source in the tree is identical to
# the repository's file and differs from upstream's (where upstream has a
# file of that name), and the object is newer than the source and older
# than the binary.
#
# Usage: verify-build.sh PROJECT_DIR TREE OUT
set -euo pipefail

proj=$1
tree=$2
out=$3

fail() { echo "verify: $*" >&2; exit 1; }

for path in "$proj"/arch/um/drivers/vfio_*.c; do
	[ -f "$path" ] || fail "no driver files (arch/um/drivers/vfio_*.c) in $proj"
	f=$(basename "$path")
	src=arch/um/drivers/$f
	obj=$out/arch/um/drivers/${f%.c}.o
	[ -f "$obj" ] || fail "$obj was not built"
	grep -q "$src" "$out/arch/um/drivers/.${f%.c}.o.cmd" ||
		fail "$obj was not compiled from $src"
	cmp -s "$proj/$src" "$tree/$src" || fail "$tree/$src differs from the repo's"
	ours=$(git -C "$tree" hash-object "$tree/$src")
	if upstream=$(git -C "$tree" rev-parse -q --verify "refs/tags/base:$src"); then
		[ "$upstream" != "$ours" ] || fail "$src is upstream's copy"
		was="upstream's is $(echo "$upstream" | cut -c1-12)"
	else
		was="upstream has no such file"
	fi
	[ "$obj" -nt "$tree/$src" ] || [ ! "$tree/$src" -nt "$obj" ] ||
		fail "$obj is older than $src"
	[ ! "$obj" -nt "$out/linux" ] || fail "$out/linux is older than $obj"
	echo "verify: $src compiled from the repo's file (git $(echo "$ours" | cut -c1-12), $was)"
done
