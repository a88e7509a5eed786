# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the build, rig and bench scripts (the tests have ../lib.sh).
# Set TAG before sourcing to change the prefix of the messages (default:
# the script's name). It gives them:
#  - log, warn, die: messages on stderr, prefixed with TAG;
#  - step: say what the script does next; a script that then fails says
#    at exit which step failed, so that no script ever stops silently;
#  - cleanup: a script that defines cleanup() has it run at exit.
# PROGRESS_FD=N sends the steps and a failure to file descriptor N too
# (each line prefixed with PROGRESS_PREFIX).

TAG=${TAG:-$(basename "$0" .sh)}
STEP=

log() { echo "$TAG: $*" >&2; }
warn() { echo "$TAG: WARNING: $*" >&2; note "WARNING: $*"; }
die() { echo "$TAG: ERROR: $*" >&2; exit 1; }

# note LINE: LINE on PROGRESS_FD, if it is set (and open).
note() {
	[ -n "${PROGRESS_FD:-}" ] || return 0
	{ true >&"$PROGRESS_FD"; } 2> /dev/null || return 0
	echo "${PROGRESS_PREFIX:-}$TAG: $*" >&"$PROGRESS_FD"
}

# step WHAT: WHAT is what the script does next (logged, and noted). A
# failure from here to the next step is reported as a failure of WHAT.
step() {
	STEP=$*
	log "$*"
	note "$*"
}

# quiet_step WHAT: the same, for a step that says enough on its own (it
# is logged but not noted).
quiet_step() {
	STEP=$*
	log "$*"
}

on_exit() {
	local rc=$?

	if declare -F cleanup > /dev/null; then
		cleanup || true
	fi
	if [ "$rc" -ne 0 ]; then
		log "FAILED (exit $rc)${STEP:+ while $STEP}"
		note "FAILED (exit $rc)${STEP:+ while $STEP}"
	fi
	exit "$rc"
}
trap on_exit EXIT
