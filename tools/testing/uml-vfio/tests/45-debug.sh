#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault 6 of issue 4: the debug UML (../config.debug: KASAN, lockdep with
# PROVE_LOCKING, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS) runs the rig's
# functional tests (as tests/30-rig.sh: guest/*_test with every device),
# with vfio_uml.dma=strict (what a driver developer would debug with: each
# DMA mapping removed at its unmap), and its log must hold no report of
# any of them. The tests get a 300 s
# per-test timeout instead of 30 s. Builds build/uml-debug first
# (incremental; a few minutes from a warm ccache).
set -euo pipefail
. "$T/lib.sh"
. "$T/faults/lib.sh"
. "$T/faults/life.sh"

DOUT=$BUILD/uml-debug
DUML=$DOUT/linux
LOG=$LOGS/debug-rig.log
ROOT=$BUILD/uml-root-debug
NAME="fault 6: debug UML (KASAN, lockdep, DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS)"
# What the debug options print, and the generic ones.
REPORTS='BUG: KASAN|KASAN:|possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|bad unlock balance|suspicious RCU usage|BUG: sleeping function|BUG: scheduling while atomic|ODEBUG:|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked|list_add corruption|list_del corruption|'"$BAD_LINES"

count_tried fault
echo "# debug: building $DOUT (a few minutes from a warm ccache)"
if ! "$FAULTS/build-debug.sh" "$TREE" "$DOUT" > "$LOGS/debug-build.log" 2>&1; then
	fail "$NAME: build" "build-debug.sh failed" "$LOGS/debug-build.log"
	exit 0
fi
missing=
for opt in KASAN PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_OBJECTS FAULT_INJECTION UML_PCI_OVER_VFIO; do
	grep -qx "CONFIG_$opt=y" "$DOUT/.config" || missing="$missing $opt"
done
if [ -n "$missing" ]; then
	fail "$NAME: build" "not set in $DOUT/.config:$missing" "$LOGS/debug-build.log"
	exit 0
fi
pass "$NAME: built $DUML"

# Series patch 0001. After power-off UML used to run a timer tick that
# came in after halt_skas() on the host's stack, where lockdep's stack walk
# ran off the top: SIGABRT after "reboot: Power down", silent because the
# console was closed by then. It hit about one rig run in five. SIGALRM
# sent from the moment init runs until UML exits makes that window likely.

# halt_once LOG: one local boot of the debug UML under SIGALRM; returns its
# exit status (137 if it had to be killed after 120 s).
halt_once() {
	local log=$1 pid rc=0 deadline=$((SECONDS + 120))

	local_uml_args "$BUILD/debug-halt-root"
	# Its own session: an aborting UML signals its whole process group.
	TMPDIR=$UML_TMP setsid "$DUML" mem=128M "${LOCAL_UML_ARGS[@]}" \
		< /dev/null > "$log" 2>&1 &
	pid=$!
	# Not before init: until UML installs its handlers SIGALRM kills it.
	until grep -qs '^UML-INIT-OK' "$log" || [ $SECONDS -ge $deadline ]; do
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.05
	done
	while kill -ALRM "$pid" 2> /dev/null; do
		[ $SECONDS -lt $deadline ] || { kill -KILL "$pid"; break; }
	done
	wait "$pid" || rc=$?
	return $rc
}

check_halt() {
	local i rc log=$LOGS/debug-halt.log n=10 bad=

	count_tried fault
	busybox_root "$BUILD/debug-halt-root" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "UML-INIT-OK"
/bin/busybox sleep 1
/bin/busybox poweroff -f
INIT
	for i in $(seq 1 $n); do
		rc=0
		halt_once "$log.$i" || rc=$?
		if [ $rc -ne 0 ] || ! grep -q '^UML-INIT-OK' "$log.$i" ||
		   grep -qE "$BAD_LINES" "$log.$i"; then
			bad="power-off $i: exit $rc$([ $rc -eq 134 ] && echo ' (SIGABRT)'); $(grep -m1 -E "$BAD_LINES" "$log.$i" || tail -n 1 "$log.$i")"
			cp "$log.$i" "$log"
			break
		fi
	done
	if [ -z "$bad" ]; then
		pass "$NAME: $n power-offs under a SIGALRM storm exit 0"
	else
		fail "$NAME: $n power-offs under a SIGALRM storm exit 0" "$bad" "$log"
	fi
	rm -f "$log".*
}
check_halt

"$T/guest/mkroot.sh" "$ROOT" "$TREE" "$DOUT"
# The same tests with a 300 s per-test timeout instead of 30 s: the debug
# UML is several times slower (faults/debug-include/kselftest_harness.h).
for src in "$T"/guest/*_test.c; do
	gcc -static -O2 -Wall -Wno-format-truncation -I "$FAULTS/debug-include" \
		-I "$TREE/tools/testing/selftests" \
		-o "$ROOT/tests/$(basename "${src%.c}")" "$src"
done
echo "# debug: booting L1 and running the functional tests in the debug UML (several minutes under TCG)"
rc=0
# 16 MiB per block device instead of 64: KASAN's reports come from the
# paths, and under TCG each MiB costs the debug UML seconds.
UML=$DUML UML_ROOT=$ROOT UML_ARGS="uml.job=tests uml.data_mib=16 vfio_uml.dma=strict" \
	RIG_APPEND="rig.uml_timeout=2400 rig.pass=$RIG_SET_DEBUG" \
	"$T/rig/run-l1.sh" uml "$LOG.raw" 3000 > /dev/null 2> "$LOGS/debug-rig.err" || rc=$?
tr -d '\r' < "$LOG.raw" > "$LOG"
rm -f "$LOG.raw"
if ! grep -q '^RIG-RESULT: ' "$LOG"; then
	fail "$NAME: rig run" "no RIG-RESULT line (run-l1.sh exit $rc; timeout?)" "$LOG"
	tail -n 5 "$LOGS/debug-rig.err" | sed 's/^/#   /'
	exit 0
fi
grep '^RIG-TIME: \|^RIG-UML-END' "$LOG" | sed 's/^/# /'

uml=$(sed -n '/^RIG-UML-BEGIN/,/^RIG-UML-END/p' "$LOG")
want=$(find "$ROOT/tests" -name '*_test' | wc -l)
ran=$(grep -c '^UML-TEST-END ' <<<"$uml" || true)
failed=$(grep -c '^not ok ' <<<"$uml" || true)
skips=$(grep -c '^ok .* # SKIP' <<<"$uml" || true)
oks=$(($(grep -c '^ok ' <<<"$uml" || true) - skips))
if grep -q '^RIG-UML-END: exit=0' "$LOG" && [ "$ran" -eq "$want" ] && [ "$failed" -eq 0 ] && [ "$oks" -gt 0 ]; then
	pass "$NAME: the $want functional test programs pass ($oks passed, $skips skipped) and UML powers off"
	grep '^ok .* # SKIP' <<<"$uml" | sed 's/^/#   /' || true
else
	fail "$NAME: the functional test programs pass and UML powers off" \
		"$ran of $want programs ran, $failed failed; $(grep -m1 '^RIG-UML-END' "$LOG" || echo 'UML did not end')" "$LOG"
fi
if grep -q '^UML-PARAMS .* dma=strict$' <<<"$uml"; then
	pass "$NAME: the functional tests ran with vfio_uml.dma=strict"
else
	fail "$NAME: the functional tests ran with vfio_uml.dma=strict" \
		"$(grep -m1 '^UML-PARAMS' <<<"$uml" || echo 'no UML-PARAMS line')" "$LOG"
fi

if ! grep -q 'Lock dependency validator' <<<"$uml"; then
	fail "$NAME: no report" "lockdep's banner is missing: is this the debug UML?" "$LOG"
else
	report=$(grep -nE "$REPORTS" <<<"$uml" | head -n 3 || true)
	if [ -z "$report" ]; then
		pass "$NAME: no KASAN, lockdep, atomic-sleep, debug-objects or WARNING/BUG report"
	else
		fail "$NAME: no KASAN, lockdep, atomic-sleep, debug-objects or WARNING/BUG report" \
			"$(tr '\n' '|' <<<"$report")" "$LOG"
	fi
fi

n=$(grep -c '^vfio_uml: .* passed through' <<<"$uml" || true)
want=$(grep -c '^RIG-DEVICE: ' "$LOG" || true)
bad=$(grep '^RIG-DMESG: ' "$LOG" | grep -iE 'fault|error|fail|warn' | head -n 1 || true)
if [ "$want" -gt 0 ] && [ "$n" -eq "$want" ] && [ -z "$bad" ] &&
   grep -q '^RIG-RESULT: .*reopen=ok' "$LOG"; then
	pass "$NAME: all $want devices passed through, reopen in L1, no DMAR/vfio error"
else
	fail "$NAME: all devices passed through, reopen in L1, no DMAR/vfio error" \
		"$n of $want passed through; ${bad:-$(grep -m1 '^RIG-RESULT' "$LOG")}" "$LOG"
fi

# The driver's run-time paths under the debug UML: 3 nvme unbind/rebinds
# in UML (MSI-X torn down and set up again), devices added and removed
# over mconsole (a shorter faults/l1/lifecycle.sh in strict DMA mode, with
# faults injected by vfio_uml.fault=) and L1 taking back a device whose driver uses INTx
# (faults/l1/job.sh, fault.set=debug). The UML modules are built for the
# debug UML.
UML=$DUML faults_prepare
FLOG=$LOGS/debug-faults.log
echo "# debug: booting L1 with two nvme and a NIC; rebind, add/remove and L1 unbind with the debug UML"
rc=0
UML=$DUML faults_boot debug "$FAULTS/devices-faults.sh" 0000:00:03.0,0000:00:04.0,0000:01:00.0 \
	"$FLOG" 1800 || rc=$?
# ran_clean CASE: the case ran and its log has no report; sets OUT to
# its log, WHY otherwise.
ran_clean() {
	local report

	OUT=$(case_log "$1")
	report=$(grep -nE "$REPORTS" <<<"$OUT" | head -n 3 || true)
	if [ -z "$OUT" ]; then
		WHY="case did not run (run-l1.sh exit $rc)"
	elif [ -n "$report" ]; then
		WHY=$(tr '\n' '|' <<<"$report")
	else
		return 0
	fi
	return 1
}

for c in life setupreq devfd slowrel; do
	if ran_clean "$c"; then
		pass "$NAME: $c with no report"
	else
		fail "$NAME: $c with no report" "$WHY" "$FLOG"
	fi
done
check_lifecycle life 1 1
if case_log life | grep_q '^vfio_uml: DMA: strict'; then
	pass "$NAME: the add/remove case ran with vfio_uml.dma=strict"
else
	fail "$NAME: the add/remove case ran with vfio_uml.dma=strict" \
		"no 'vfio_uml: DMA: strict' line" "$FLOG"
fi
check_setupreq
check_devfd
check_slowrel
for c in rebind unbind; do
	name="$NAME: $c with no report"
	if [ "$c" = unbind ]; then
		name="$NAME: L1 takes back a device on INTx, with no report"
	fi
	if ! ran_clean "$c"; then
		fail "$name" "$WHY" "$FLOG"
	elif ! case_check "$c" 'vfio-pci [0-9a-f:.]+: Relaying device request'; then
		fail "$name" "$WHY" "$FLOG"
	elif [ "$c" = rebind ] && ! grep -q '^FAULT-REBIND-DONE: 3 of 3' <<<"$OUT"; then
		fail "$name" "$(grep -E '^FAULT-REBIND' <<<"$OUT" | tail -n 1)" "$FLOG"
	elif [ "$c" = unbind ] && ! grep -q "^FAULT-INFO: unbind: l1-unbind=returned rc=0" "$FLOG"; then
		fail "$name" "$(case_info unbind | head -n 1)" "$FLOG"
	elif [ "$c" = unbind ] && ! grep -q '^FAULT-PCI: .* driver=nvme irq=legacy' <<<"$OUT"; then
		fail "$name" "no nvme on INTx: $(grep -m1 '^FAULT-PCI: ' <<<"$OUT" || echo 'no FAULT-PCI line')" "$FLOG"
	else
		pass "$name"
	fi
done
