# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# What bench.sh reads from an L1 boot's console log; sourced by bench.sh
# and by tests/15-bench-report.sh, which checks it on made-up logs.

# l1_death LOG: the first Oops, BUG or panic line of L1's own kernel in
# LOG, if any (UML's output is in the raw files between BENCH-FILE lines).
l1_death() {
	[ -f "$1" ] || return 0
	awk '/^BENCH-FILE-BEGIN: / { raw = 1 }
	     /^BENCH-FILE-END/ { raw = 0; next }
	     !raw && /(Oops|BUG:|Kernel panic|general protection fault)/ { print; exit }' "$1" |
		tr -d '\r'
}

# runs_done LOG: how many runs (a column in a round) printed their files
runs_done() {
	{ grep -a '^BENCH-FILE-BEGIN: ' "$1" 2> /dev/null || true; } |
		sed 's/ name=.*//' | sort -u | wc -l
}
