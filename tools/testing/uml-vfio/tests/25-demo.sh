#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo, the way a new user first runs it: on an EMPTY cache, so that
# the rig's whole set-up runs (the pinned L1 kernel fetched through the
# private apt lists and indexed, the initramfs built), then one L1 boot in
# which UML shows the passed-through devices. A warm cache hides bugs of
# a first run (issue 13: run-l1.sh died before building its first
# initramfs). Then demo.sh's own check of what UML showed: every device
# with its driver, the nvme identify data, the I/O check ok, the ping
# answered. About 2 minutes under TCG.
set -euo pipefail
. "$T/lib.sh"

CACHE=$(mktemp -d "$BUILD/empty-cache.XXXXXX")
trap 'rm -rf "$CACHE"' EXIT
LOG=$BUILD/logs/demo.log
OUT=$LOGS/demo-output.log
NAME="rig on an empty cache: fetches the pinned L1 kernel, builds the initramfs, boots L1 to its RIG-RESULT"

# The first line of FILE... that says what failed, if any.
failure() {
	local f line

	for f in "$@"; do
		if line=$(grep -m1 -E 'FAILED|ERROR' "$f" 2> /dev/null); then
			echo "$line"
			return
		fi
	done
	echo "no message"
}

echo "# demo: make demo on the empty cache $CACHE (~2 min under TCG)"
rc=0
UML_VFIO_CACHE=$CACHE "$T/demo.sh" demo > "$OUT" 2>&1 || rc=$?

images=("$CACHE"/l1/initramfs-*.cpio.gz)
if ! grep -aq '^RIG-RESULT: ' "$LOG" 2> /dev/null; then
	fail "$NAME" "no RIG-RESULT line (demo.sh exit $rc): $(failure "$LOG.err" "$OUT")" "$LOG.err"
elif [ ! -s "${images[0]}" ]; then
	fail "$NAME" "no initramfs image in $CACHE/l1" "$LOG.err"
elif [ ! -s "$CACHE/l1/l1-version" ]; then
	fail "$NAME" "no l1-version recorded in $CACHE/l1" "$LOG.err"
else
	pass "$NAME (L1: $(cat "$CACHE/l1/l1-version"))"
	pinned=$("$T/rig/fetch-l1.sh" pin)
	if [ "$(cat "$CACHE/l1/l1-version")" != "$pinned" ]; then
		echo "# WARNING: the pinned L1 kernel ($pinned) is gone from the archive: update rig/fetch-l1.sh"
	fi
fi

name="make demo shows each device with its driver, the nvme identify data, the I/O check ok and the ping answered"
if [ $rc -eq 0 ] && grep -q '^demo: check: ' "$OUT"; then
	pass "$name"
	sed -n 's/^demo: check: /# /p' "$OUT"
else
	fail "$name" "demo.sh exit $rc: $(failure "$OUT")" "$OUT"
	{ grep '^demo: check FAILED' "$OUT" || true; } | sed 's/^/#   /'
fi
