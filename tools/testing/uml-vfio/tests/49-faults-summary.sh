#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The count of issue 4's bad inputs and faults that tests/4x-*.sh tried
# (counted in $TAP_DIR by faults/lib.sh's count_tried), as a TAP comment.
set -euo pipefail

bad=$(cat "$TAP_DIR/faults-bad" 2>/dev/null || echo 0)
faults=$(cat "$TAP_DIR/faults-fault" 2>/dev/null || echo 0)
echo "# faults: tried $bad bad inputs and $faults faults"
