#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run only issue 4's tests (../tests/4x-*.sh) the way run-tests.sh runs
# them all: TAP, ending with the faults count and "N passed, N failed,
# N skipped". Logs in build/logs-faults/. Usage: faults/run.sh [4x-NAME...]
set -euo pipefail

T=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$T/../../.." && pwd)
export TOP T
export BUILD=$TOP/build
export TREE=$BUILD/linux
export UML=$BUILD/uml/linux
export TAP_DIR=$BUILD/tap-faults
export LOGS=$BUILD/logs-faults

rm -rf "$TAP_DIR" "$LOGS"
mkdir -p "$TAP_DIR" "$LOGS"
# shellcheck source=../lib.sh
. "$T/lib.sh"

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
