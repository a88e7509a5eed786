#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the files of UML's root for the rig: init, demo and the tests
# (static, kselftest harness), and with UML_BUILD the tests' kernel
# module (irqtest/) in /modules. rig/mkinitramfs.sh adds busybox.
#
# Usage: mkroot.sh OUT_DIR KERNEL_TREE [UML_BUILD]
#   UML_BUILD: the UML build directory (O=) the module is built against
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$1
tree=$2
uml_build=${3:-}

"$here/../scripts/deps.sh" "tests inside UML" gcc libc6-dev

rm -rf "$out"
mkdir -p "$out"/{dev,proc,sys,tmp,mnt,tests}
install -m 755 "$here/init.sh" "$out/init"
install -m 644 "$here/demo.sh" "$out/demo.sh"
for src in "$here"/*_test.c; do
	gcc -static -O2 -Wall -Wno-format-truncation \
		-I "$tree/tools/testing/selftests" \
		-o "$out/tests/$(basename "${src%.c}")" "$src"
done

# The module must match the UML that loads it (vermagic, config).
if [ -n "$uml_build" ]; then
	mod=$(mktemp -d)
	cp "$here"/irqtest/* "$mod/"
	make -s -C "$tree" O="$uml_build" ARCH=um M="$mod" modules >&2
	mkdir -p "$out/modules"
	strip --strip-debug -o "$out/modules/irqtest.ko" "$mod/irqtest.ko"
	rm -rf "$mod"
fi
