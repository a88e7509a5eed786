#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run only issue 4's tests (../tests/4x-*.sh) the way run-tests.sh runs
# them all: TAP, ending with the faults count and "N passed, N failed,
# N skipped". Logs in build/logs-faults/. Usage: faults/run.sh [4x-NAME...]
set -euo pipefail

# shellcheck source=env.sh
. "$(dirname "$0")/../env.sh" tap-faults logs-faults

echo "TAP version 13"
if [ $# -eq 0 ]; then
	set -- "$T"/tests/4*.sh
else
	set -- "${@/#/$T/tests/}"
	set -- "${@/%/.sh}" "$T/tests/49-faults-summary.sh"
fi
for t in "$@"; do
	echo "# $(basename "$t")"
	bash "$t" || fail "$(basename "$t")" "script exited with $?"
done
tap_summary
