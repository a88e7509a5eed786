#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Bad input, in the rig (issue 4, cases a-l): one L1 boot with a good nvme,
# devices in every wrong state and an unprivileged user runs UML once per
# case (faults/l1/job.sh, fault.set=bad). Each case must print exactly one
# vfio_uml line naming the device, the failing step and the reason (or,
# for the inputs that must work: none, and the device works), reach init
# and power off, keep the good device given alongside working, and leave
# no WARNING/BUG/Oops in UML's log and no vfio/DMAR error in L1's.
set -euo pipefail
. "$T/lib.sh"
. "$T/faults/lib.sh"

FLOG=$LOGS/faults-bad.log
G=0000:00:03.0
E=0000:00:04.0
U=0000:00:05.0
EDU=0000:00:06.0
E1000=0000:00:07.0
FA=0000:01:01.0
FILL=(0000:00:09.0 0000:00:0a.0 0000:00:0b.0 0000:00:0c.0 0000:00:0d.0
      0000:00:0e.0 0000:00:0f.0 0000:00:10.0)
PASS=$G,$EDU,$E1000,$FA,$(IFS=,; echo "${FILL[*]}")

# bad NAME WHAT ALONGSIDE REGEX [L1_ALLOWED]: one case. ALONGSIDE is "G"
# (the good nvme with its namespace must work), "F1" (the first filler
# must pass through and bind to nvme) or "-" (no other device can work).
bad() {
	local name=$1 what=$2 along=$3 re=$4 allowed=${5:-} errs n

	count_tried bad
	if ! case_check "$name" "$allowed"; then
		fail "bad input $name: $what" "$WHY" "$FLOG"
		return
	fi
	errs=$(vfio_errors "$name")
	n=$(grep -c . <<<"$errs" || true)
	if [ -z "$re" ]; then
		if [ "$n" -ne 0 ]; then
			fail "bad input $name: $what" "expected no vfio_uml error, got: $(head -n 1 <<<"$errs")" "$FLOG"
			return
		fi
	elif [ "$n" -ne 1 ]; then
		fail "bad input $name: $what" "$n vfio_uml error lines, expected 1: $(tr '\n' '|' <<<"$errs")" "$FLOG"
		return
	elif ! grep -qE "$re" <<<"$errs"; then
		fail "bad input $name: $what" "got: $errs" "$FLOG"
		return
	fi
	case $along in
	G)
		if ! case_log "$name" | grep_q "^vfio_uml: $G: passed through" ||
		   ! case_log "$name" | grep_q '^FAULT-IO: 1 ok 0 failed'; then
			fail "bad input $name: $what" "the good nvme given alongside did not work: $(case_log "$name" | grep -E '^FAULT-(IO|PCI)' | tr '\n' '|')" "$FLOG"
			return
		fi
		;;
	F1)
		if ! case_log "$name" | grep_q "^vfio_uml: ${FILL[0]}: passed through" ||
		   ! case_log "$name" | grep_q '^FAULT-PCI: .* driver=nvme'; then
			fail "bad input $name: $what" "the device given alongside did not work" "$FLOG"
			return
		fi
		;;
	esac
	pass "bad input $name: $what${re:+: $(head -n 1 <<<"$errs" | cut -c11-)}"
}

# irqs_work NAME DEV KINDS WHAT: in case NAME, DEV passed through and the
# irqtest module got 20 interrupts of each kind from it (uml-init.sh's
# fault.irq=): 20 round trips of each kind, each taken by its handler.
irqs_work() {
	local name=$1 dev=$2 kinds=$3 what=$4 k line

	if ! case_log "$name" | grep_q "^vfio_uml: $dev: passed through"; then
		fail "$name: $what" "$dev was not passed through" "$FLOG"
		return
	fi
	for k in ${kinds//,/ }; do
		line=$(case_log "$name" | grep "^FAULT-IRQ: $dev $k " || true)
		# handled= counts across kinds; rt_n= is this kind's 20 round trips.
		if ! grep -qE "^FAULT-IRQ: $dev $k ok kind=$k irq=[0-9]+ handled=[0-9]+ .* rt_n=20 " <<<"$line"; then
			fail "$name: $what" "$k: ${line:-no FAULT-IRQ line}" "$FLOG"
			return
		fi
	done
	pass "$name: $what"
}

faults_prepare
echo "# faults: booting L1 with devices in wrong states; one UML run per bad input (~4 min under TCG)"
rc=0
faults_boot bad "$FAULTS/devices-bad.sh" "$PASS" "$FLOG" 1200 || rc=$?
faults_ran bad-input "$FLOG" "$rc" || true
case_info setup | { grep -E "$FA|group of" || true; } | sed 's/^/# setup: /'

A='vfio_uml: '
bad a-empty "vfio_uml.device= without a value" G \
	"^${A}vfio_uml.device= given without an address; expected DDDD:BB:SS.F\$"
bad b-garbage "not an address" G \
	"^${A}garbage: invalid device address: expected DDDD:BB:SS.F"
bad c-slot "slot out of range" G \
	"^${A}0000:00:20.0: slot 0x20 out of range \(0-0x1f\)\$"
bad c-bus "bus out of range" G \
	"^${A}0000:100:00.0: bus 0x100 out of range \(0-0xff\)\$"
bad d-absent "well-formed address of no device" G \
	"^${A}0000:3f:00.0: no such PCI device on the host\$"
bad e-hostdrv "device bound to L1's nvme driver" G \
	"^${A}$E: opening /dev/vfio/[0-9]+: No such file or directory \(bound to host driver nvme, not vfio-pci\)\$"
bad e-unbound "device bound to no L1 driver" G \
	"^${A}$U: opening /dev/vfio/[0-9]+: No such file or directory \(not bound to any host driver: bind it to vfio-pci\)\$"
bad f-notviable "IOMMU group not viable (pci-bridge, other function on nvme)" G \
	"^${A}$FA: IOMMU group [0-9]+ is not viable \(bind every device of /sys/kernel/iommu_groups/[0-9]+/devices to vfio-pci\)\$"
bad g-twice "the same device twice" G \
	"^${A}$G: given more than once; using it once\$"
bad h-notype1 "vfio_iommu_type1 not loaded" - \
	"^${A}$G: opening /dev/vfio/vfio: No such device \(no type1 IOMMU: load vfio_iommu_type1 on the host\)\$"
bad h-novfio "/dev/vfio absent (vfio modules not loaded)" - \
	"^${A}$G: opening /dev/vfio/vfio: No such file or directory \(vfio modules not loaded on the host\)\$"
bad i-vfio-noaccess "unprivileged user, no access to /dev/vfio/vfio" - \
	"^${A}$G: opening /dev/vfio/vfio: Permission denied \(no access for this user\)\$"
bad i-group-noaccess "unprivileged user, no access to the group" F1 \
	"^${A}$G: opening /dev/vfio/[0-9]+: Permission denied \(no access: check owner and mode of /dev/vfio/[0-9]+\)\$"
bad i-user-ok "unprivileged user with group access and memlock: works" G ""
bad j-msi "edu: MSI and INTx, no MSI-X: passes through" G ""
irqs_work j-msi "$EDU" msi,intx "edu's MSI and INTx interrupts arrive in UML"
bad j-intx "e1000: INTx only: passes through" G ""
irqs_work j-intx "$E1000" intx "e1000's INTx arrives in UML"
bad k-many "9 devices, virt-pci holds 8" G \
	"^${A}${FILL[7]}: registering with virt-pci: no free slot \(virt-pci holds no more than the 8 devices already registered\)\$"
bad l-memlock "memlock 16 MiB, far below mem=512M: works, DMA mapped on demand" G ""
bad l-memlock-eager "memlock 16 MiB below mem=128M, vfio_uml.dma=eager" - \
	"^${A}$G: mapping UML memory for DMA: Cannot allocate memory \([0-9]+ MiB asked for, 0 KiB mapped already, RLIMIT_MEMLOCK is 16 MiB: raise the memlock limit\)\$" \
	'vfio_pin_pages_remote: RLIMIT_MEMLOCK \(16777216\) exceeded'
bad l-memlock-tiny "memlock 128 KiB, less than a DMA chunk: refused as the device probes" - \
	"^${A}0000:00:0[0-7]\.0: mapping UML memory for DMA: Cannot allocate memory \(256 KiB asked for, 0 KiB mapped already, RLIMIT_MEMLOCK is 128 KiB: raise the memlock limit\)\$" \
	'vfio_pin_pages_remote: RLIMIT_MEMLOCK \(131072\) exceeded'

# m: edu's DMA engine reaches only the low 28 bits of an address.
check_edu() {
	local name="DMA mask: edu's 28-bit DMA engine, UML mem=1G" out

	count_tried fault
	out=$(case_log m-edu)
	if grep -q '^FAULT-EDU-ABSENT' <<<"$out"; then
		fail "$name" "edu was not passed through: $(grep -m1 "^${A}$EDU" <<<"$out" || echo 'no vfio_uml line')" "$FLOG"
	elif ! case_check m-edu; then
		fail "$name" "$WHY" "$FLOG"
	elif grep -q '^EDU-DMA: [0-9]* bytes copied .*: identical$' <<<"$out" &&
	     grep -q '^FAULT-EDU-INSMOD: rc=0' <<<"$out"; then
		pass "$name: $(grep -m1 '^EDU-DMA: src phys' <<<"$out" | cut -c10-)"
	else
		fail "$name" "$(grep -E '^(EDU-DMA|FAULT-EDU)' <<<"$out" | tr '\n' '|')" "$FLOG"
	fi
}
check_edu
