#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Faults, in the rig (issue 4, faults 1-5; issue 16, 6-8): one L1 boot
# with two nvme and a virtio-net runs (faults/l1/job.sh, fault.set=faults)
# an nvme unbind/rebind loop in UML, a DMA outside UML's memory
# (faults/dmafault), a DMA after unmap in strict and default mode, a
# 28-bit DMA mask in each DMA mode, mem=4200M and mem=8G, 10 SIGKILLs
# during I/O, 20 boot/power-off cycles with L1's VFIO fds and pinned pages
# measured, the device lifecycle over mconsole (issue 15,
# faults/l1/lifecycle.sh, judged by faults/life.sh) and L1 taking a device
# back while UML holds it.
set -euo pipefail
. "$T/lib.sh"
. "$T/faults/lib.sh"
. "$T/faults/life.sh"

FLOG=$LOGS/faults.log
N1=0000:00:03.0
N2=0000:00:04.0

# 3: unbind/rebind the nvme driver in UML 10 times, I/O after each.
check_rebind() {
	local n bad

	count_tried fault
	if ! case_check rebind; then
		fail "fault 3: nvme unbind/rebind in UML 10 times" "$WHY" "$FLOG"
		return
	fi
	n=$(case_log rebind | grep -c '^FAULT-REBIND: [0-9]* ok' || true)
	bad=$(case_log rebind | grep -m1 '^FAULT-REBIND-FAIL' || true)
	if [ "$n" -ne 10 ] || [ -n "$bad" ]; then
		fail "fault 3: nvme unbind/rebind in UML 10 times" "$n of 10 ok; ${bad:-}" "$FLOG"
		return
	fi
	# MSI-X vectors were released (no nvme line in /proc/interrupts while
	# unbound) and re-acquired (the rebound driver's fresh IRQs counted
	# interrupts during its probe and I/O).
	bad=$(case_log rebind | sed -n 's/^FAULT-REBIND: \([0-9]*\) ok irqs=[0-9]*->\([0-9]*\) unbound-irq-lines=\([0-9]*\)$/\1 \2 \3/p' |
		awk '$3 != 0 && !why { why = "rebind " $1 ": " $3 " nvme IRQs left while unbound" }
		     $2 == 0 && !why { why = "rebind " $1 ": no nvme interrupt after rebinding" }
		     { n++ }
		     END { if (!why && n != 10) why = n " of 10 rebind lines parsed"; if (why) print why }')
	if [ -n "$bad" ]; then
		fail "fault 3: nvme unbind/rebind in UML 10 times" "$bad" "$FLOG"
		return
	fi
	pass "fault 3: nvme unbind/rebind in UML 10 times, I/O and MSI-X interrupts after each"
}

# 5: an Identify with PRP1 outside UML memory must fault in L1's IOMMU.
check_dma() {
	local addr faults other name="fault 5: DMA outside UML memory is stopped by the IOMMU"

	count_tried fault
	if ! case_check dma 'DMAR'; then
		fail "$name" "$WHY" "$FLOG"
		return
	fi
	addr=$(case_log dma | sed -n 's/^DMA-FAULT: .*sending PRP 0x\([0-9a-f]*\)$/\1/p' | head -n 1 || true)
	if [ -z "$addr" ]; then
		fail "$name" "dma_fault.ko did not send the command: $(case_log dma | grep -E 'DMA-FAULT' | tr '\n' '|')" "$FLOG"
		return
	fi
	faults=$(case_dmesg dma | grep -E 'DMAR: \[DMA (Write|Read)' || true)
	if ! grep -qiE "fault addr 0x0*$addr " <<<"$faults"; then
		fail "$name" "no DMAR fault for 0x$addr in L1's log: $(case_dmesg dma | grep DMAR | head -n 3 | tr '\n' '|')" "$FLOG"
		return
	fi
	other=$(grep -viE "fault addr 0x0*$addr " <<<"$faults" | head -n 1 || true)
	if [ -n "$other" ]; then
		fail "$name" "other DMAR fault: $other" "$FLOG"
		return
	fi
	pass "$name: L1 logged $(grep -ciE "fault addr 0x0*$addr " <<<"$faults") fault(s) at 0x$addr"

	if case_log dma | grep_q '^DMA-FAULT: canary page .*: 0 bytes changed' &&
	   case_log dma | grep_q '^DMA-FAULT: identify into UML memory ok' &&
	   case_log dma | grep_q '^FAULT-DMA-INSMOD: rc=0' &&
	   case_log dma | grep_q '^FAULT-DMA-DATA: intact' &&
	   case_log dma | grep_q '^FAULT-IO: 2 ok 0 failed'; then
		pass "fault 5: after the faulting DMA: canary intact, device works, disk data intact"
	else
		fail "fault 5: after the faulting DMA: canary intact, device works, disk data intact" \
			"$(case_log dma | grep -E '^(DMA-FAULT|FAULT-DMA|FAULT-IO)' | tr '\n' '|')" "$FLOG"
	fi
}

# dma_after NAME: the checks after dma_fault.ko's test in case NAME: the
# good Identify, the module's exit, the disk data and I/O on NDEV nvme.
dma_after() {
	local out

	out=$(case_log "$1")
	grep -q '^DMA-FAULT: identify into UML memory ok' <<<"$out" &&
		grep -q '^FAULT-DMA-INSMOD: rc=0' <<<"$out" &&
		grep -q '^FAULT-DMA-DATA: intact' <<<"$out" &&
		grep -q "^FAULT-IO: $2 ok 0 failed" <<<"$out"
}

dma_lines() {
	case_log "$1" | grep -E '^(DMA-FAULT|FAULT-DMA|FAULT-IO)' | tr '\n' '|'
}

# 6: a DMA into a buffer after its dma_unmap_page().
check_unmap() {
	local addr faults n name="fault 6: strict mode: a DMA after unmap is stopped by the IOMMU"

	count_tried fault
	if ! case_check unmap-strict 'DMAR'; then
		fail "$name" "$WHY" "$FLOG"
	else
		addr=$(case_log unmap-strict | sed -n 's/^DMA-FAULT: .*is unmapped: sending PRP 0x\([0-9a-f]*\)$/\1/p' | head -n 1)
		faults=$(case_dmesg unmap-strict | grep -E 'DMAR: \[DMA (Write|Read)' || true)
		n=$(case_log unmap-strict | sed -n 's/^DMA-FAULT: unmapped buffer: \([0-9]*\) bytes changed$/\1/p')
		if [ -z "$addr" ]; then
			fail "$name" "dma_fault.ko did not send the command: $(dma_lines unmap-strict)" "$FLOG"
		elif ! grep -qiE "fault addr 0x0*$addr " <<<"$faults"; then
			fail "$name" "no DMAR fault for 0x$addr in L1's log: $(case_dmesg unmap-strict | grep DMAR | head -n 3 | tr '\n' '|')" "$FLOG"
		elif grep -viE "fault addr 0x0*$addr " <<<"$faults" | grep -q .; then
			fail "$name" "other DMAR fault: $(grep -viE "fault addr 0x0*$addr " <<<"$faults" | head -n 1)" "$FLOG"
		elif [ "$n" != 0 ]; then
			fail "$name" "the unmapped buffer changed: ${n:-no count} bytes" "$FLOG"
		elif ! dma_after unmap-strict 2; then
			fail "$name" "afterwards: $(dma_lines unmap-strict)" "$FLOG"
		else
			pass "$name: L1 logged the fault at 0x$addr, the buffer is unchanged, the device works on"
		fi
	fi

	name="fault 6: default mode: the same DMA lands (the buffer's chunk stays mapped)"
	count_tried fault
	n=$(case_log unmap-ondemand | sed -n 's/^DMA-FAULT: unmapped buffer: \([0-9]*\) bytes changed$/\1/p')
	if ! case_check unmap-ondemand; then
		fail "$name" "$WHY" "$FLOG"
	elif [ -z "$n" ] || [ "$n" -eq 0 ]; then
		fail "$name" "the buffer did not change (${n:-no count}): the check would not see a landing DMA" "$FLOG"
	elif ! dma_after unmap-ondemand 2; then
		fail "$name" "afterwards: $(dma_lines unmap-ondemand)" "$FLOG"
	else
		pass "$name: $n bytes changed, no DMAR fault: what strict mode is for"
	fi
}

# 7: a 28-bit DMA mask with 1 GiB of UML memory, in each mode.
check_mask() {
	local m name block

	for m in ondemand eager strict; do
		name="DMA mask: nvme with a 28-bit mask, UML memory above it, vfio_uml.dma=$m"
		count_tried fault
		block=$(case_log "mask-$m" | grep '^DMA-FAULT: block above the mask at phys' || true)
		if ! case_check "mask-$m"; then
			fail "$name" "$WHY" "$FLOG"
		elif ! grep -q ': ok$' <<<"$block"; then
			fail "$name" "$(dma_lines "mask-$m")" "$FLOG"
		elif ! dma_after "mask-$m" 1; then
			fail "$name" "afterwards: $(dma_lines "mask-$m")" "$FLOG"
		else
			pass "$name: ${block#DMA-FAULT: block above the mask at }"
		fi
	done
}

# same_iova_offset BLOCKS: do all "phys P dma D" lines have the same D - P?
# On demand, chunks sit in a window at their offset in UML memory, so
# chunks mapped at different times are neighbours in IOVA space too.
same_iova_offset() {
	local line phys dma off first=""

	while read -r line; do
		phys=$(sed -n 's/.* phys \(0x[0-9a-f]*\) dma .*/\1/p' <<<"$line")
		dma=$(sed -n 's/.* dma \(0x[0-9a-f]*\):.*/\1/p' <<<"$line")
		[ -n "$phys" ] && [ -n "$dma" ] || return 1
		off=$((dma - phys))
		[ -z "$first" ] && first=$off
		[ "$off" = "$first" ] || return 1
	done <<<"$1"
}

# 8: mem=4200M and 8G: data, DMA all over memory, L1's memory use.
check_bigmem() {
	local name=$1 mode=$2 what info blocks bad pinned mem vmlck shmem

	what="mem=$3, vfio_uml.dma=$mode: nvme data and DMA all over UML memory"
	count_tried fault
	blocks=$(case_log "$name" | grep '^DMA-FAULT: block ' || true)
	bad=$(grep -v ': ok$' <<<"$blocks" || true)
	if ! case_check "$name"; then
		fail "$what" "$WHY" "$FLOG"
		return
	elif [ "$(grep -c . <<<"$blocks")" -ne 4 ] || [ -n "$bad" ]; then
		fail "$what" "expected 4 good blocks (lowest, highest, above 4 GiB, in the hole): $(dma_lines "$name")" "$FLOG"
		return
	elif ! dma_after "$name" 2; then
		fail "$what" "afterwards: $(dma_lines "$name")" "$FLOG"
		return
	fi
	# Eager: IOVA == physical address but under the MSI window.
	if [ "$mode" = eager ] &&
	   { grep -v 'in the hole' <<<"$blocks" | grep -qvE 'phys (0x[0-9a-f]+) dma \1:' ||
	     grep 'in the hole' <<<"$blocks" | grep -qE 'phys (0x[0-9a-f]+) dma \1:'; }; then
		fail "$what" "eager mode: not IOVA == physical address but for the MSI window: $(tr '\n' '|' <<<"$blocks")" "$FLOG"
		return
	fi
	if [ "$mode" = ondemand ] && ! same_iova_offset "$blocks"; then
		fail "$what" "on demand: chunks not at one offset from their address (the IOVA window): $(tr '\n' '|' <<<"$blocks")" "$FLOG"
		return
	fi
	pass "$what"

	info=$(case_info "$name" | grep '^during ' || true)
	echo "# $name: L1 $info (pinned in pages, the rest in kB)"
	pinned=$(sed -n 's/.* pinned=\([0-9]*\) .*/\1/p' <<<"$info")
	vmlck=$(sed -n 's/.* vmlck=\([0-9]*\) .*/\1/p' <<<"$info")
	shmem=$(sed -n 's/.* shmem=\([0-9]*\) .*/\1/p' <<<"$info")
	mem=$4
	what="mem=$3, vfio_uml.dma=$mode: what L1 pins"
	if [ -z "$pinned" ] || [ -z "$vmlck" ] || [ -z "$shmem" ]; then
		fail "$what" "no measurement: ${info:-none}" "$FLOG"
	elif [ "$mode" = eager ]; then
		if [ $((pinned * 4)) -ge $((mem * 9 / 10)) ]; then
			pass "$what: all of it, $((pinned / 256)) MiB"
		else
			fail "$what" "eager mode pinned only $((pinned / 256)) MiB of $((mem / 1024)) MiB" "$FLOG"
		fi
	elif [ $((pinned * 4)) -lt $((mem / 16)) ] && [ "$shmem" -lt $((mem / 4)) ]; then
		pass "$what: far less than mem=: $((pinned / 256)) MiB pinned, $((shmem / 1024)) MiB of UML memory in L1's RAM"
	else
		fail "$what" "on demand, yet $((pinned / 256)) MiB pinned and $((shmem / 1024)) MiB in L1's RAM for $((mem / 1024)) MiB" "$FLOG"
	fi
}

# 1: SIGKILL during nvme I/O, 10 times; each next UML opens the device and
# checks I/O before its I/O loop is killed.
# A SIGKILLed UML's ptraced userspace processes are detached before the
# PDEATHSIG that ends them arrives; one that runs on into its stub's int3
# dies of SIGTRAP and the host logs it. That is UML's death, not VFIO's.
L1_KILLED='traps: uml-userspace\[[0-9]+\] trap int3 '

check_kill() {
	local i out info name bad

	count_tried fault
	for i in $(seq 1 10); do
		name="fault 1: SIGKILL #$i of UML during nvme I/O"
		out=$(case_log "kill$i")
		info=$(case_info "kill$i")
		WHY=
		if [ -z "$out" ]; then
			WHY="case did not run"
		elif ! grep -q '^FAULT-IO: 1 ok 0 failed' <<<"$out"; then
			WHY="the device did not work in this UML: $(grep -E '^(vfio_uml|FAULT-IO)' <<<"$out" | tr '\n' '|')"
		elif ! grep -q 'killed during I/O' <<<"$info"; then
			WHY="$(head -n 1 <<<"$info")"
		elif ! grep -qE 'settle=[0-9]+ left=0 fds=0 ' <<<"$info"; then
			WHY="30 s after the SIGKILL, UML processes, VFIO fds or pinned pages remain: $(grep left= <<<"$info")"
		elif grep -qE "$BAD_LINES" <<<"$out"; then
			WHY="UML log: $(grep -m1 -E "$BAD_LINES" <<<"$out")"
		elif bad=$(l1_error "kill$i" "$L1_KILLED") && [ -n "$bad" ]; then
			WHY="L1 log: $bad"
		fi
		if [ -n "$WHY" ]; then
			fail "$name" "$WHY" "$FLOG"
		else
			pass "$name: next UML reopens it and does I/O"
		fi
	done
	if case_check kill-after && case_log kill-after | grep_q '^FAULT-IO: 1 ok 0 failed'; then
		pass "fault 1: after 10 SIGKILLs UML opens the nvme, does I/O, powers off"
	else
		fail "fault 1: after 10 SIGKILLs UML opens the nvme, does I/O, powers off" "${WHY:-no I/O}" "$FLOG"
	fi
}

# settled AFTER FDS PIN: a cycle's "after" line shows UML gone and L1's
# VFIO fds and pinned pages at most at their base (the base may include a
# few pins of other L1 activity that are gone later). Sets AFTER_FDS and
# AFTER_PIN to the values it shows.
settled() {
	grep -qE '^after settle=[0-9]+ .* left=0$' <<<"$1" || return 1
	AFTER_FDS=$(sed -n 's/.* fds=\([0-9]*\) .*/\1/p' <<<"$1")
	AFTER_PIN=$(sed -n 's/.* pinned=\([0-9-]*\) .*/\1/p' <<<"$1")
	[ -n "$AFTER_FDS" ] && [ -n "$AFTER_PIN" ] &&
		[ "$AFTER_FDS" -le "$2" ] && [ "$AFTER_PIN" -le "$3" ]
}

# 2: 20 cycles; VFIO fds and pinned pages back to their base after each.
check_cycles() {
	local base_fds base_pin i info during after bad='' ok=0

	count_tried fault
	base_fds=$(case_info cycles | sed -n 's/^base fds=\([0-9]*\) .*/\1/p')
	base_pin=$(case_info cycles | sed -n 's/.* pinned=\([0-9-]*\) .*/\1/p')
	echo "# cycles: base fds=$base_fds pinned=$base_pin"
	for i in $(seq 1 20); do
		info=$(case_info "cycle$i")
		during=$(grep '^during' <<<"$info" || true)
		after=$(grep '^after' <<<"$info" || true)
		[ "$i" -eq 1 ] || [ "$i" -eq 20 ] && echo "# cycle $i: $during; $after"
		if ! case_check "cycle$i"; then
			bad="cycle $i: $WHY"
		elif ! case_log "cycle$i" | grep_q '^FAULT-IO: 2 ok 0 failed'; then
			bad="cycle $i: I/O on both nvme failed"
		elif ! grep -qE 'fds=[1-9]' <<<"$during" || grep_q 'vmlck=0$' <<<"$during"; then
			bad="cycle $i: while UML ran, L1 saw no VFIO fds or no locked memory: $during"
		elif ! settled "$after" "$base_fds" "$base_pin"; then
			bad="cycle $i: not back to base within 30 s (fds=$base_fds pinned=$base_pin): $after"
		else
			# Lower is the new base: later cycles may not leak into it.
			base_fds=$AFTER_FDS
			base_pin=$AFTER_PIN
			ok=$((ok + 1))
			continue
		fi
		break
	done
	if [ -z "$bad" ] && [ $ok -eq 20 ]; then
		pass "fault 2: 20 boot/power-off cycles with two nvme: VFIO fds and pinned pages back to base after each"
	else
		fail "fault 2: 20 boot/power-off cycles with two nvme: VFIO fds and pinned pages back to base after each" \
			"${bad:-$ok of 20}" "$FLOG"
	fi
}

# 4: L1 unbinds N2 from vfio-pci while UML holds it. Expected: VFIO's
# request interrupt reaches UML, which releases N2 (one vfio_uml line),
# keeps running with N1 and powers off cleanly; L1's unbind returns.
check_unbind() {
	local info secs lines

	count_tried fault
	info=$(case_info unbind)
	sed 's/^/# unbind: /' <<<"$info"
	secs=$(sed -n 's/^l1-unbind=returned rc=0 secs=\([0-9]*\) .*/\1/p' <<<"$info")
	if [ -n "$secs" ] && [ "$secs" -le 60 ]; then
		pass "fault 4: L1's unbind of a device UML holds returns within 60 s (${secs} s)"
	else
		fail "fault 4: L1's unbind of a device UML holds returns within 60 s" \
			"$(head -n 1 <<<"$info"); L1: $(case_dmesg unbind | grep -iE 'vfio|blocked|request' | head -n 2 | tr '\n' '|')" "$FLOG"
	fi
	if ! grep -q 'uml-alive=yes' <<<"$info"; then
		fail "fault 4: UML survives L1 taking the device back" "UML was gone when the unbind returned or timed out" "$FLOG"
	elif ! case_check unbind 'vfio-pci [0-9a-f:.]+: (Relaying device request|Device is currently in use)'; then
		fail "fault 4: UML survives L1 taking the device back" "$WHY" "$FLOG"
	elif ! case_log unbind | grep '^FAULT-IO: ' | tail -n 1 | grep_q '^FAULT-IO: 1 ok 0 failed'; then
		fail "fault 4: UML survives L1 taking the device back" "I/O on the device UML kept failed: $(case_log unbind | grep -E '^FAULT-IO' | tail -n 2 | tr '\n' '|')" "$FLOG"
	else
		pass "fault 4: UML survives L1 taking the device back, keeps the other nvme working, powers off"
	fi
	lines=$(case_log unbind | grep "^vfio_uml: $N2: " | grep -v 'passed through' || true)
	if [ "$(grep -c . <<<"$lines")" -eq 1 ]; then
		pass "fault 4: UML logs one line when L1 takes $N2 back: ${lines#vfio_uml: }"
	else
		fail "fault 4: UML logs one line when L1 takes the device back" \
			"$(grep -c . <<<"$lines") lines: $(tr '\n' '|' <<<"$lines")" "$FLOG"
	fi
	if grep -q "^RIG-REOPEN: $N1 ok" <<<"$info"; then
		pass "fault 4: afterwards $N1 opens again through VFIO in L1"
	else
		fail "fault 4: afterwards $N1 opens again through VFIO in L1" "$(grep RIG-REOPEN <<<"$info" || echo 'no reopen line')" "$FLOG"
	fi
}

faults_prepare
echo "# faults: booting L1 with two nvme and a NIC; rebind, rogue DMA, DMA after unmap, DMA masks, mem=4200M and 8G, 10 kills, 20 cycles, add/remove over mconsole, L1 unbind (~13 min under TCG, twice that on a busy host)"
rc=0
# 6 GiB for L1: eager mode pins all of a 4200M UML there.
RIG_MEM=6G faults_boot faults "$FAULTS/devices-faults.sh" "$N1,$N2,$LIFE_V1" "$FLOG" 2100 || rc=$?
faults_ran fault "$FLOG" "$rc" || true
check_rebind
check_dma
check_unmap
check_mask
check_bigmem big-4200m ondemand 4200M $((4200 * 1024))
check_bigmem big-8g ondemand 8G $((8 * 1024 * 1024))
check_bigmem big-eager-4200m eager 4200M $((4200 * 1024))
check_kill
check_cycles
check_lifecycle life 10 5
check_lifekill
check_unbind
