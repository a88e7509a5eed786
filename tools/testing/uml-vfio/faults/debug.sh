#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make debug: build the debug UML (../config.debug) in build/uml-debug and
# run the rig's functional tests with it (../tests/45-debug.sh, which
# make check runs too). Prints TAP and ends with "N passed, N failed,
# N skipped"; logs in build/logs-debug/.
set -euo pipefail

T=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$T/../../.." && pwd)
export TOP T
export BUILD=$TOP/build
export TREE=$BUILD/linux
export UML=$BUILD/uml/linux
export TAP_DIR=$BUILD/tap-debug
export LOGS=$BUILD/logs-debug

rm -rf "$TAP_DIR" "$LOGS"
mkdir -p "$TAP_DIR" "$LOGS"
# shellcheck source=../lib.sh
. "$T/lib.sh"

echo "TAP version 13"
bash "$T/tests/45-debug.sh" || fail "45-debug.sh" "script exited with $?"
tap_summary
