#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prove that the UML binary was built from the repository's driver files and
# not from upstream's copy: each object's source in the tree is identical to
# the repository's file and differs from upstream's, and the object is newer
# than the source and older than the binary.
#
# Usage: verify-build.sh PROJECT_DIR TREE OUT
set -euo pipefail

proj=$1
tree=$2
out=$3

fail() { echo "verify: $*" >&2; exit 1; }

for f in vfio_kern.c vfio_user.c; do
	src=arch/um/drivers/$f
	obj=$out/arch/um/drivers/${f%.c}.o
	[ -f "$obj" ] || fail "$obj was not built"
	grep -q "$src" "$out/arch/um/drivers/.${f%.c}.o.cmd" ||
		fail "$obj was not compiled from $src"
	cmp -s "$proj/$src" "$tree/$src" || fail "$tree/$src differs from the repo's"
	upstream=$(git -C "$tree" rev-parse "refs/tags/base:$src")
	ours=$(git -C "$tree" hash-object "$tree/$src")
	[ "$upstream" != "$ours" ] || fail "$src is upstream's copy"
	[ "$obj" -nt "$tree/$src" ] || [ ! "$tree/$src" -nt "$obj" ] ||
		fail "$obj is older than $src"
	[ ! "$obj" -nt "$out/linux" ] || fail "$out/linux is older than $obj"
	echo "verify: $src compiled from the repo's file (git $(echo "$ours" | cut -c1-12), upstream's is $(echo "$upstream" | cut -c1-12))"
done
