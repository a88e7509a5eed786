#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot UML on this machine (which has no /dev/vfio) with good and bad
# vfio_uml.device= values: each boot must reach init and power off cleanly,
# print the expected one-line errors and no WARNING/BUG/Oops.
set -euo pipefail
. "$T/lib.sh"

ROOT=$BUILD/local-root

make_root() {
	busybox_root "$ROOT" <<'INIT'
#!/bin/busybox sh
# /proc first: Debian's busybox finds its applets through /proc/self/exe.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "UML-INIT-OK"
/bin/busybox ls /sys/bus/pci/devices | /bin/busybox sed 's/^/UML-PCI: /'
/bin/busybox sed 's/^/UML-IDLE-POLL-US: /' /sys/module/kernel/parameters/idle_poll_us
/bin/busybox poweroff -f
INIT
}

# boot NAME ARGS...: boots UML, leaves the console log in $LOGS/NAME.log
boot() {
	local name=$1 rc=0

	shift
	local_uml_args "$ROOT"
	TMPDIR=$UML_TMP timeout 120 "$UML" mem=64M "${LOCAL_UML_ARGS[@]}" "$@" \
		> "$LOGS/$name.log" 2>&1 < /dev/null || rc=$?
	return $rc
}

# check NAME EXPECTED_ERRORS REGEX... -- ARGS...: boot, then require init,
# a clean exit, exactly EXPECTED_ERRORS vfio_uml lines, each REGEX matched.
check() {
	local name=$1 want=$2 log=$LOGS/$1.log rc=0 n re
	local -a res=()

	shift 2
	while [ "$1" != "--" ]; do
		res+=("$1")
		shift
	done
	shift
	boot "$name" "$@" || rc=$?

	if [ $rc -ne 0 ]; then
		fail "boot $name" "UML exited with $rc (124 = timeout)" "$log"
		return
	fi
	if ! grep -q '^UML-INIT-OK' "$log"; then
		fail "boot $name" "init was not reached" "$log"
		return
	fi
	if grep -qE "$BAD_LINES" "$log"; then
		fail "boot $name" "$(grep -m1 -E "$BAD_LINES" "$log")" "$log"
		return
	fi
	n=$(grep -c '^vfio_uml: ' "$log" || true)
	if [ "$n" -ne "$want" ]; then
		fail "boot $name" "$n vfio_uml lines, expected $want" "$log"
		return
	fi
	for re in "${res[@]}"; do
		if ! grep -qE "$re" "$log"; then
			fail "boot $name" "no line matches: $re" "$log"
			return
		fi
	done
	pass "boot $name"
}

# A host PCI device that exists here (this machine has no IOMMU groups), if
# it has any, and an address that no machine has.
host_dev=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	host_dev=$(basename "$d")
	break
done
absent=0000:fe:1f.7

make_root
check no-param 0 "^UML-IDLE-POLL-US: 0[^0-9]*$" -- 
# Idle polling (series patch 0021) on: boots and powers off as well.
check idle-poll 0 "^UML-IDLE-POLL-US: 200[^0-9]*$" -- idle_poll_us=200
check missing-dev 1 "^vfio_uml: $absent: no such PCI device on the host$" \
	-- vfio_uml.device=$absent
if [ -n "$host_dev" ]; then
	# One line naming the device, the step and a reason, whatever the host.
	check host-dev 1 "^vfio_uml: $host_dev: [a-z][^:]*: [A-Z].+" \
		-- vfio_uml.device="$host_dev"
else
	skip "boot host-dev" "this machine has no PCI devices"
fi
check garbage 1 '^vfio_uml: garbage: invalid device address: expected DDDD:BB:SS.F' \
	-- vfio_uml.device=garbage
check short-form 1 "^vfio_uml: 0000:fe:1f.7: no such PCI device" \
	-- vfio_uml.device=fe:1f.7
check slot-range 1 '^vfio_uml: 0000:00:20.0: slot 0x20 out of range' \
	-- vfio_uml.device=0000:00:20.0
check bus-range 1 '^vfio_uml: 0000:100:00.0: bus 0x100 out of range' \
	-- vfio_uml.device=0000:100:00.0
check func-range 1 '^vfio_uml: 0000:00:01.8: function 0x8 out of range' \
	-- vfio_uml.device=0000:00:01.8
check trailing 1 '^vfio_uml: 0000:00:01.0x: invalid device address' \
	-- vfio_uml.device=0000:00:01.0x
check empty 1 '^vfio_uml: vfio_uml.device= given without an address' \
	-- vfio_uml.device=
check no-value 1 '^vfio_uml: vfio_uml.device= given without an address' \
	-- vfio_uml.device
check twice 2 "^vfio_uml: $absent: given more than once; using it once$" \
	"^vfio_uml: $absent: no such PCI device" \
	-- vfio_uml.device=$absent vfio_uml.device=fe:1f.7
check mixed 3 '^vfio_uml: garbage: invalid' "^vfio_uml: $absent: no such" \
	'^vfio_uml: 0000:00:20.0: slot' \
	-- vfio_uml.device=garbage vfio_uml.device=$absent vfio_uml.device=0000:00:20.0
# vfio_uml.dma=: a mode name is taken silently, anything else reported
# once, keeping the default.
check dma-eager 0 -- vfio_uml.dma=eager
check dma-bad 1 '^vfio_uml: vfio_uml.dma=bogus: expected ondemand, eager or strict; using ondemand$' \
	-- vfio_uml.dma=bogus
