#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the files of UML's root for the rig: init, demo and the tests
# (static, kselftest harness), and with UML_OUT the tests' kernel modules,
# built against that UML: module/pci_peek.ko in /tests and irqtest/ in
# /modules. rig/mkinitramfs.sh adds busybox.
#
# Usage: mkroot.sh OUT_DIR KERNEL_TREE [UML_OUT]
#   UML_OUT: the UML build directory (O=) the modules are built against
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$1
tree=$2
uml_out=${3:-}

# build_module DIR SRC NAME DEST: the module NAME of SRC (a directory of
# this one) built against the UML configured in DIR, installed as DEST.
# It must match the UML that loads it (vermagic, config).
build_module() {
	local tmp

	tmp=$(mktemp -d)
	cp "$here/$2"/* "$tmp"/
	make -s -C "$tree" O="$1" ARCH=um M="$tmp" modules >&2
	mkdir -p "$(dirname "$4")"
	strip --strip-debug -o "$4" "$tmp/$3.ko"
	chmod 644 "$4"
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
if [ -n "$uml_out" ]; then
	build_module "$uml_out" module pci_peek "$out/tests/pci_peek.ko"
	build_module "$uml_out" irqtest irqtest "$out/modules/irqtest.ko"
fi
