#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch --strict on our files and a W=1 build of them.
set -euo pipefail
. "$T/lib.sh"

SRCS=(arch/um/drivers/vfio_kern.c arch/um/drivers/vfio_user.c arch/um/drivers/vfio_user.h)

check_checkpatch() {
	local log=$LOGS/checkpatch.log

	(cd "$TOP" && perl "$TREE/scripts/checkpatch.pl" --strict --no-tree \
		--terse --show-types -f "${SRCS[@]}") > "$log" 2>&1 || true
	if grep -qE '(ERROR|WARNING|CHECK):' "$log"; then
		fail "checkpatch --strict clean on our files" \
			"$(grep -cE '(ERROR|WARNING|CHECK):' "$log") reports" "$log"
		grep -E '(ERROR|WARNING|CHECK):' "$log" | head -n 20 | sed 's/^/#   /'
	else
		pass "checkpatch --strict clean on our files"
	fi
}

check_w1() {
	local log=$LOGS/w1.log

	touch "$TREE"/arch/um/drivers/vfio_kern.c "$TREE"/arch/um/drivers/vfio_user.c
	if ! make -s -C "$TOP" w1 > "$log" 2>&1; then
		fail "W=1 build of our files" "build failed" "$log"
		return
	fi
	if grep -E 'vfio_(kern|user)\.[ch].*(warning|error):' "$log" > "$log.ours"; then
		fail "W=1 build of our files has no warnings" \
			"$(wc -l < "$log.ours") warnings" "$log"
		head -n 20 "$log.ours" | sed 's/^/#   /'
	else
		pass "W=1 build of our files has no warnings"
	fi
}

check_checkpatch
check_w1
