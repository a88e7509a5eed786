# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2086
# /rig/lifecycle.sh: the device lifecycle cases (issue 15), sourced by
# job.sh, whose f_* functions it uses. UML runs /faults/init with
# fault.job=serve: L1 adds and removes devices with uml_mconsole and has
# UML check them with commands (f_cmd, see serve_one in uml-init.sh).
#
# Lines for the caller (tests/41-faults.sh, tests/45-debug.sh), besides
# the case's UML console:
#   FAULT-INFO: NAME: mc N rc=RC secs=S: COMMAND -> REPLY
#   FAULT-INFO: NAME: cmd N rc=RC: COMMAND
#   FAULT-INFO: NAME: KEY=VALUE ...      (measurements, see each case)
#   FAULT-INFO: NAME: phase PHASE t=UPTIME  (where each phase starts)
#
# The add/remove cycles check 64 KiB of I/O each (the namespace appears
# and moves data: that is what a cycle tests); the boot device's checks
# move 1 MiB. Each command is a round trip through hostfs, polled every
# 0.1 s by UML and every 0.2 s here.

F_HUNG=
V1=0000:01:00.0
V1_MAC=52:54:00:12:34:51
V1_ADDR=10.0.2.2
PEER=10.0.2.1

# Seconds since boot, with hundredths.
f_now() { cut -d' ' -f1 /proc/uptime; }

# f_secs T0: seconds since T0 (from f_now), with one decimal.
f_secs() { awk -v t0="$1" -v t1="$(f_now)" 'BEGIN { printf "%.1f", t1 - t0 }'; }

# f_serve NAME MEM ARGS...: UML with the serve job, umid NAME; waits until
# it serves. Returns 1 if it did not come up.
f_serve() {
	local name=$1
	shift
	rm -f /uml-root/go/cmd.*
	mkdir -p /uml-root/go
	F_CMDN=0
	F_MCN=0
	F_HUNG=
	f_start "$name" "$@" fault.job=serve umid="$name"
	f_wait_log "$name" '^FAULT-SERVING' 300 && return 0
	f_info "$name: UML did not come up"
	return 1
}

# f_hung NAME WHAT: case NAME's UML did not finish WHAT: its tasks' stacks
# go to its console (sysrq runs in UML's interrupt context, so it answers
# while a config or remove is stuck), then it is killed, and the case's
# remaining f_mc and f_cmd calls return 125 at once instead of each
# waiting out its timeout.
f_hung() {
	local sock="/dev/shm/uml-$1/$1/mconsole" k p t
	F_HUNG=$1
	f_info "$1: HUNG: $2; UML's tasks follow in its console, then it is killed"
	# Where L1 sees UML's host threads: in L1's kernel, or not.
	for p in $(f_uml_pids); do
		for t in "/proc/$p/task/"*; do
			f_info "$1: L1 task ${t##*/} $(cat "$t/comm" 2>/dev/null) state=$(awk '{ sub(/.*\) /, ""); print $1 }' "$t/stat" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null) stack: $(tr '\n' '|' < "$t/stack" 2>/dev/null)"
		done
	done
	for k in 8 w t; do
		timeout -s KILL 10 uml_mconsole "$sock" sysrq $k > /dev/null 2>&1
	done
	sleep 2
	kill -9 "$F_PID" 2>/dev/null
}

# f_mc NAME ARGS...: uml_mconsole ARGS for case NAME's UML; logs the reply
# and returns uml_mconsole's exit status (the reply's error code). A
# request UML does not answer within 120 s ends the case (f_hung).
f_mc() {
	local name=$1 rc=0 t0 reply
	shift
	F_MCN=$((F_MCN + 1))
	[ "$F_HUNG" = "$name" ] && return 125
	t0=$(f_now)
	timeout -s KILL 120 uml_mconsole "/dev/shm/uml-$name/$name/mconsole" "$@" > /tmp/mc.out 2>&1 || rc=$?
	# It looks for the socket under ~/.uml and /tmp/uml before the path.
	reply=$(grep -v "^Warning: couldn't stat file" /tmp/mc.out | tr '\n' ' ')
	f_info "$name: mc $F_MCN rc=$rc secs=$(f_secs "$t0"): $* -> $reply"
	[ $rc -eq 137 ] && f_hung "$name" "mconsole $* (no reply within 120 s)"
	return $rc
}

# f_cmd NAME CMD...: has case NAME's UML run CMD; returns its status (124
# if UML did not answer within 120 s, which ends the case: f_hung).
f_cmd() {
	local name=$1 rc=124 i=0
	shift
	F_CMDN=$((F_CMDN + 1))
	[ "$F_HUNG" = "$name" ] && return 125
	echo "$*" > /uml-root/go/cmd.tmp
	mv /uml-root/go/cmd.tmp "/uml-root/go/cmd.$F_CMDN"
	while [ $i -lt 600 ] && kill -0 "$F_PID" 2>/dev/null; do
		if grep -q "^FAULT-CMD-DONE: $F_CMDN rc=" "/tmp/f-$name.log"; then
			rc=$(sed -n "s/^FAULT-CMD-DONE: $F_CMDN rc=\\([0-9]*\\).*/\\1/p" "/tmp/f-$name.log")
			break
		fi
		sleep 0.2
		i=$((i + 1))
	done
	f_info "$name: cmd $F_CMDN rc=$rc: $*"
	[ "$rc" = 124 ] && kill -0 "$F_PID" 2>/dev/null &&
		f_hung "$name" "command $* (no answer within 120 s)"
	return "$rc"
}

# f_wait_count NAME REGEX N SECS: wait up to SECS s until case NAME's
# console has N lines matching REGEX.
f_wait_count() {
	local i=0 n
	while [ $i -lt $(($4 * 5)) ]; do
		n=$(grep -cE "$2" "/tmp/f-$1.log" 2>/dev/null)
		[ "${n:-0}" -ge "$3" ] && return 0
		kill -0 "$F_PID" 2>/dev/null || return 1
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# f_quit NAME: UML powers off; then the case ends.
f_quit() {
	echo quit > /uml-root/go/cmd.tmp
	mv /uml-root/go/cmd.tmp "/uml-root/go/cmd.$((F_CMDN + 1))"
	f_wait_exit 120
	f_end "$1"
}

# f_reopen NAME TAG BDF: L1 opens BDF's group and device itself.
f_reopen() {
	f_info "$1: $2 $(timeout -s KILL 60 vfio-reopen "$3" 2>&1 | tr '\n' ' ')"
}

# f_drop NAME TAG FDS PINNED: wait up to 30 s for L1's VFIO fds and pinned
# pages to be at most FDS and PINNED, with UML running; logs what it saw.
f_drop() {
	local i=0
	while [ $i -lt 60 ]; do
		[ "$(f_vfio_fds)" -le "$3" ] && [ "$(f_pinned)" -le "$4" ] && break
		sleep 0.5
		i=$((i + 1))
	done
	f_info "$1: $2 fds=$(f_vfio_fds) pinned=$(f_pinned) want-fds=$3 want-pinned=$4 secs=$((i / 2))"
}

# life_nvme NAME N: N add/remove cycles of N2 with I/O, L1 reopening it.
life_nvme() {
	local name=$1 i
	for i in $(seq 1 "$2"); do
		f_mc "$name" config vfio_uml.device=$N2
		f_cmd "$name" io ffault2 "$i" 64
		f_mc "$name" remove vfio_uml.device=$N2
		f_cmd "$name" gone ffault2
		f_reopen "$name" "nvme-cycle $i" $N2
	done
}

# life_nic NAME N: N add/remove cycles of V1 with pings, L1 reopening it.
life_nic() {
	local name=$1 i
	for i in $(seq 1 "$2"); do
		f_mc "$name" config vfio_uml.device=$V1
		f_cmd "$name" net $V1_MAC $V1_ADDR $PEER
		f_mc "$name" remove vfio_uml.device=$V1
		f_cmd "$name" netgone $V1_MAC
		f_reopen "$name" "nic-cycle $i" $V1
	done
}

# life_busy NAME N: N removals each of N2 and V1 while UML does I/O on them.
life_busy() {
	local name=$1 i
	for i in $(seq 1 "$2"); do
		f_mc "$name" config vfio_uml.device=$N2
		f_cmd "$name" io ffault2 "$i" 64
		f_cmd "$name" ioloop ffault2
		# The i-th loop's second round done: the third is in flight.
		f_wait_count "$name" '^FAULT-IOLOOP: 2 ok' "$i" 60
		f_info "$name: busy-nvme $i removing"
		f_mc "$name" remove vfio_uml.device=$N2
		f_cmd "$name" gone ffault2
		f_cmd "$name" loop_stop
		f_reopen "$name" "busy-nvme $i" $N2
	done
	for i in $(seq 1 "$2"); do
		f_mc "$name" config vfio_uml.device=$V1
		f_cmd "$name" net $V1_MAC $V1_ADDR $PEER
		f_cmd "$name" netloop $V1_MAC $PEER
		sleep 1
		f_info "$name: busy-nic $i removing"
		f_mc "$name" remove vfio_uml.device=$V1
		f_cmd "$name" netgone $V1_MAC
		f_cmd "$name" loop_stop
		f_reopen "$name" "busy-nic $i" $V1
	done
}

# life_stale NAME: a module keeps N2's BAR 0 mapped across its removal.
life_stale() {
	local name=$1
	f_mc "$name" config vfio_uml.device=$N2
	f_cmd "$name" io ffault2 1 64
	f_cmd "$name" stale ffault2
	f_mc "$name" remove vfio_uml.device=$N2
	f_cmd "$name" gone ffault2
	f_cmd "$name" poke
	f_cmd "$name" unstale
	f_reopen "$name" stale $N2
}

# life_bad NAME: bad, duplicate and absent addresses over mconsole.
life_bad() {
	local name=$1
	f_mc "$name" config vfio_uml.device=garbage
	f_mc "$name" config vfio_uml.device=
	f_mc "$name" config vfio_uml.device=0000:00:20.0
	f_mc "$name" config vfio_uml.device=0000:3f:00.0
	f_mc "$name" config vfio_uml.device=0000:00:1f.2
	f_mc "$name" config vfio_uml.device=$N1
	f_mc "$name" config vfio_uml.device=${N1#0000:}
	f_mc "$name" remove vfio_uml.device=$N2
	f_mc "$name" remove vfio_uml.device=zz
	f_mc "$name" remove vfio_uml.device
	f_mc "$name" config vfio_uml.device
}

# life_aer NAME: AER reports an uncorrectable (non-fatal) error on V1.
# aer_inject takes struct aer_error_inj { u8 bus, dev, fn; u32 uncor,
# cor, header_log[4], domain; }: bus 1, Completer Abort (0x8000).
life_aer() {
	local name=$1 rc=0
	f_mc "$name" config vfio_uml.device=$V1
	f_cmd "$name" net $V1_MAC $V1_ADDR $PEER
	if [ ! -e /dev/aer_inject ]; then
		insmod /lib/rig-modules/aer_inject.ko 2>/dev/null
	fi
	printf '\001\000\000\000\000\200\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' \
		> /dev/aer_inject 2> /tmp/aer.err || rc=$?
	f_info "$name: aer inject rc=$rc $(tr '\n' ' ' < /tmp/aer.err)"
	f_wait_log "$name" "^vfio_uml: $V1: the host reports an uncorrectable error" 30
	f_cmd "$name" net $V1_MAC $V1_ADDR $PEER
	f_mc "$name" remove vfio_uml.device=$V1
	f_cmd "$name" netgone $V1_MAC
}

# lifecycle NAME CYCLES BUSY [ARGS...]: the run-time add/remove case, with
# N1 given at boot: bad input, CYCLES add/remove cycles of N2 and V1, BUSY
# removals of each under I/O, a stale BAR mapping, AER, then N1 removed
# (the container goes, with UML's DMA mappings) and added again. ARGS are
# added to UML's command line.
lifecycle() {
	local name=$1 cycles=$2 busy=$3 fds0 pin0
	shift 3
	fds0=$(f_vfio_fds)
	pin0=$(f_pinned)
	f_info "$name: base fds=$fds0 pinned=$pin0"
	if ! f_serve "$name" 128M "$@" vfio_uml.device=$N1; then
		f_wait_exit 1
		f_end "$name"
		return
	fi
	f_info "$name: phase boot t=$(f_now)"
	f_cmd "$name" io ffault1 1
	f_mc "$name" config vfio_uml.device
	f_info "$name: phase bad t=$(f_now)"
	life_bad "$name"
	f_info "$name: phase nvme t=$(f_now)"
	life_nvme "$name" "$cycles"
	f_info "$name: phase nic t=$(f_now)"
	life_nic "$name" "$cycles"
	f_info "$name: phase busy t=$(f_now)"
	life_busy "$name" "$busy"
	f_info "$name: phase stale t=$(f_now)"
	life_stale "$name"
	f_info "$name: phase aer t=$(f_now)"
	life_aer "$name"
	f_info "$name: phase last t=$(f_now)"
	f_mc "$name" remove vfio_uml.device=$N1
	f_cmd "$name" gone ffault1
	f_drop "$name" "none-left" "$fds0" "$pin0"
	f_reopen "$name" last $N1
	f_mc "$name" config vfio_uml.device=$N1
	f_cmd "$name" io ffault1 2
	f_mc "$name" config vfio_uml.device
	f_info "$name: phase end t=$(f_now)"
	f_quit "$name"
}

# lifekill: devices added at run time, then UML is SIGKILLed during I/O;
# L1's VFIO fds and pinned pages must go back to their base.
lifekill() {
	local pin
	pin=$(f_pinned)
	if f_serve lifekill 128M; then
		f_mc lifekill config vfio_uml.device=$N1
		f_mc lifekill config vfio_uml.device=$V1
		f_cmd lifekill io ffault1 1
		f_cmd lifekill ioloop ffault1
		f_wait_log lifekill '^FAULT-IOLOOP: 2 ' 60
		f_info "lifekill: during fds=$(f_vfio_fds) pinned=$(f_pinned)"
	fi
	kill -9 "$F_PID"
	f_wait_exit 10
	f_reap lifekill "$pin" "base-pinned=$pin"
	f_end lifekill
}

# setupreq (debug UML): the host asks for a device back while it is set
# up, and set-up then fails (vfio_uml.fault=request_setup), at boot and
# over mconsole; afterwards the device is added normally.
setupreq() {
	if ! f_serve setupreq 128M vfio_uml.fault=request_setup vfio_uml.device=$N1; then
		f_wait_exit 1
		f_end setupreq
		return
	fi
	f_mc setupreq config vfio_uml.device=$N2
	f_cmd setupreq fault none
	sleep 3
	f_mc setupreq config vfio_uml.device=$N1
	f_cmd setupreq io ffault1 1
	f_mc setupreq config vfio_uml.device=$N2
	f_cmd setupreq io ffault2 1
	f_quit setupreq
}

# devfd (debug UML): the early open of both devices given at boot fails
# in its host thread (vfio_uml.fault=device_fd). Set-up reports it and
# closes their groups and the container; both are added afterwards.
devfd() {
	if ! f_serve devfd 128M vfio_uml.fault=device_fd vfio_uml.device=$N1 vfio_uml.device=$N2; then
		f_wait_exit 1
		f_end devfd
		return
	fi
	f_info "devfd: after boot fds=$(f_vfio_fds)"
	f_mc devfd config vfio_uml.device=$N1
	f_cmd devfd io ffault1 1
	f_mc devfd config vfio_uml.device=$N2
	f_cmd devfd io ffault2 1
	f_quit devfd
}

# slowrel (debug UML): L1 unbinds N2 from vfio-pci, and while UML releases
# it (held 5 s by vfio_uml.fault=slow_release) mconsole tries to remove
# and to add it; then it is bound to vfio-pci again and added.
slowrel() {
	local i=0
	rm -f /tmp/unbind.done
	if ! f_serve slowrel 128M vfio_uml.fault=slow_release vfio_uml.device=$N1 vfio_uml.device=$N2; then
		f_wait_exit 1
		f_end slowrel
		return
	fi
	# $? is the status of the write to unbind
	# shellcheck disable=SC2320
	(echo $N2 > /sys/bus/pci/drivers/vfio-pci/unbind; echo $? > /tmp/unbind.done) &
	f_wait_log slowrel "^vfio_uml: $N2: the host asks for the device back" 60
	f_mc slowrel remove vfio_uml.device=$N2
	f_mc slowrel config vfio_uml.device=$N2
	f_mc slowrel config vfio_uml.device
	while [ ! -e /tmp/unbind.done ] && [ $i -lt 120 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	f_info "slowrel: l1-unbind=$(cat /tmp/unbind.done 2>/dev/null || echo blocked) secs=$((i / 2))"
	echo $N2 > /sys/bus/pci/drivers_probe
	f_info "slowrel: driver=$(f_driver $N2)"
	f_cmd slowrel fault none
	f_mc slowrel config vfio_uml.device=$N2
	f_cmd slowrel io ffault2 1
	f_quit slowrel
}
