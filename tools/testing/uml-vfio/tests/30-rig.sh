#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The nested rig: L1 (QEMU, TCG, emulated IOMMU) binds nvme, virtio and
# e1000e devices to vfio-pci and runs our UML with them; the tests inside
# UML (guest/*_test.c) print TAP, which is folded into ours, and L1 then
# checks that every device reopens and that its log has no DMAR/vfio error.
set -euo pipefail
. "$T/lib.sh"

LOG=$LOGS/rig-tests.log
ROOT=$BUILD/uml-root

# Harness lines inside one test program's block become our results.
fold_tap() {
	local prog= line name rc results=0 failed=0

	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"UML-TEST-BEGIN "*)
			prog=${line#UML-TEST-BEGIN }
			results=0
			failed=0
			;;
		"UML-TEST-END "*)
			rc=${line##*rc=}
			if [ "$rc" != 0 ] && [ $failed -eq 0 ]; then
				fail "uml: $prog" "exited with $rc after $results results" "$LOG"
			elif [ $results -eq 0 ]; then
				fail "uml: $prog" "printed no results" "$LOG"
			fi
			prog=
			;;
		"ok "[0-9]*" # SKIP"*|"ok "[0-9]*" "*"# SKIP"*)
			[ -n "$prog" ] || continue
			name=${line#ok * }
			results=$((results + 1))
			skip "uml: $prog: ${name%% # SKIP*}" "${name#* # SKIP }"
			;;
		"ok "[0-9]*)
			[ -n "$prog" ] || continue
			results=$((results + 1))
			pass "uml: $prog: ${line#ok * }"
			;;
		"not ok "[0-9]*)
			[ -n "$prog" ] || continue
			results=$((results + 1))
			failed=$((failed + 1))
			fail "uml: $prog: ${line#not ok * }" "see the # lines before it in the log" "$LOG"
			;;
		esac
	done < "$LOG"
}

check_l1() {
	local n bad

	if grep -q '^RIG-UML-END: exit=0' "$LOG"; then
		pass "UML powered off cleanly"
	else
		fail "UML powered off cleanly" "$(grep -m1 '^RIG-UML-END' "$LOG" || echo 'UML did not end')" "$LOG"
	fi

	bad=$(sed -n '/^RIG-UML-BEGIN/,/^RIG-UML-END/p' "$LOG" | grep -E "$BAD_LINES" | head -n 1 || true)
	if [ -z "$bad" ]; then
		pass "UML log has no WARNING/BUG/Oops/panic"
	else
		fail "UML log has no WARNING/BUG/Oops/panic" "$bad" "$LOG"
	fi

	n=$(grep -c '^vfio_uml: .* passed through' "$LOG" || true)
	want=$(grep -c '^RIG-DEVICE: ' "$LOG" || true)
	if [ "$want" -gt 0 ] && [ "$n" -eq "$want" ]; then
		pass "our driver passed all $want devices through"
	else
		fail "our driver passed all devices through" "$n of $want" "$LOG"
	fi

	n=$(grep -c '^RIG-REOPEN: .* ok' "$LOG" || true)
	if [ "$want" -gt 0 ] && [ "$n" -eq "$want" ] && ! grep -q '^RIG-REOPEN: .* fail' "$LOG"; then
		pass "L1: all $want devices reopen through VFIO after UML exits"
	else
		fail "L1: all devices reopen through VFIO after UML exits" \
			"$(grep -m1 '^RIG-REOPEN: .* fail' "$LOG" || echo "$n of $want")" "$LOG"
	fi

	bad=$(grep '^RIG-DMESG: ' "$LOG" | grep -iE 'fault|error|fail|warn' | head -n 1 || true)
	if [ -z "$bad" ]; then
		pass "L1: no DMAR fault or vfio error in the kernel log"
	else
		fail "L1: no DMAR fault or vfio error in the kernel log" "$bad" "$LOG"
	fi
}

"$T/guest/mkroot.sh" "$ROOT" "$TREE"
echo "# rig: booting L1 with the devices and running the tests in UML (a few minutes under TCG)"
rc=0
UML=$UML UML_ROOT=$ROOT UML_ARGS="uml.job=tests" \
	"$T/rig/run-l1.sh" uml "$LOG" 1500 > /dev/null 2> "$LOGS/rig-run.err" || rc=$?
if ! grep -q '^RIG-RESULT: ' "$LOG"; then
	fail "rig: L1 ran the job" "no RIG-RESULT line (run-l1.sh exit $rc; timeout?)" "$LOG"
	tail -n 5 "$LOGS/rig-run.err" | sed 's/^/#   /'
	exit 0
fi
grep '^RIG-TIME: ' "$LOG" | sed 's/^/# /'
fold_tap
want=$(find "$ROOT/tests" -name '*_test' | wc -l)
ran=$(grep -c '^UML-TEST-END ' "$LOG" || true)
if [ "$ran" -eq "$want" ]; then
	pass "uml: all $want test programs ran"
else
	fail "uml: all test programs ran" "$ran of $want" "$LOG"
fi
check_l1
