# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the build, rig and bench scripts (the tests have ../lib.sh).
# Set TAG before sourcing to change the prefix of the messages (default:
# the script's name). It gives them:
#  - log, warn, die: messages on stderr, prefixed with TAG;
#  - step: say what the script does next; a script that then fails says
#    at exit which step failed, so that no script ever stops silently;
#  - cleanup: a script that defines cleanup() has it run at exit;
#  - progress, progress_watch: how far a long step has got: on a terminal
#    one line that updates in place (every 3 s), otherwise a line every
#    30 s or 10%.
# PROGRESS_FD=N sends the steps, the progress and a failure to file
# descriptor N (each line prefixed with PROGRESS_PREFIX) instead of a
# terminal: the tests point it at their TAP output.

TAG=${TAG:-$(basename "$0" .sh)}
STEP=

log() { echo "$TAG: $*" >&2; }
warn() { echo "$TAG: WARNING: $*" >&2; note "WARNING: $*"; }
die() { echo "$TAG: ERROR: $*" >&2; exit 1; }

# need_space DIR MIB WHAT: stop with one line unless the file system that
# will hold DIR (DIR or its nearest existing parent) has MIB MiB free, so
# that a full disk is named before a long step, not by a tool deep in it.
need_space() {
	local dir=$1 need=$2 what=$3 have

	while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
	have=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
	[ "$have" -ge "$need" ] && return 0
	die "$what needs ~$(((need + 1023) / 1024)) GiB free in $dir, only $have MiB left: free some space there"
}

# note LINE: LINE on PROGRESS_FD, if it is set (and open).
note() {
	[ -n "${PROGRESS_FD:-}" ] || return 0
	{ true >&"$PROGRESS_FD"; } 2> /dev/null || return 0
	echo "${PROGRESS_PREFIX:-}$TAG: $*" >&"$PROGRESS_FD"
}

# say LINE: LINE on PROGRESS_FD if it is set, else on stderr.
say() {
	if [ -n "${PROGRESS_FD:-}" ]; then
		note "$*"
	else
		log "$*"
	fi
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

	progress_stop
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

# mmss SECONDS: "M:SS"
mmss() {
	printf '%d:%02d' $(($1 / 60)) $(($1 % 60))
}

# Progress. progress_begin starts a step's count, progress reports it
# (as often as the caller likes: it decides when to print), progress_end
# finishes its updating line on a terminal.
PROGRESS_T=0
PROGRESS_PCT=0
PROGRESS_TTY=
PROGRESS_LINE=
PROGRESS_PID=

progress_begin() {
	PROGRESS_T=$SECONDS
	PROGRESS_PCT=0
	PROGRESS_TTY=
	PROGRESS_LINE=
	if [ -z "${PROGRESS_FD:-}" ] && [ -t 2 ]; then
		PROGRESS_TTY=1
	fi
}

# progress WHAT DONE TOTAL UNIT: DONE of TOTAL UNIT so far. TOTAL is "~N"
# when it is an estimate, empty when unknown; UNIT "%" means DONE is one.
progress() {
	local what=$1 done=$2 total=$3 unit=$4 num pct=-1 text

	num=${total#\~}
	if [ "$unit" = % ]; then
		pct=$done
		text="$done%"
	elif [ -n "$num" ] && [ "$num" -gt 0 ]; then
		pct=$((done * 100 / num))
		[ "$pct" -le 100 ] || pct=100
		text="$done/$total $unit (${total%%[0-9]*}$pct%)"
	else
		text="$done $unit"
	fi
	if [ -n "$PROGRESS_TTY" ]; then
		printf '\r%s: %s: %s\033[K' "$TAG" "$what" "$text" >&2
		PROGRESS_LINE=1
		return 0
	fi
	if [ $((SECONDS - PROGRESS_T)) -lt 30 ] &&
	   { [ "$pct" -lt 0 ] || [ "$pct" -lt $((PROGRESS_PCT + 10)) ]; }; then
		return 0
	fi
	PROGRESS_T=$SECONDS
	[ "$pct" -lt 0 ] || PROGRESS_PCT=$pct
	say "$what: $text"
}

progress_end() {
	[ -z "$PROGRESS_LINE" ] || echo >&2
	PROGRESS_LINE=
}

# every SECS CMD...: (in the background) run CMD every SECS seconds until
# the script that started us is gone or TERM comes; then EVERY_STOP (a
# command, if set) runs.
every() {
	local secs=$1 sleeper=''

	shift
	trap '[ -z "$sleeper" ] || kill "$sleeper" 2> /dev/null; ${EVERY_STOP:-}; exit 0' TERM
	# $$ is the script that started us: stop if it is gone.
	while kill -0 $$ 2> /dev/null; do
		sleep "$secs" &
		sleeper=$!
		wait "$sleeper" || true
		sleeper=
		"$@"
	done
}

# progress_count WHAT TOTAL UNIT COUNT_CMD...: one report of COUNT_CMD.
progress_count() {
	local what=$1 total=$2 unit=$3 n

	shift 3
	n=$("$@") || n=0
	progress "$what" "$n" "$total" "$unit"
}

# progress_watch WHAT TOTAL UNIT COUNT_CMD...: until progress_stop, report
# in the background what COUNT_CMD prints (a number) against TOTAL (see
# progress). COUNT_CMD may be a function of the script.
progress_watch() {
	local secs=10

	progress_stop
	progress_begin
	[ -z "$PROGRESS_TTY" ] || secs=3
	EVERY_STOP=progress_end every "$secs" progress_count "$@" &
	PROGRESS_PID=$!
}

progress_stop() {
	[ -n "$PROGRESS_PID" ] || return 0
	kill "$PROGRESS_PID" 2> /dev/null || true
	wait "$PROGRESS_PID" 2> /dev/null || true
	PROGRESS_PID=
	PROGRESS_TTY=
}

# apt_progress WHAT: a filter for apt's status lines (-o APT::Status-Fd=N
# pointed at it): reports the download's percentage.
apt_progress() {
	local what=$1 kind pct

	progress_begin
	while IFS=: read -r kind _ pct _; do
		[ "$kind" = dlstatus ] || continue
		progress "$what" "${pct%%.*}" "" %
	done
	progress_end
}

# count_files DIR: files and symlinks under DIR, not counting any .git.
count_files() {
	find "$1" -name .git -prune -o ! -type d -print | wc -l
}
