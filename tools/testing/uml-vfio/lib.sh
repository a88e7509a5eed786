# SPDX-License-Identifier: GPL-2.0
# TAP helpers shared by the uml-vfio test scripts. Results are counted in
# files under $TAP_DIR so that every script adds to one summary.

: "${TAP_DIR:?}"

tap_count() {
	local n

	n=$(cat "$TAP_DIR/$1" 2>/dev/null || echo 0)
	echo $((n + 1)) > "$TAP_DIR/$1"
}

tap_num() {
	tap_count total
	cat "$TAP_DIR/total"
}

# pass NAME
pass() {
	tap_count passed
	echo "ok $(tap_num) - $1"
}

# fail NAME REASON [LOG]
fail() {
	tap_count failed
	echo "not ok $(tap_num) - $1"
	echo "#   $2"
	[ -z "${3:-}" ] || echo "#   log: $3"
}

# skip NAME REASON: never counted as a pass.
skip() {
	tap_count skipped
	echo "ok $(tap_num) - $1 # SKIP $2"
}

# grep -q for the end of a pipeline: it reads all of its input, so that
# under pipefail the writer is never killed by SIGPIPE after an early match
# (which would turn a match into a failed pipeline).
grep_q() {
	grep "$@" > /dev/null
}

# Lines that no run may print.
BAD_LINES='WARNING:|BUG:|Oops|Kernel panic|cut here|Unknown parameter|invalid for parameter'

tap_summary() {
	local p f s

	p=$(cat "$TAP_DIR/passed" 2>/dev/null || echo 0)
	f=$(cat "$TAP_DIR/failed" 2>/dev/null || echo 0)
	s=$(cat "$TAP_DIR/skipped" 2>/dev/null || echo 0)
	echo "1..$((p + f + s))"
	echo "$p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ]
}
