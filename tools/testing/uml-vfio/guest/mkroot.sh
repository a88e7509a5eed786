#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the files of UML's root for the rig: init, demo and the tests
# (static, kselftest harness), and with UML_OUT the tests' module
# (module/pci_peek.ko, built against that UML). rig/mkinitramfs.sh adds
# busybox.
#
# Usage: mkroot.sh OUT_DIR KERNEL_TREE [UML_OUT]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$1
tree=$2
uml_out=${3:-}

# build_module DIR: module/ built against the UML configured in DIR.
build_module() {
	local tmp

	tmp=$(mktemp -d)
	cp "$here"/module/Kbuild "$here"/module/*.[ch] "$tmp"/
	make -s -C "$tree" O="$1" ARCH=um M="$tmp" modules >&2
	install -m 644 "$tmp/pci_peek.ko" "$out/tests/pci_peek.ko"
	rm -rf "$tmp"
}

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
[ -z "$uml_out" ] || build_module "$uml_out"
