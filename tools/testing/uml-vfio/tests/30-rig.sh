#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The nested rig: L1 (QEMU, TCG, emulated IOMMU) binds nvme, virtio,
# e1000e, e1000, pci-testdev and ivshmem devices (or, in the -irq runs,
# nvme, virtio, xHCI, edu and e1000e devices) to vfio-pci and runs our
# UML with them; the tests inside UML (guest/*_test.c) print TAP, which is
# folded into ours, and L1 then checks that every device reopens and that
# its log has no DMAR/vfio error.
# Four runs: with BARs mapped (the default, accessed inline through direct
# windows), mapped with vfio_uml.direct=0 (every access a call into the
# driver) and with vfio_uml.mmap=0 (every BAR access a pread/pwrite), the
# last with both device sets. The DMA modes ride along, with no boot of
# their own: on demand (the default) with both device sets,
# vfio_uml.dma=eager with the interrupt set and vfio_uml.dma=strict with
# the BAR set (and in tests/45-debug.sh).
set -euo pipefail
. "$T/lib.sh"

ROOT=$BUILD/uml-root

# Harness lines inside one test program's block become our results.
fold_tap() {
	local prog= line name rc results=0 failed=0

	while IFS= read -r line; do
		line=${line%%$'\r'*}
		case $line in
		"UML-TEST-BEGIN "*)
			prog=${line#UML-TEST-BEGIN }
			results=0
			failed=0
			;;
		"UML-TEST-END "*)
			rc=${line##*rc=}
			if [ "$rc" != 0 ] && [ $failed -eq 0 ]; then
				fail "$MODE uml: $prog" "exited with $rc after $results results" "$LOG"
			elif [ $results -eq 0 ]; then
				fail "$MODE uml: $prog" "printed no results" "$LOG"
			fi
			prog=
			;;
		"ok "[0-9]*" # SKIP"*|"ok "[0-9]*" "*"# SKIP"*)
			[ -n "$prog" ] || continue
			name=${line#ok * }
			results=$((results + 1))
			skip "$MODE uml: $prog: ${name%% # SKIP*}" "${name#* # SKIP }"
			;;
		"ok "[0-9]*)
			[ -n "$prog" ] || continue
			results=$((results + 1))
			pass "$MODE uml: $prog: ${line#ok * }"
			;;
		"not ok "[0-9]*)
			[ -n "$prog" ] || continue
			results=$((results + 1))
			failed=$((failed + 1))
			fail "$MODE uml: $prog: ${line#not ok * }" "see the # lines before it in the log" "$LOG"
			;;
		esac
	done < "$LOG"
}

check_l1() {
	local n bad

	if grep -q '^RIG-UML-END: exit=0' "$LOG"; then
		pass "$MODE UML powered off cleanly"
	else
		fail "$MODE UML powered off cleanly" "$(grep -m1 '^RIG-UML-END' "$LOG" || echo 'UML did not end')" "$LOG"
	fi

	bad=$(sed -n '/^RIG-UML-BEGIN/,/^RIG-UML-END/p' "$LOG" | grep -E "$BAD_LINES" | head -n 1 || true)
	if [ -z "$bad" ]; then
		pass "$MODE UML log has no WARNING/BUG/Oops/panic"
	else
		fail "$MODE UML log has no WARNING/BUG/Oops/panic" "$bad" "$LOG"
	fi

	n=$(grep -c '^vfio_uml: .* passed through' "$LOG" || true)
	want=$(grep -c '^RIG-DEVICE: ' "$LOG" || true)
	if [ "$want" -gt 0 ] && [ "$n" -eq "$want" ]; then
		pass "$MODE our driver passed all $want devices through"
	else
		fail "$MODE our driver passed all devices through" "$n of $want" "$LOG"
	fi

	n=$(grep -c '^RIG-REOPEN: .* ok' "$LOG" || true)
	if [ "$want" -gt 0 ] && [ "$n" -eq "$want" ] && ! grep -q '^RIG-REOPEN: .* fail' "$LOG"; then
		pass "$MODE L1: all $want devices reopen through VFIO after UML exits"
	else
		fail "$MODE L1: all devices reopen through VFIO after UML exits" \
			"$(grep -m1 '^RIG-REOPEN: .* fail' "$LOG" || echo "$n of $want")" "$LOG"
	fi

	bad=$(grep '^RIG-DMESG: ' "$LOG" | grep -iE 'fault|error|fail|warn' | head -n 1 || true)
	if [ -z "$bad" ]; then
		pass "$MODE L1: no DMAR fault or vfio error in the kernel log"
	else
		fail "$MODE L1: no DMAR fault or vfio error in the kernel log" "$bad" "$LOG"
	fi
}

# check_mapping WANT: "mapped" if every device must have mapped BAR areas,
# "unmapped" if none may.
check_mapping() {
	local lines bad

	lines=$(grep '^vfio_uml: .* passed through' "$LOG" || true)
	if [ "$1" = mapped ]; then
		bad=$(echo "$lines" | grep ', 0 BAR areas mapped' || true)
	else
		bad=$(echo "$lines" | grep -v ', 0 BAR areas mapped' || true)
	fi
	if [ -n "$lines" ] && [ -z "$bad" ]; then
		pass "$MODE BARs are $1 as asked"
	else
		fail "$MODE BARs are $1 as asked" "${bad:-no device passed through}" "$LOG"
	fi
}

# check_params WANT: UML reported its vfio_uml switches as WANT
# ("mmap=Y direct=N dma=eager"), so the run tested the path it is named
# after.
check_params() {
	local got

	got=$(grep -a '^UML-PARAMS ' "$LOG" | tr -d '\r' | sed -n 1p || true)
	if [ "$got" = "UML-PARAMS $1" ]; then
		pass "$MODE driver switches are $1"
	else
		fail "$MODE driver switches are $1" "${got:-no UML-PARAMS line}" "$LOG"
	fi
}

# run_rig NAME MAPPING PARAMS L1_ARGS [UML ARGS...]
run_rig() {
	local name=$1 mapping=$2 params=$3 l1_args=$4 rc=0 want ran

	shift 4
	MODE="[$name]"
	LOG=$LOGS/rig-tests-$name.log
	echo "# rig ($name): booting L1 with the devices and running the tests in UML (about a minute under TCG)"
	UML=$UML UML_ROOT=$ROOT UML_ARGS="uml.job=tests $*" RIG_APPEND="$l1_args" \
		"$T/rig/run-l1.sh" uml "$LOG" 1500 > /dev/null 2> "$LOGS/rig-run-$name.err" || rc=$?
	if ! grep -q '^RIG-RESULT: ' "$LOG"; then
		fail "$MODE rig: L1 ran the job" "no RIG-RESULT line (run-l1.sh exit $rc; timeout?)" "$LOG"
		tail -n 5 "$LOGS/rig-run-$name.err" | sed 's/^/#   /'
		return
	fi
	grep '^RIG-TIME: ' "$LOG" | sed 's/^/# /'
	fold_tap
	want=$(find "$ROOT/tests" -name '*_test' | wc -l)
	ran=$(grep -c '^UML-TEST-END ' "$LOG" || true)
	if [ "$ran" -eq "$want" ]; then
		pass "$MODE uml: all $want test programs ran"
	else
		fail "$MODE uml: all test programs ran" "$ran of $want" "$LOG"
	fi
	check_mapping "$mapping"
	check_params "$params"
	check_l1
}

"$T/guest/mkroot.sh" "$ROOT" "$TREE" "$(dirname "$UML")"
run_rig mmap mapped "mmap=Y direct=Y dma=ondemand" ""
# The devices with MSI and INTx (RIG_SET_IRQ) instead of L1's default
# set, which has those with I/O, large and ROM BARs; and the e1000e on
# INTx (e1000e.IntMode=0: net_test checks it).
run_rig nodirect-eager mapped "mmap=Y direct=N dma=eager" \
	"rig.pass=$RIG_SET_IRQ" vfio_uml.direct=0 e1000e.IntMode=0 \
	vfio_uml.dma=eager
run_rig pread-strict unmapped "mmap=N direct=Y dma=strict" "" \
	vfio_uml.mmap=0 vfio_uml.dma=strict
# The interrupt kinds again with no BAR mapped: edu's registers, the
# MSI-X table and PBA through pread/pwrite.
run_rig pread-irq unmapped "mmap=N direct=Y dma=ondemand" \
	"rig.pass=$RIG_SET_IRQ" vfio_uml.mmap=0
