#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo / make shell: boot the rig and show what UML sees of the
# passed-through devices, or give an interactive shell inside UML.
#
# Usage: demo.sh demo|shell
set -euo pipefail

T=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$T/../../.." && pwd)
BUILD=$TOP/build
ROOT=$BUILD/uml-root
LOG=$BUILD/logs/$1.log

mkdir -p "$BUILD/logs"
"$T/guest/mkroot.sh" "$ROOT" "$BUILD/linux"

demo() {
	local rc=0

	echo "demo: booting L1 (QEMU, TCG, emulated IOMMU) with 2 nvme, virtio-blk, virtio-net and e1000e;"
	echo "demo: L1 binds them to vfio-pci and runs UML with vfio_uml.device= for each (about a minute)"
	UML=$BUILD/uml/linux UML_ROOT=$ROOT UML_ARGS="uml.job=demo loglevel=4" \
		"$T/rig/run-l1.sh" uml "$LOG" 900 > /dev/null 2> "$LOG.err" || rc=$?
	sed -n '/^UML-INIT-OK/,/^UML-POWEROFF/p' "$LOG" | tr -d '\r' |
		grep -vE '^UML-(INIT-OK|POWEROFF)'
	echo
	grep '^RIG-RESULT: ' "$LOG" | tr -d '\r' | sed 's/^RIG-RESULT: /demo: L1 after UML exited: /'
	if [ $rc -ne 0 ] || ! grep -q '^== Done' "$LOG"; then
		echo "demo: FAILED (exit $rc); L1 and UML console log: $LOG" >&2
		return 1
	fi
	echo "demo: full L1 and UML console log: $LOG"
}

shell() {
	local term=$BUILD/l1-term.sock

	cat <<MSG
shell: booting L1 and then UML with the devices passed through.
shell: leave UML with 'poweroff -f' (or Ctrl-D); you then get an L1 shell,
shell: whose exit powers L1 off. Ctrl-A X quits QEMU at any time.
shell: to add and remove devices while UML runs, open a second terminal on
shell: L1 (its second serial port) once UML is up:
shell:     socat -,raw,echo=0 UNIX-CONNECT:$term
shell: and there, with the addresses of L1's 'cat /uml-root/l1-devices.txt':
shell:     uml_mconsole rig config vfio_uml.device          # list
shell:     uml_mconsole rig remove vfio_uml.device=BDF      # unplug one
shell:     uml_mconsole rig config vfio_uml.device=BDF      # plug it again
MSG
	"$T/scripts/deps.sh" "for the second terminal on L1" socat
	UML=$BUILD/uml/linux UML_ROOT=$ROOT UML_ARGS="uml.job=shell loglevel=4" \
		RIG_TERM=$term "$T/rig/run-l1.sh" shell "$LOG" 86400
}

case ${1:-} in
demo) demo ;;
shell) shell ;;
*) echo "usage: demo.sh demo|shell" >&2; exit 2 ;;
esac
