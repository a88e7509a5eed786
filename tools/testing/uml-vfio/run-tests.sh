#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The test command (make check): static checks, then UML boots on this
# machine. Prints TAP and ends with "N passed, N failed, N skipped".
set -euo pipefail

T=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$T/../../.." && pwd)
export TOP T
export BUILD=$TOP/build
export TREE=$BUILD/linux
export UML=$BUILD/uml/linux
export TAP_DIR=$BUILD/tap
export LOGS=$BUILD/logs

rm -rf "$TAP_DIR" "$LOGS"
mkdir -p "$TAP_DIR" "$LOGS"
# shellcheck source=lib.sh
. "$T/lib.sh"

echo "TAP version 13"
for t in "$T"/tests/*.sh; do
	echo "# $(basename "$t")"
	bash "$t" || fail "$(basename "$t")" "script exited with $?"
done
tap_summary
