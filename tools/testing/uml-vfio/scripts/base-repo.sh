#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Turn the unpacked linux-source tree into a cached git repository whose
# history is: the pristine base, then one commit removing upstream's UML VFIO
# driver. Tags: "base" and "stripped". Prints the repository path.
#
# Usage: base-repo.sh CACHE_DIR
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

cache=$1
repo=$cache/base.git
if [ ! -f "$cache/base-dir" ] || [ ! -f "$cache/base-version" ]; then
	die "no base tree recorded in $cache: run fetch-base.sh first (make fetch)"
fi
src=$(cat "$cache/base-dir")
read -r pkg ver < "$cache/base-version"

git_id() {
	git -c user.name="uml-vfio build" -c user.email="uml-vfio@localhost" \
	    -c commit.gpgsign=false "$@"
}

strip_upstream_driver() {
	local drv=arch/um/drivers

	git rm -q "$drv/vfio_kern.c" "$drv/vfio_user.c" "$drv/vfio_user.h"
	# The Kconfig entry is the last one in the file; the Makefile has two lines.
	python3 - "$drv/Kconfig" "$drv/Makefile" <<'PY'
import re, sys
kc, mk = sys.argv[1], sys.argv[2]
s = open(kc).read()
new = re.sub(r'\nconfig UML_PCI_OVER_VFIO\n(?:[ \t].*\n|\n(?=[ \t]))*', '\n', s)
if new == s:
    sys.exit("base-repo: UML_PCI_OVER_VFIO entry not found in " + kc)
open(kc, 'w').write(new.rstrip('\n') + '\n')
s = open(mk).read()
lines = [l for l in s.split('\n') if 'vfio_uml' not in l]
if len(lines) != len(s.split('\n')) - 2:
    sys.exit("base-repo: expected two vfio_uml lines in " + mk)
open(mk, 'w').write('\n'.join(lines))
PY
	if grep -q 'UML_PCI_OVER_VFIO\|vfio_uml' "$drv/Kconfig" "$drv/Makefile"; then
		die "upstream VFIO hunks still present after stripping"
	fi
	git add -f "$drv/Kconfig" "$drv/Makefile"
}

# Objects git has written so far (loose, one per new file content).
count_objects() {
	find "$repo/.git/objects" -type f | wc -l
}

main() {
	local files

	if git -C "$repo" rev-parse -q --verify stripped >/dev/null 2>&1; then
		echo "$repo"
		return
	fi
	rm -rf "$repo"
	need_space "$cache" 2800 "the base repository ($repo, ~2.4 GiB)"
	log "creating $repo from $pkg $ver (one-time, takes a few minutes)"
	git init -q -b base "$repo"
	cd "$repo"
	git config core.bigFileThreshold 16m
	git config gc.auto 0
	git config core.compression 1
	files=$(count_files "$src")
	step "copying the $files files of $src"
	progress_watch copying "$files" files count_files "$repo"
	cp -a "$src/." .
	progress_stop
	# Identical files make one object: the total is an upper bound.
	step "adding them to git"
	progress_watch "git add" "~$files" objects count_objects
	git add -A -f .
	progress_stop
	step "committing the pristine base"
	git_id commit -q -m "Linux $ver (Debian $pkg)" \
		-m "Pristine tree unpacked from Debian's $pkg=$ver."
	git tag base
	step "removing upstream's VFIO driver (tag stripped)"
	strip_upstream_driver
	git_id commit -q -m "um: Remove upstream's VFIO-based virtual PCI driver" \
		-m "uml-vfio builds its own port of the RFC driver in its place;
upstream's copy (vfio_kern.c, vfio_user.c, vfio_user.h and its Kconfig and
Makefile hunks) must never be compiled or copied."
	git tag stripped
	git checkout -q --detach stripped
	log "done"
	echo "$repo"
}

main "$@"
