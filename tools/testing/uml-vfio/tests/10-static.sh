#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch --strict and a W=1 build of our files, the documentation
# renders without warnings, and the exported series applies to the base.
set -euo pipefail
. "$T/lib.sh"

# The driver's files, as the repository has them.
SRCS=()
for f in "$TOP"/arch/um/drivers/vfio_*.[ch]; do
	SRCS+=("${f#"$TOP"/}")
done

check_checkpatch() {
	local log=$LOGS/checkpatch.log

	(cd "$TOP" && perl "$TREE/scripts/checkpatch.pl" --strict --no-tree \
		--terse --show-types -f "${SRCS[@]}") > "$log" 2>&1 || true
	if grep -qE '(ERROR|WARNING|CHECK):' "$log"; then
		fail "checkpatch --strict clean on our files" \
			"$(grep -cE '(ERROR|WARNING|CHECK):' "$log") reports" "$log"
		# sed, not head: it reads to the end, so grep never gets SIGPIPE.
		grep -E '(ERROR|WARNING|CHECK):' "$log" | sed -n '1,20s/^/#   /p'
	else
		pass "checkpatch --strict clean on our files"
	fi
}

check_w1() {
	local log=$LOGS/w1.log f

	for f in "${SRCS[@]}"; do
		touch "$TREE/$f"
	done
	if ! make -s -C "$TOP" w1 > "$log" 2>&1; then
		fail "W=1 build of our files" "build failed" "$log"
		return
	fi
	if grep -E 'vfio_[a-z]+\.[ch].*(warning|error):' "$log" > "$log.ours"; then
		fail "W=1 build of our files has no warnings" \
			"$(wc -l < "$log.ours") warnings" "$log"
		head -n 20 "$log.ours" | sed 's/^/#   /'
	else
		pass "W=1 build of our files has no warnings"
	fi
}

check_docs() {
	local log=$LOGS/rst.log

	"$T/scripts/deps.sh" "to check the documentation" python3-docutils
	if rst2html --halt=warning --report=warning \
		"$TOP/Documentation/virt/uml/vfio.rst" > /dev/null 2> "$log"; then
		pass "Documentation/virt/uml/vfio.rst renders without warnings"
	else
		fail "Documentation/virt/uml/vfio.rst renders without warnings" \
			"$(head -n 1 "$log")" "$log"
	fi
}

# touched PATCH...: the paths the patches touch, as sparse-checkout patterns
touched() {
	local p

	for p in "$@"; do
		sed -n 's|^diff --git a/\(.*\) b/\(.*\)|/\1\n/\2|p' "$p"
	done | LC_ALL=C sort -u
}

# make patches, then git am the series onto a clone of the stripped base.
check_patches() {
	local log=$LOGS/patches.log dir=$BUILD/am-check n

	rm -rf "$dir"
	if ! make -s -C "$TOP" patches > "$log" 2>&1; then
		fail "make patches" "failed" "$log"
		return
	fi
	n=$(find "$BUILD/patches" -name '*.patch' | wc -l)
	if [ "$n" -eq 0 ]; then
		fail "make patches: the series applies to the stripped base with git am" \
			"make patches wrote no patch" "$log"
		return
	fi
	git clone -q --shared --no-checkout "$(git -C "$TREE" config remote.origin.url)" "$dir"
	# Check out only the files the series touches: a full checkout of
	# the kernel costs minutes; the commits git am makes are whole trees.
	touched "$BUILD"/patches/*.patch > "$dir.paths"
	git -C "$dir" sparse-checkout set --no-cone --stdin < "$dir.paths" 2>> "$log"
	git -C "$dir" checkout -q refs/tags/stripped 2>> "$log"
	if git -C "$dir" -c user.name=check -c user.email=check@localhost \
		am -q "$BUILD"/patches/*.patch >> "$log" 2>&1 &&
	   [ "$(git -C "$dir" rev-parse 'HEAD^{tree}')" = "$(git -C "$TREE" rev-parse 'HEAD^{tree}')" ]; then
		pass "make patches: the $n-patch series applies to the stripped base with git am"
	else
		fail "make patches: the series applies to the stripped base with git am" \
			"$n patches; see the log" "$log"
	fi
	rm -rf "$dir" "$dir.paths"
}

check_checkpatch
check_w1
check_docs
check_patches
