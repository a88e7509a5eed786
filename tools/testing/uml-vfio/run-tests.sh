#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The test command (make check): every tests/*.sh in order (static checks,
# local boots, the rig, faults, the debug UML). Prints TAP and ends with
# "N passed, N failed, N skipped".
set -euo pipefail

# shellcheck source=env.sh
. "$(dirname "$0")/env.sh" tap logs

echo "TAP version 13"
for t in "$T"/tests/*.sh; do
	echo "# $(basename "$t")"
	bash "$t" || fail "$(basename "$t")" "script exited with $?"
done
tap_summary
