#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the files of UML's root for the rig: init, demo and the tests
# (static, kselftest harness). rig/mkinitramfs.sh adds busybox.
#
# Usage: mkroot.sh OUT_DIR KERNEL_TREE
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$1
tree=$2

"$here/../scripts/deps.sh" "tests inside UML" gcc libc6-dev

rm -rf "$out"
mkdir -p "$out"/{dev,proc,sys,tmp,mnt,tests}
install -m 755 "$here/init.sh" "$out/init"
install -m 644 "$here/demo.sh" "$out/demo.sh"
for src in "$here"/*_test.c; do
	gcc -static -O2 -Wall -Wno-format-truncation \
		-I "$here/include" -I "$tree/tools/testing/selftests" \
		-o "$out/tests/$(basename "${src%.c}")" "$src"
done
