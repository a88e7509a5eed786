# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Judging the lifecycle cases of issue 15 (faults/l1/lifecycle.sh) from
# their FAULT-INFO lines; sourced by tests/41-faults.sh and
# tests/45-debug.sh after faults/lib.sh, with FLOG set.

LIFE_N1=0000:00:03.0
LIFE_N2=0000:00:04.0
LIFE_V1=0000:01:00.0

# L1 logs these while UML gives devices back and for the injected AER
# error; they are not vfio or DMAR trouble.
LIFE_L1_OK='vfio-pci [0-9a-f:.]+: (Relaying device request|Device is currently in use)|aer_inject|AER:|PCIe Bus Error|error status/mask|CmpltAbrt|device \[1af4:1041\]'

# The FAULT-INFO lines of case $1 from "phase $2 t=..." to the next phase.
phase_info() {
	case_info "$1" | awk -v p="$2" '$1 == "phase" { on = $2 == p; next } on'
}

# life_times NAME: a TAP comment with the seconds each phase of case NAME
# took, for keeping an eye on what the lifecycle costs the fault boot.
life_times() {
	local secs
	secs=$(grep -m1 "^FAULT-CASE-END: $1 " "$FLOG" | sed -n 's/.* secs=\([0-9]*\).*/\1/p' || true)
	case_info "$1" | awk -v total="${secs:-?}" -v name="$1" '
		$1 == "phase" { sub(/^t=/, "", $3); if (p != "") out = out " " p "=" sprintf("%.0f", $3 - t); p = $2; t = $3 }
		END { print "# lifecycle (" name "): case " total " s; phases (s):" out }'
}

# mconsole commands of case $1, phase $2: "RC<tab>SECS<tab>COMMAND<tab>REPLY".
mc_rows() {
	phase_info "$1" "$2" |
		sed -n 's/^mc [0-9]* rc=\([0-9]*\) secs=\([0-9.]*\): \(.*\) -> \(.*\)$/\1\t\2\t\3\t\4/p'
}

# UML commands of case $1, phase $2: "RC<tab>COMMAND".
cmd_rows() {
	phase_info "$1" "$2" | sed -n 's/^cmd [0-9]* rc=\([0-9]*\): \(.*\)$/\1\t\2/p'
}

# phase_ok NAME PHASE MCS CMDS REOPENS: the phase ran MCS mconsole and
# CMDS UML commands, all successful, and L1 reopened a device REOPENS
# times. Sets WHY otherwise.
phase_ok() {
	local mcs cmds n bad

	mcs=$(mc_rows "$1" "$2")
	cmds=$(cmd_rows "$1" "$2")
	n=$(grep -c . <<<"$mcs" || true)
	bad=$(awk -F'\t' '$1 != 0 { print $3 " -> " $4; exit }' <<<"$mcs")
	WHY=
	if [ "$n" -ne "$3" ]; then
		WHY="$n of $3 mconsole commands ran"
	elif [ -n "$bad" ]; then
		WHY="mconsole: $bad"
	fi
	n=$(grep -c . <<<"$cmds" || true)
	bad=$(awk -F'\t' '$1 != 0 { print $2 " (rc " $1 ")"; exit }' <<<"$cmds")
	if [ -z "$WHY" ] && [ "$n" -ne "$4" ]; then
		WHY="$n of $4 UML commands ran"
	elif [ -z "$WHY" ] && [ -n "$bad" ]; then
		WHY="UML command failed: $bad $(case_log "$1" | grep -m1 -E '^FAULT-(IO|NET)-FAIL' || true)"
	fi
	n=$(phase_info "$1" "$2" | grep -c 'RIG-REOPEN: .* ok' || true)
	if [ -z "$WHY" ] && [ "$n" -ne "$5" ]; then
		WHY="L1 reopened $n of $5 times: $(phase_info "$1" "$2" | grep -m1 'RIG-REOPEN: .* fail' || true)"
	fi
	[ -z "$WHY" ]
}

# life_bad_one NAME COMMAND REGEX: the reply to COMMAND is an error
# matching REGEX. Sets WHY otherwise.
life_bad_one() {
	local row reply

	row=$(mc_rows "$1" bad | awk -F'\t' -v c="$2" '$3 == c { print; exit }')
	# uml_mconsole prints the reply after "OK " or "ERR ".
	reply=$(cut -f4 <<<"$row")
	reply=${reply#ERR }
	if [ -z "$row" ]; then
		WHY="'$2' did not run"
	elif [ "$(cut -f1 <<<"$row")" = 0 ]; then
		WHY="'$2' succeeded: $reply"
	elif ! grep -qE -- "$3" <<<"$reply"; then
		WHY="'$2' -> $reply"
	else
		return 0
	fi
	return 1
}

check_life_bad() {
	local name=$1 n1s=${LIFE_N1#0000:} c re
	local -a cases=(
		"config vfio_uml.device=garbage|^garbage: invalid device address"
		"config vfio_uml.device=|given without an address"
		"config vfio_uml.device=0000:00:20.0|slot 0x20 out of range"
		"config vfio_uml.device=0000:3f:00.0|^0000:3f:00.0: no such PCI device on the host"
		"config vfio_uml.device=0000:00:1f.2|^0000:00:1f.2: .*(host driver|vfio-pci|not viable)"
		"config vfio_uml.device=$LIFE_N1|^$LIFE_N1: already passed through"
		"config vfio_uml.device=$n1s|^$LIFE_N1: already passed through"
		"remove vfio_uml.device=$LIFE_N2|^$LIFE_N2: not passed through"
		"remove vfio_uml.device=zz|^zz: invalid device address"
		"remove vfio_uml.device|given without an address"
	)

	count_tried bad
	for c in "${cases[@]}"; do
		re=${c#*|}
		if ! life_bad_one "$name" "${c%%|*}" "$re"; then
			fail "lifecycle ($name): bad, duplicate and absent addresses over mconsole get error replies" "$WHY" "$FLOG"
			return
		fi
	done
	if ! mc_rows "$name" bad | awk -F'\t' '$3 == "config vfio_uml.device" && $1 == 0' |
	     grep_q -- "$LIFE_N1: active"; then
		fail "lifecycle ($name): mconsole lists the devices" "$(mc_rows "$name" bad | tail -n 1)" "$FLOG"
		return
	fi
	pass "lifecycle ($name): ${#cases[@]} bad, duplicate and absent addresses over mconsole get error replies; the list shows $LIFE_N1 active"
}

# check_lifecycle NAME CYCLES BUSY: judges lifecycle() of l1/lifecycle.sh.
check_lifecycle() {
	local name=$1 c=$2 b=$3 out line secs

	count_tried fault
	if ! case_check "$name" "$LIFE_L1_OK"; then
		fail "lifecycle ($name): UML runs through the add/remove cases and powers off" "$WHY" "$FLOG"
		return
	fi
	pass "lifecycle ($name): UML runs through the add/remove cases and powers off, no WARNING/BUG in UML or vfio error in L1"
	life_times "$name"
	check_life_bad "$name"

	if phase_ok "$name" nvme $((2 * c)) $((2 * c)) "$c"; then
		pass "lifecycle ($name): nvme $LIFE_N2 added and removed $c times over mconsole, I/O verified each time, L1 opens its group after each removal"
	else
		fail "lifecycle ($name): nvme add/remove cycles" "$WHY" "$FLOG"
	fi
	if phase_ok "$name" nic $((2 * c)) $((2 * c)) "$c"; then
		pass "lifecycle ($name): virtio-net $LIFE_V1 added and removed $c times over mconsole, pings answered each time, L1 opens its group after each removal"
	else
		fail "lifecycle ($name): NIC add/remove cycles" "$WHY" "$FLOG"
	fi

	count_tried fault
	secs=$(mc_rows "$name" busy | awk -F'\t' '$3 ~ /^remove / && $2 > m { m = $2 } END { print m + 0 }')
	if ! phase_ok "$name" busy $((4 * b)) $((8 * b)) $((2 * b)); then
		fail "lifecycle ($name): removal during I/O" "$WHY" "$FLOG"
	elif awk -v s="$secs" 'BEGIN { exit !(s > 60) }'; then
		fail "lifecycle ($name): removal during I/O" "a removal took $secs s (bound: 60 s)" "$FLOG"
	elif [ "$(case_log "$name" | grep -c '^FAULT-IOLOOP: 2 ok' || true)" -ne "$b" ]; then
		fail "lifecycle ($name): removal during I/O" "$(case_log "$name" | grep -c '^FAULT-IOLOOP: 2 ok' || true) of $b nvme I/O loops got to their second round before the removal" "$FLOG"
	else
		pass "lifecycle ($name): nvme and virtio-net removed $b times each during I/O, each removal within $secs s (bound 60 s), the I/O ends cleanly"
	fi

	count_tried fault
	line=$(case_log "$name" | grep -m1 '^STALE-BAR: poke' || true)
	if ! phase_ok "$name" stale 2 5 1; then
		fail "lifecycle ($name): a guest driver touching a removed device's BAR survives" "$WHY" "$FLOG"
	elif [ "$line" != "STALE-BAR: poke vs=0xffffffff msix=0xffffffff copy=ffffffffffffffffffffffffffffffff after-write=0xffffffff" ]; then
		fail "lifecycle ($name): a guest driver touching a removed device's BAR survives" "${line:-no STALE-BAR: poke line}" "$FLOG"
	elif ! case_log "$name" | grep_q "^vfio_uml: $LIFE_N2: a guest driver kept 1 BAR mapping"; then
		fail "lifecycle ($name): a guest driver touching a removed device's BAR survives" "no line about the kept mapping" "$FLOG"
	else
		pass "lifecycle ($name): a guest driver touching a removed device's BAR reads all-ones, its writes are dropped, UML survives"
	fi

	check_life_aer "$name"

	count_tried fault
	out=$(phase_info "$name" last)
	line=$(grep '^none-left ' <<<"$out" || true)
	if ! phase_ok "$name" last 3 2 1; then
		fail "lifecycle ($name): the container and DMA mappings go with the last device" "$WHY" "$FLOG"
	elif ! awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		    END { exit !(v["fds"] <= v["want-fds"] && v["pinned"] <= v["want-pinned"]) }' <<<"$line"; then
		fail "lifecycle ($name): the container and DMA mappings go with the last device" "${line:-no none-left line}" "$FLOG"
	elif ! mc_rows "$name" last | tail -n 1 | grep_q "$LIFE_N1: active"; then
		fail "lifecycle ($name): the container and DMA mappings go with the last device" "list: $(mc_rows "$name" last | tail -n 1)" "$FLOG"
	else
		pass "lifecycle ($name): with the last device removed L1's VFIO fds and pinned pages are back to base while UML runs (${line#none-left }); adding it again works"
	fi
}

# AER: L1 injects an uncorrectable error into the virtio-net UML holds.
check_life_aer() {
	local name=$1 inject

	count_tried fault
	inject=$(phase_info "$name" aer | grep -m1 '^aer inject' || true)
	if [ -z "$inject" ]; then
		fail "lifecycle ($name): the host's uncorrectable error is reported" "the AER case did not run" "$FLOG"
	elif ! grep -q 'rc=0' <<<"$inject"; then
		skip "lifecycle ($name): the host's uncorrectable error is reported" "L1 could not inject one: $inject"
	elif ! phase_ok "$name" aer 2 3 0; then
		fail "lifecycle ($name): the host's uncorrectable error is reported" "$WHY" "$FLOG"
	elif [ "$(case_log "$name" | grep -c "^vfio_uml: $LIFE_V1: the host reports an uncorrectable error" || true)" -ne 1 ]; then
		fail "lifecycle ($name): the host's uncorrectable error is reported" \
			"$(case_log "$name" | grep -c "^vfio_uml: $LIFE_V1: the host reports" || true) lines; L1: $(case_dmesg "$name" | grep -m1 -E 'AER|aer' || true)" "$FLOG"
	else
		pass "lifecycle ($name): an uncorrectable error that L1's AER reports on $LIFE_V1 gives one line in UML; the NIC works on"
	fi
}

# check_lifekill: SIGKILL after devices were added at run time.
check_lifekill() {
	local info name="lifecycle: SIGKILL after a hot-add (nvme + virtio-net) leaks no VFIO fd or pinned page"

	count_tried fault
	info=$(case_info lifekill)
	if ! grep -qE '^mc [0-9]+ rc=0 .*config vfio_uml.device=0000:00:03.0 ' <<<"$info" ||
	   ! grep -qE "^mc [0-9]+ rc=0 .*config vfio_uml.device=$LIFE_V1 " <<<"$info"; then
		fail "$name" "the hot-adds failed: $(grep '^mc ' <<<"$info" | tr '\n' '|')" "$FLOG"
	elif ! grep -qE '^during fds=[1-9]' <<<"$info"; then
		fail "$name" "UML held no VFIO fd during I/O: $(grep '^during' <<<"$info" || echo 'no I/O')" "$FLOG"
	elif ! grep -qE '^settle=[0-9]+ left=0 fds=0 ' <<<"$info"; then
		fail "$name" "30 s after the SIGKILL: $(grep 'left=' <<<"$info" || echo 'no settle line')" "$FLOG"
	else
		pass "$name ($(grep 'left=' <<<"$info"))"
	fi
}

# check_setupreq: the host asks for a device back during set-up, which
# then fails (vfio_uml.fault=request_setup, debug UML).
check_setupreq() {
	local out info name="lifecycle: a host request during set-up, then a set-up failure, frees the device cleanly"

	count_tried fault
	out=$(case_log setupreq)
	info=$(case_info setupreq)
	if ! case_check setupreq; then
		fail "$name" "$WHY" "$FLOG"
	elif ! grep -q "^vfio_uml: $LIFE_N1: registering with virt-pci: injected failure (vfio_uml.fault=request_setup) after a host request" <<<"$out"; then
		fail "$name" "at boot: $(grep -m1 "^vfio_uml: $LIFE_N1" <<<"$out" || echo 'no vfio_uml line')" "$FLOG"
	elif ! grep -qE "^mc 1 rc=[1-9][0-9]* .* -> ERR $LIFE_N2: registering with virt-pci: injected failure .* after a host request" <<<"$info"; then
		fail "$name" "over mconsole: $(grep -m1 '^mc 1 ' <<<"$info")" "$FLOG"
	elif grep -q 'the host asks for the device back' <<<"$out"; then
		fail "$name" "a release ran for a device that set-up had failed: $(grep -m1 'asks for the device back' <<<"$out")" "$FLOG"
	elif [ "$(grep -cE '^(mc|cmd) [0-9]+ rc=0[ :]' <<<"$info")" -ne 5 ]; then
		fail "$name" "adding the devices afterwards: $(grep -E '^(mc|cmd) ' <<<"$info" | tr '\n' '|')" "$FLOG"
	else
		pass "$name, at boot and over mconsole; both devices are added and work afterwards"
	fi
}

# check_devfd: the early open of the devices given at boot fails in its
# host thread (vfio_uml.fault=device_fd, debug UML).
check_devfd() {
	local out info d name="lifecycle: a device open failing in its early host thread is reported and undone"

	count_tried fault
	out=$(case_log devfd)
	info=$(case_info devfd)
	if ! case_check devfd; then
		fail "$name" "$WHY" "$FLOG"
		return
	fi
	for d in "$LIFE_N1" "$LIFE_N2"; do
		if ! grep -qE "^vfio_uml: $d: getting device fd: .* \\(injected: vfio_uml.fault=device_fd\\)$" <<<"$out"; then
			fail "$name" "at boot: $(grep -m1 "^vfio_uml: $d" <<<"$out" || echo "no vfio_uml line for $d")" "$FLOG"
			return
		fi
	done
	if ! grep -q '^after boot fds=0$' <<<"$info"; then
		fail "$name" "UML kept VFIO fds of the failed devices: $(grep -m1 '^after boot' <<<"$info" || echo 'no fd count')" "$FLOG"
	elif [ "$(grep -cE '^(mc|cmd) [0-9]+ rc=0[ :]' <<<"$info")" -ne 4 ]; then
		fail "$name" "adding the devices afterwards: $(grep -E '^(mc|cmd) ' <<<"$info" | tr '\n' '|')" "$FLOG"
	else
		pass "$name: both devices at boot, with no VFIO fd left; both are added and work afterwards"
	fi
}

# check_slowrel: while UML releases a device the host asked back (held by
# vfio_uml.fault=slow_release), mconsole's remove and add get error replies.
check_slowrel() {
	local info name="lifecycle: remove and add over mconsole while the host's release is in progress get error replies"

	count_tried fault
	info=$(case_info slowrel)
	if ! case_check slowrel 'vfio-pci [0-9a-f:.]+: (Relaying device request|Device is currently in use)'; then
		fail "$name" "$WHY" "$FLOG"
	elif ! grep -qE "^mc 1 rc=[1-9][0-9]* .*: remove vfio_uml.device=$LIFE_N2 -> ERR $LIFE_N2: being released already \\(the host asked for it back\\)" <<<"$info"; then
		fail "$name" "remove: $(grep -m1 '^mc 1 ' <<<"$info")" "$FLOG"
	elif ! grep -qE "^mc 2 rc=[1-9][0-9]* .* -> ERR $LIFE_N2: already passed through and being released" <<<"$info"; then
		fail "$name" "add: $(grep -m1 '^mc 2 ' <<<"$info")" "$FLOG"
	elif ! grep -qE "^mc 3 rc=0 .*$LIFE_N2: being released \\(the host asked for it back\\)" <<<"$info"; then
		fail "$name" "list: $(grep -m1 '^mc 3 ' <<<"$info")" "$FLOG"
	elif ! grep -q '^l1-unbind=0 ' <<<"$info"; then
		fail "$name" "L1's unbind: $(grep -m1 '^l1-unbind' <<<"$info")" "$FLOG"
	elif ! grep -qE '^mc 4 rc=0 ' <<<"$info" || ! grep -qE '^cmd [0-9]+ rc=0: io ffault2' <<<"$info"; then
		fail "$name" "adding it again: $(grep -E '^(mc 4|cmd [0-9]+ rc=[0-9]*: io)' <<<"$info" | tr '\n' '|')" "$FLOG"
	else
		pass "$name; L1's unbind returns, and the device is added again and works"
	fi
}
