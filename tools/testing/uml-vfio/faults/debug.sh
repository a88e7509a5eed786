#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make debug: build the debug UML (../config.debug) in build/uml-debug and
# run the rig's functional tests with it (../tests/45-debug.sh, which
# make check runs too). Prints TAP and ends with "N passed, N failed,
# N skipped"; logs in build/logs-debug/.
set -euo pipefail

# shellcheck source=env.sh
. "$(dirname "$0")/../env.sh" tap-debug logs-debug

echo "TAP version 13"
bash "$T/tests/45-debug.sh" || fail "45-debug.sh" "script exited with $?"
tap_summary
