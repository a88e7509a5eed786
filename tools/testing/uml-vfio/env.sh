# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the test runners: the paths every test script uses, and a
# fresh TAP counter and log directory. Usage: . env.sh TAP_SUBDIR LOG_SUBDIR

if [ $# -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
	echo "usage: . env.sh TAP_SUBDIR LOG_SUBDIR (both under build/, emptied)" >&2
	return 2
fi
T=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$T/../../.." && pwd)
export TOP T
export BUILD=$TOP/build
export TREE=$BUILD/linux
export UML=$BUILD/uml/linux
export TAP_DIR=$BUILD/$1
export LOGS=$BUILD/$2

rm -rf "$TAP_DIR" "$LOGS"
mkdir -p "$TAP_DIR" "$LOGS"
# The steps and progress of the build and rig scripts the tests run (see
# scripts/lib.sh) go to the TAP output as comments, whatever the tests do
# with those scripts' output.
exec 9>&1
export PROGRESS_FD=9 PROGRESS_PREFIX='# '
# shellcheck source=lib.sh
. "$T/lib.sh"
