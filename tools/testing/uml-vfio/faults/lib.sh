# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by tests/4x-faults*.sh: builds what the fault boots need, boots L1
# and reads the FAULT- lines of its log (see l1/job.sh). Needs T, TOP,
# BUILD, TREE, UML, LOGS, TAP_DIR (run-tests.sh) and ../lib.sh.

FAULTS=$T/faults
FAULTS_CACHE=${UML_VFIO_CACHE:-$HOME/.cache/uml-vfio}/faults
FROOT=$BUILD/faults-root
FL1=$BUILD/faults-l1

# UML's root: the rig's guest files (with the irqtest module), /faults/init
# and the dma_fault, edu_dma and stale_bar modules; L1's /rig: job.sh,
# lifecycle.sh and the static runas helper.
faults_prepare() {
	local mod=$BUILD/faults-mod

	"$T/guest/mkroot.sh" "$FROOT" "$TREE" "$(dirname "$UML")"
	mkdir -p "$FROOT/faults" "$FROOT/go" "$FL1" "$FAULTS_CACHE"
	install -m 755 "$FAULTS/uml-init.sh" "$FROOT/faults/init"

	rm -rf "$mod"
	mkdir -p "$mod"
	cp -r "$FAULTS/dmafault" "$FAULTS/edudma" "$FAULTS/stalebar" "$mod/"
	make -s -C "$TREE" O="$(dirname "$UML")" ARCH=um M="$mod/dmafault" modules >&2
	make -s -C "$TREE" O="$(dirname "$UML")" ARCH=um M="$mod/edudma" modules >&2
	make -s -C "$TREE" O="$(dirname "$UML")" ARCH=um M="$mod/stalebar" modules >&2
	install -m 644 "$mod/dmafault/dma_fault.ko" "$FROOT/faults/dma_fault.ko"
	install -m 644 "$mod/edudma/edu_dma.ko" "$FROOT/faults/edu_dma.ko"
	install -m 644 "$mod/stalebar/stale_bar.ko" "$FROOT/faults/stale_bar.ko"

	if [ ! -x "$FAULTS_CACHE/runas" ] || [ "$FAULTS/runas.c" -nt "$FAULTS_CACHE/runas" ]; then
		gcc -static -O2 -Wall -o "$FAULTS_CACHE/runas" "$FAULTS/runas.c"
	fi
	rm -rf "$FL1"
	mkdir -p "$FL1"
	install -m 755 "$FAULTS_CACHE/runas" "$FL1/runas"
	install -m 644 "$FAULTS/l1/job.sh" "$FL1/job.sh"
	install -m 644 "$FAULTS/l1/lifecycle.sh" "$FL1/lifecycle.sh"
}

# faults_boot SET DEVICES PASS LOG TIMEOUT: one L1 boot running job.sh with
# fault.set=SET; LOG gets the console with \r removed. RIG_MEM: L1's RAM.
faults_boot() {
	local set=$1 devices=$2 pass=$3 log=$4 secs=$5 rc=0

	UML=$UML UML_ROOT=$FROOT L1_EXTRA=$FL1 RIG_L1_MODULES="nvme aer_inject" \
		RIG_DEVICES=$devices RIG_MEM=${RIG_MEM:-2G} \
		RIG_APPEND="rig.pass=$pass fault.set=$set rig.uml_timeout=600" \
		"$T/rig/run-l1.sh" script "$log.raw" "$secs" \
		> /dev/null 2> "$log.err" || rc=$?
	tr -d '\r' < "$log.raw" > "$log"
	rm -f "$log.raw"
	return $rc
}

# faults_ran WHAT LOG RC: a failure unless L1 got to the end of its job
# (RC: faults_boot's exit status, for the message).
faults_ran() {
	grep -q '^RIG-RESULT: ' "$2" && return 0
	fail "faults: L1 ran the $1 job" "no RIG-RESULT line (run-l1.sh exit $3; timeout?)" "$2"
	tail -n 5 "$2.err" | sed 's/^/#   /'
	return 1
}

# The lines of one case: from FAULT-CASE-BEGIN to FAULT-CASE-END.
case_log() {
	sed -n "/^FAULT-CASE-BEGIN: $1\$/,/^FAULT-CASE-END: $1 /p" "$FLOG"
}

case_dmesg() {
	grep "^FAULT-DMESG: $1: " "$FLOG" | sed "s/^FAULT-DMESG: $1: //" || true
}

case_info() {
	grep "^FAULT-INFO: $1: " "$FLOG" | sed "s/^FAULT-INFO: $1: //" || true
}

# Lines of L1's kernel log that are errors: vfio or DMAR trouble.
L1_BAD='fault|error|fail|warn|blocked|DMAR|vfio|exceeds available resources'
# ...except these, which every vfio-pci open logs.
L1_NORMAL='vfio-pci [0-9a-f:.]+: (enabling device|resetting|reset done)'

# l1_error NAME [L1_ALLOWED_REGEX]: the first error line of L1's kernel log
# during case NAME, if any.
l1_error() {
	case_dmesg "$1" | grep -iE "$L1_BAD" | grep -vE "$L1_NORMAL" |
		{ if [ -n "${2:-}" ]; then grep -vE "$2"; else cat; fi; } |
		head -n 1 || true
}

# case_check NAME [L1_ALLOWED_REGEX]: the generic part of every case. Sets
# WHY to the first problem; returns 1 if there was one.
case_check() {
	local name=$1 allowed=${2:-} out bad

	out=$(case_log "$name")
	WHY=
	bad=$(case_info "$name" | grep -m1 '^HUNG: ' || true)
	if [ -z "$out" ]; then
		WHY="case did not run (no FAULT-CASE-BEGIN: $name)"
	elif [ -n "$bad" ]; then
		WHY="UML ${bad%%;*} (its tasks' stacks are in the case's log)"
	elif ! grep -q "^FAULT-CASE-END: $name exit=0 " <<<"$out"; then
		WHY="UML did not exit 0: $(grep "^FAULT-CASE-END: $name " <<<"$out" || echo 'no end line')"
	elif ! grep -q '^FAULT-UML-INIT-OK' <<<"$out"; then
		WHY="UML did not reach init"
	elif ! grep -q '^FAULT-POWEROFF' <<<"$out"; then
		WHY="UML's init did not finish"
	fi
	[ -z "$WHY" ] || return 1

	bad=$(grep -E "$BAD_LINES" <<<"$out" | head -n 1 || true)
	if [ -n "$bad" ]; then
		WHY="UML log: $bad"
		return 1
	fi
	bad=$(l1_error "$name" "$allowed")
	if [ -n "$bad" ]; then
		WHY="L1 log: $bad"
		return 1
	fi
	return 0
}

# vfio_errors NAME: the vfio_uml lines of a case that report a problem.
vfio_errors() {
	case_log "$1" | grep '^vfio_uml: ' |
		grep -vE '^vfio_uml: ([0-9a-f:.]+: (passed through|the host cannot reset it)|mapping [0-9]+ MiB of UML memory|DMA: )' || true
}

# count_tried KIND: one more bad input (bad) or fault (fault) tried.
count_tried() {
	local n
	n=$(cat "$TAP_DIR/faults-$1" 2>/dev/null || echo 0)
	echo $((n + 1)) > "$TAP_DIR/faults-$1"
}
