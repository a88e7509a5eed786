#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo / make shell: boot the rig and show what UML sees of the
# passed-through devices, or give an interactive shell inside UML.
#
# The demo fails (exit 1) unless what UML printed shows every device L1
# passed through bound to its driver, the identify data of each nvme, the
# I/O check "ok" on each block device and the ping to L1 answered.
#
# Usage: demo.sh demo|shell
#        demo.sh check LOG   only that check, on the console log of a demo
set -euo pipefail

T=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$T/../../.." && pwd)
BUILD=$TOP/build
ROOT=$BUILD/uml-root
TAG=demo
# shellcheck source=scripts/lib.sh
. "$T/scripts/lib.sh"

# What UML printed of the demo (guest/demo.sh), without the CRs.
demo_output() {
	sed -n '/^UML-INIT-OK/,/^UML-POWEROFF/p' "$1" | tr -d '\r' |
		grep -vE '^UML-(INIT-OK|POWEROFF)' || true
}

# The driver UML's kernel binds to each kind of device l1-init.sh passes.
driver_of_kind() {
	case $1 in
	nvme) echo nvme ;;
	virtio-blk|virtio-net) echo virtio-pci ;;
	e1000e) echo e1000e ;;
	e1000) echo e1000 ;;
	xhci) echo xhci_hcd ;;
	ahci) echo ahci ;;
	# Devices for BAR and interrupt tests that no in-tree driver claims.
	pci-testdev|ivshmem|edu) echo none ;;
	*) echo "?" ;;
	esac
}

# "VENDOR:DEVICE DRIVER" of each device L1 passed through (its RIG-DEVICE
# lines), sorted.
expected_devices() {
	local kind vendor device

	{ grep -a '^RIG-DEVICE: ' "$1" || true; } | tr -d '\r' |
		while read -r _ _ kind vendor device _; do
			kind=${kind#kind=}
			vendor=${vendor#vendor=0x}
			device=${device#device=0x}
			echo "$vendor:$device $(driver_of_kind "$kind")"
		done | LC_ALL=C sort
}

# "VENDOR:DEVICE DRIVER" of each device in the demo's list, sorted.
listed_devices() {
	awk '$1 ~ /^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+\.[0-7]$/ && $3 == "class" && $5 == "driver" {
		print $2, $6 }' <<<"$1" | LC_ALL=C sort
}

# NVMe controllers whose identify data has a model and a serial and whose
# state is live.
identified_nvme() {
	awk '/^== / { in_nvme = 0 }
	     /^== NVMe controller / { n++; in_nvme = 1 }
	     in_nvme && $1 == "model" && NF > 1 { m[n] = 1 }
	     in_nvme && $1 == "serial" && NF > 1 { s[n] = 1 }
	     in_nvme && $1 == "state" && $2 == "live" { l[n] = 1 }
	     END { for (i = 1; i <= n; i++) if (m[i] && s[i] && l[i]) k++; print k + 0 }' <<<"$1"
}

# check LOG: the demo in LOG showed everything; says what it saw or what
# is missing.
check() {
	local log=$1 out want got missing nvme blk ided ok bad received
	local -a why=()

	out=$(demo_output "$log")
	want=$(expected_devices "$log")
	[ -n "$want" ] || why+=("L1 passed no device through (no RIG-DEVICE line)")
	got=$(listed_devices "$out")
	missing=$(LC_ALL=C comm -23 <(echo "$want") <(echo "$got") | tr '\n' ',' || true)
	[ -z "$missing" ] || why+=("not listed with this driver (vendor:device driver): ${missing%,}")

	# Block devices: a namespace per nvme, and each virtio-blk (1af4:1042).
	nvme=$(grep -c ' nvme$' <<<"$want" || true)
	blk=$((nvme + $(grep -c '^1af4:1042 ' <<<"$want" || true)))
	ided=$(identified_nvme "$out")
	[ "$ided" -ge "$nvme" ] ||
		why+=("NVMe identify data (model, serial, state live) of $ided of $nvme controllers")

	ok=$(grep -cE '^  /dev/[a-z0-9]+ +ok ' <<<"$out" || true)
	bad=$(grep -E '^  /dev/[a-z0-9]+ +MISMATCH' <<<"$out" | tr '\n' ',' || true)
	[ -z "$bad" ] || why+=("I/O check: ${bad%,}")
	[ "$ok" -ge "$blk" ] || why+=("I/O check ok on $ok of $blk block devices")

	received=$(sed -n 's/^ *[0-9]* packets transmitted, \([0-9]*\) packets received.*/\1/p' <<<"$out")
	received=${received%%$'\n'*}
	[ "${received:-0}" -gt 0 ] || why+=("the ping to L1 over virtio-net was not answered")
	grep_done "$out" || why+=("the demo did not get to its end (no '== Done')")

	if [ ${#why[@]} -gt 0 ]; then
		printf 'demo: check FAILED: %s\n' "${why[@]}" >&2
		return 1
	fi
	echo "demo: check: $(grep -c . <<<"$want") devices bound to their drivers, identify data of $nvme NVMe controllers, I/O check ok on $ok block devices, ping answered ($received received)"
}

grep_done() {
	grep '^== Done' <<<"$1" > /dev/null
}

# The rig's steps and progress on our stderr (its other messages go to
# LOG.err), unless the caller (the tests) already sends them elsewhere.
progress_to_stderr() {
	if [ -z "${PROGRESS_FD:-}" ]; then
		exec 8>&2
		export PROGRESS_FD=8 PROGRESS_PREFIX=
	fi
}

demo() {
	local log=$BUILD/logs/demo.log rc=0

	mkdir -p "$BUILD/logs"
	step "building UML's root for the rig in $ROOT"
	"$T/guest/mkroot.sh" "$ROOT" "$BUILD/linux" "$BUILD/uml"
	echo "demo: booting L1 (QEMU, TCG, emulated IOMMU) with 2 nvme, virtio-blk, virtio-net, e1000e,"
	echo "demo: e1000 (INTx only), a pci-testdev and an ivshmem-plain with a 512 MiB BAR;"
	echo "demo: L1 binds them to vfio-pci and runs UML with vfio_uml.device= for each (about a minute)"
	progress_to_stderr
	STEP="running the rig (rig/run-l1.sh)"
	UML=$BUILD/uml/linux UML_ROOT=$ROOT UML_ARGS="uml.job=demo loglevel=4" \
	RIG_BOOT_PROGRESS=${RIG_BOOT_PROGRESS:-20} \
		"$T/rig/run-l1.sh" uml "$log" 900 > /dev/null 2> "$log.err" || rc=$?
	demo_output "$log"
	echo
	grep -a '^RIG-RESULT: ' "$log" | tr -d '\r' |
		sed 's/^RIG-RESULT: /demo: L1 after UML exited: /' || true
	if [ $rc -ne 0 ]; then
		echo "demo: FAILED: the rig exited with $rc:" >&2
		tail -n 3 "$log.err" | sed 's/^/demo:   /' >&2
		echo "demo: L1 and UML console log: $log, the rig's messages: $log.err" >&2
		return 1
	fi
	STEP="checking what UML showed"
	if ! check "$log"; then
		echo "demo: FAILED; L1 and UML console log: $log" >&2
		return 1
	fi
	echo "demo: full L1 and UML console log: $log"
}

shell() {
	local term=$BUILD/l1-term.sock

	mkdir -p "$BUILD/logs"
	step "building UML's root for the rig in $ROOT"
	"$T/guest/mkroot.sh" "$ROOT" "$BUILD/linux" "$BUILD/uml"
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
	STEP="running the rig (rig/run-l1.sh)"
	UML=$BUILD/uml/linux UML_ROOT=$ROOT UML_ARGS="uml.job=shell loglevel=4" \
		RIG_TERM=$term "$T/rig/run-l1.sh" shell "$BUILD/logs/shell.log" 86400
}

case ${1:-} in
demo) demo ;;
shell) shell ;;
check) [ $# -eq 2 ] || die "usage: demo.sh check LOG"; check "$2" ;;
*) die "usage: demo.sh demo|shell|check LOG" ;;
esac
