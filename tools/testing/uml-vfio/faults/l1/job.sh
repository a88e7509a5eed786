# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2010,SC2012,SC2086,SC2320
# /rig/job.sh of the fault tests: sourced by L1's /init (rig/l1-init.sh,
# rig.job=script) after the devices of rig.pass= are bound to vfio-pci; its
# functions (mark, finish, cmdline_opt, load_modules, ...) are available.
# fault.set=bad runs the bad-input cases, fault.set=faults the faults and
# the lifecycle cases (lifecycle.sh), fault.set=debug a short rebind, a
# shorter lifecycle with injected faults and the L1 unbind (for the debug
# UML), fault.set=dma only the DMA faults of the fault set (5-8, when
# working on DMA mapping).
#
# Each UML run is printed as
#   FAULT-CASE-BEGIN: NAME
#   ...UML's console (with its FAULT- lines from /faults/init)...
#   FAULT-CASE-END: NAME exit=N secs=S
#   FAULT-DMESG: NAME: <L1 kernel log line logged during the case>
# plus FAULT-INFO: NAME: KEY=VALUE... lines with L1's measurements. The
# caller (tests/40-faults-bad.sh, tests/41-faults.sh) judges them.

F_RUNAS=
F_USER=1000

f_info() { echo "FAULT-INFO: $*"; }

# f_start NAME MEM ARGS...: UML in the background (F_RUNAS as prefix),
# console in /tmp/f-NAME.log; sets F_PID. L1's kernel log is cleared so
# that f_end shows only what the case caused.
f_start() {
	local name=$1 mem=$2 dir=/dev/shm/uml-$1
	shift 2
	mkdir -p "$dir"
	chown "$F_USER" "$dir"
	dmesg -c > /dev/null
	F_T0=$(date +%s)
	echo "FAULT-CASE-BEGIN: $name"
	TMPDIR=/dev/shm $F_RUNAS /uml/linux mem="$mem" root=/dev/root \
		rootfstype=hostfs hostfs=/uml-root rw init=/faults/init \
		uml_dir="$dir" con=null con0=null,fd:1 "$@" \
		< /dev/null > "/tmp/f-$name.log" 2>&1 &
	F_PID=$!
}

# f_wait_exit SECS: wait for F_PID, killing it after SECS; sets F_RC. A
# process that SIGKILL does not end within 20 s (stuck in L1's kernel) is
# left behind rather than waited for: F_RC=255.
f_wait_exit() {
	local i=0
	while kill -0 "$F_PID" 2>/dev/null && [ $i -lt $(($1 * 2)) ]; do
		sleep 0.5
		i=$((i + 1))
	done
	if kill -0 "$F_PID" 2>/dev/null; then
		kill -9 "$F_PID"
		i=0
		while f_threads_left "$F_PID" && [ $i -lt 40 ]; do
			sleep 0.5
			i=$((i + 1))
		done
		if f_threads_left "$F_PID"; then
			f_info "pid $F_PID: SIGKILL did not end it within 20 s; left behind"
			F_RC=255
			return
		fi
	fi
	F_RC=0
	wait "$F_PID" || F_RC=$?
}

# f_threads_left PID: true while a thread of PID is not a zombie yet (one
# stuck in L1's kernel keeps the process from being reaped).
f_threads_left() {
	awk '{ sub(/.*\) /, ""); if ($1 != "Z") n++ } END { exit !n }' \
		"/proc/$1/task/"*/stat 2>/dev/null
}

# f_end NAME: print the case's UML console and L1 kernel log.
f_end() {
	cat "/tmp/f-$1.log"
	echo
	echo "FAULT-CASE-END: $1 exit=$F_RC secs=$(($(date +%s) - F_T0))"
	dmesg | sed "s/^/FAULT-DMESG: $1: /"
	rm -rf "/tmp/f-$1.log" "/dev/shm/uml-$1"
}

# f_case NAME SECS MEM ARGS...: one UML run in the foreground.
f_case() {
	local name=$1 secs=$2
	shift 2
	f_start "$name" "$@"
	f_wait_exit "$secs"
	f_end "$name"
}

# f_wait_log NAME REGEX SECS: wait until the case's log has REGEX.
f_wait_log() {
	local i=0
	while [ $i -lt $(($3 * 2)) ]; do
		grep -qE "$2" "/tmp/f-$1.log" 2>/dev/null && return 0
		kill -0 "$F_PID" 2>/dev/null || return 1
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

f_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
f_driver() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }

# Processes running /uml/linux.
f_uml_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = /uml/linux ] && echo "${p#/proc/}"
	done
}

# Open file descriptors of VFIO containers, groups and devices in L1.
f_vfio_fds() {
	ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -cE -- '-> (/dev/vfio/|anon_inode:\[vfio-device\])'
}

# Pages pinned through pin_user_pages() (what VFIO's DMA mapping does).
f_pinned() {
	awk '/^nr_foll_pin_acquired / { a = $2 } /^nr_foll_pin_released / { r = $2 }
	     END { print a - r }' /proc/vmstat
}

# Sum of VmLck (kB) over the UML processes: VFIO accounts pinned memory there.
f_vmlck() {
	local p s=0 v
	for p in $(f_uml_pids); do
		v=$(awk '/^VmLck:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo $s
}

f_mlocked() { awk '/^Mlocked:/ { print $2 }' /proc/meminfo; }

# f_meminfo KEY: a /proc/meminfo value in kB.
f_meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# The start of the MSI window that the host IOMMU reserves for device $1.
f_msi_window() {
	awk '$3 == "msi" { print $1; exit }' \
		"/sys/bus/pci/devices/$1/iommu_group/reserved_regions"
}

# f_settle FDS PINNED: wait up to 30 s for L1's VFIO fds and pinned pages
# to come down to at most these values (a base taken while something else
# in L1 held a few pins, as in-flight direct I/O does, may be above what
# L1 settles to): a killed or exiting UML's threads and VFIO's unpin
# (of all of UML's memory, page by page under TCG) finish after its main
# process has been reaped, usually within 1-2 s, once over 9.5 s on a busy
# host. Sets F_SETTLE to the seconds it took (or "no").
f_settle() {
	local i=0
	while [ $i -lt 60 ]; do
		if [ "$(f_vfio_fds)" -le "$1" ] && [ "$(f_pinned)" -le "$2" ] &&
		   [ -z "$(f_uml_pids)" ]; then
			F_SETTLE=$((i / 2))
			return 0
		fi
		sleep 0.5
		i=$((i + 1))
	done
	F_SETTLE=no
	return 1
}

# f_reap NAME PINNED [MORE]: once UML's kernel process was killed, let
# L1 settle (f_settle 0 PINNED), say what is left (and MORE), and kill
# any UML process still there.
f_reap() {
	local p left

	f_settle 0 "$2"
	left=$(f_uml_pids | wc -l)
	f_info "$1: settle=$F_SETTLE left=$left fds=$(f_vfio_fds) pinned=$(f_pinned)${3:+ $3}"
	for p in $(f_uml_pids); do
		kill -9 "$p"
	done
}

# ---- bad input ---------------------------------------------------------

G=0000:00:03.0
E=0000:00:04.0
U=0000:00:05.0
EDU=0000:00:06.0
E1000=0000:00:07.0
FA=0000:01:01.0
FB=0000:01:02.0
FILL="0000:00:09.0 0000:00:0a.0 0000:00:0b.0 0000:00:0c.0 0000:00:0d.0 0000:00:0e.0 0000:00:0f.0 0000:00:10.0"
UP="fault.job=up"

bad_setup() {
	local d
	# e: 00:05.0 stays unbound; 00:04.0 and, behind the bridge, 01:02.0
	# go to L1's nvme driver, which makes 01:01.0's group not viable.
	echo none > "/sys/bus/pci/devices/$U/driver_override"
	load_modules extra
	sleep 2
	for d in $G $E $U $EDU $E1000 $FA $FB $FILL; do
		f_info "setup: $d driver=$(f_driver "$d") group=$(f_group "$d")"
	done
	f_info "setup: group of $FA: $(ls "/sys/bus/pci/devices/$FA/iommu_group/devices" | tr '\n' ' ')"
}

bad_cases() {
	local gg gf f1=${FILL%% *} fill=
	for d in $FILL; do
		fill="$fill vfio_uml.device=$d"
	done

	f_case a-empty 120 128M $UP fault.ns=1 vfio_uml.device= vfio_uml.device=$G
	f_case b-garbage 120 128M $UP fault.ns=1 vfio_uml.device=garbage vfio_uml.device=$G
	f_case c-slot 120 128M $UP fault.ns=1 vfio_uml.device=0000:00:20.0 vfio_uml.device=$G
	f_case c-bus 120 128M $UP fault.ns=1 vfio_uml.device=0000:100:00.0 vfio_uml.device=$G
	f_case d-absent 120 128M $UP fault.ns=1 vfio_uml.device=0000:3f:00.0 vfio_uml.device=$G
	f_case e-hostdrv 120 128M $UP fault.ns=1 vfio_uml.device=$E vfio_uml.device=$G
	f_case e-unbound 120 128M $UP fault.ns=1 vfio_uml.device=$U vfio_uml.device=$G
	f_case f-notviable 120 128M $UP fault.ns=1 vfio_uml.device=$FA vfio_uml.device=$G
	f_case g-twice 120 128M $UP fault.ns=1 vfio_uml.device=$G vfio_uml.device=${G#0000:}
	f_case j-msi 120 128M $UP fault.ns=1 fault.irq=$EDU/msi,intx \
		vfio_uml.device=$EDU vfio_uml.device=$G
	f_case j-intx 120 128M $UP fault.ns=1 fault.irq=$E1000/intx \
		vfio_uml.device=$E1000 vfio_uml.device=$G
	# shellcheck disable=SC2086
	f_case k-many 240 128M $UP fault.ns=1 vfio_uml.device=$G $fill
	# m: edu's 28-bit DMA engine with 1 GiB of UML memory (edu_dma.ko).
	f_case m-edu 240 1G fault.job=edu fault.dev=$EDU vfio_uml.device=$EDU

	# i: an unprivileged user (uid/gid 1000) without, then with, access.
	# The initramfs root comes from a mktemp -d directory (mode 700).
	chmod 755 /
	gg=$(f_group $G)
	gf=$(f_group "$f1")
	F_RUNAS="/rig/runas $F_USER $F_USER $((512 * 1024))"
	chmod 600 /dev/vfio/vfio
	f_case i-vfio-noaccess 120 128M $UP fault.ns=0 vfio_uml.device=$G
	chmod 666 /dev/vfio/vfio
	chgrp "$F_USER" "/dev/vfio/$gf"
	chmod 660 "/dev/vfio/$gf"
	f_info "i-group-noaccess: $(ls -l /dev/vfio | tr -s ' ' | tr '\n' ';')"
	f_case i-group-noaccess 120 128M $UP fault.ns=0 vfio_uml.device=$G vfio_uml.device="$f1"
	chgrp "$F_USER" "/dev/vfio/$gg"
	chmod 660 "/dev/vfio/$gg"
	f_case i-user-ok 120 128M $UP fault.ns=1 vfio_uml.device=$G
	# l: the same user with memlock 16 MiB: far below mem=512M, which on
	# demand is fine; eager mode pins all of mem= and is refused. 128 KiB
	# is less than one chunk: refused as the device is probed.
	F_RUNAS="/rig/runas $F_USER $F_USER 16384"
	f_case l-memlock 120 512M $UP fault.ns=1 vfio_uml.device=$G
	f_case l-memlock-eager 120 128M $UP fault.ns=0 vfio_uml.dma=eager vfio_uml.device=$G
	F_RUNAS="/rig/runas $F_USER $F_USER 128"
	f_case l-memlock-tiny 120 128M $UP fault.ns=0 vfio_uml.device=$G
	F_RUNAS=

	# h: no type1 IOMMU driver, then no vfio modules at all.
	rmmod vfio_iommu_type1
	f_info "h-notype1: modules: $(lsmod | awk '/vfio/ { print $1 }' | tr '\n' ' ')"
	f_case h-notype1 120 128M $UP fault.ns=0 vfio_uml.device=$G
	rmmod vfio_pci vfio_pci_core vfio
	f_info "h-novfio: modules: $(lsmod | awk '/vfio/ { print $1 }' | tr '\n' ' ') /dev/vfio: $(ls /dev/vfio 2>&1 | tr '\n' ' ')"
	f_case h-novfio 120 128M $UP fault.ns=0 vfio_uml.device=$G
}

# ---- faults ------------------------------------------------------------

N1=0000:00:03.0
N2=0000:00:04.0

# 1: SIGKILL during nvme I/O, 10 times; each next UML checks I/O first.
fault_kill() {
	local i pin
	pin=$(f_pinned)
	for i in 1 2 3 4 5 6 7 8 9 10; do
		f_start kill$i 128M fault.job=iokill fault.ns=1 vfio_uml.device=$N1
		if f_wait_log kill$i 'FAULT-IO-ROUND: 2' 120; then
			kill -9 "$F_PID"
			f_info "kill$i: killed during I/O"
		else
			kill -9 "$F_PID" 2>/dev/null
			f_info "kill$i: no I/O rounds before the timeout"
		fi
		F_RC=0
		wait "$F_PID" || F_RC=$?
		# UML's other processes exit once the kernel process is gone.
		f_reap kill$i "$pin"
		f_end kill$i
	done
	f_case kill-after 120 128M $UP fault.ns=1 vfio_uml.device=$N1
}

# 2: 20 boot/power-off cycles with two devices; fds and pins back to base.
fault_cycles() {
	local i
	local fds pin
	fds=$(f_vfio_fds)
	pin=$(f_pinned)
	f_info "cycles: base fds=$fds pinned=$pin mlocked=$(f_mlocked)"
	mkdir -p /uml-root/go
	for i in $(seq 1 20); do
		f_start cycle$i 128M fault.job=wait fault.go=cycle$i fault.ns=2 \
			vfio_uml.device=$N1 vfio_uml.device=$N2
		if f_wait_log cycle$i 'FAULT-WAITING' 120; then
			f_info "cycle$i: during fds=$(f_vfio_fds) pinned=$(f_pinned) vmlck=$(f_vmlck)"
		else
			f_info "cycle$i: UML did not come up"
		fi
		touch /uml-root/go/cycle$i
		f_wait_exit 60
		f_settle "$fds" "$pin" && fds=$(f_vfio_fds) && pin=$(f_pinned)
		f_info "cycle$i: after settle=$F_SETTLE fds=$(f_vfio_fds) pinned=$(f_pinned) mlocked=$(f_mlocked) left=$(f_uml_pids | wc -l)"
		f_end cycle$i
	done
}

# 3: unbind/rebind the nvme driver in UML 10 (or $1) times.
fault_rebind() {
	f_case rebind 600 128M fault.job=rebind fault.rebinds="${1:-10}" \
		fault.dev=$N1 vfio_uml.device=$N1
}

# 5: an nvme DMA to an address outside UML's memory.
fault_dma() {
	f_case dma 180 128M fault.job=dma fault.dev=$N2 vfio_uml.device=$N1 vfio_uml.device=$N2
}

# 6: a DMA into a buffer after its dma_unmap: in strict mode the IOMMU
# refuses it, in the default mode the buffer's chunk is still mapped.
fault_unmap() {
	f_case unmap-strict 180 128M fault.job=dma fault.dmatest=unmap \
		fault.dev=$N2 vfio_uml.dma=strict vfio_uml.device=$N1 vfio_uml.device=$N2
	f_case unmap-ondemand 180 128M fault.job=dma fault.dmatest=unmap \
		fault.dev=$N2 vfio_uml.device=$N1 vfio_uml.device=$N2
}

# 7: a 28-bit DMA mask and 1 GiB of UML memory, mostly above it, in each
# DMA mode.
fault_mask() {
	local m
	for m in ondemand eager strict; do
		f_case mask-$m 300 1G fault.job=dma fault.dmatest=mask \
			fault.dev=$N2 vfio_uml.dma=$m vfio_uml.device=$N2
	done
}

# 8: UML memory beyond the host's first IOVA range (the MSI window at
# 0xfee00000): data through both nvme, an nvme DMA into pages all over UML
# memory (in eager mode also into the one under the MSI window), and what
# L1 spends on it while UML runs: pinned pages, UML's VmLck and the shared
# memory that holds UML's memory file.
fault_bigmem() {
	local name=$1 mem=$2
	shift 2
	mkdir -p /uml-root/go
	f_start "$name" "$mem" fault.job=dma fault.dmatest=spread \
		fault.hole="$(f_msi_window $N2)" fault.dev=$N2 fault.go="$name" \
		fault.ns=2 "$@" vfio_uml.device=$N1 vfio_uml.device=$N2
	if f_wait_log "$name" 'FAULT-WAITING' 900; then
		f_info "$name: during mem=$mem pinned=$(f_pinned) vmlck=$(f_vmlck) shmem=$(f_meminfo Shmem) memtotal=$(f_meminfo MemTotal)"
	else
		f_info "$name: UML did not come up"
	fi
	touch "/uml-root/go/$name"
	f_wait_exit 300
	f_end "$name"
}

fault_bigmems() {
	# Eager mode pins all of mem=: its file must fit in /dev/shm.
	mount -o remount,size=90% /dev/shm
	fault_bigmem big-4200m 4200M
	fault_bigmem big-8g 8G
	fault_bigmem big-eager-4200m 4200M vfio_uml.dma=eager
}

# 4: L1 takes N2 back (unbind from vfio-pci) while UML holds it; ARGS
# are added to UML's command line.
fault_unbind() {
	local i=0 t0 alive=no state=blocked
	mkdir -p /uml-root/go
	rm -f /tmp/unbind.done
	f_start unbind 128M fault.job=wait fault.go=unbind fault.ns=2 fault.ioafter=1 \
		vfio_uml.device=$N1 vfio_uml.device=$N2 "$@"
	if ! f_wait_log unbind 'FAULT-WAITING' 300; then
		f_info "unbind: UML did not come up"
	fi
	t0=$(date +%s)
	(echo $N2 > /sys/bus/pci/drivers/vfio-pci/unbind; echo $? > /tmp/unbind.done) &
	while [ ! -e /tmp/unbind.done ] && [ $i -lt 120 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	[ -e /tmp/unbind.done ] && state="returned rc=$(cat /tmp/unbind.done)"
	kill -0 "$F_PID" 2>/dev/null && alive=yes
	f_info "unbind: l1-unbind=$state secs=$(($(date +%s) - t0)) uml-alive=$alive driver=$(f_driver $N2)"
	# UML keeps running: it must still answer, then power off.
	sleep 3
	touch /uml-root/go/unbind
	f_wait_exit 300
	i=0
	while [ ! -e /tmp/unbind.done ] && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	f_info "unbind: after UML exit: l1-unbind=$([ -e /tmp/unbind.done ] && echo returned || echo blocked) secs=$(($(date +%s) - t0)) driver=$(f_driver $N2)"
	f_end unbind
	vfio-reopen $N1 | sed 's/^/FAULT-INFO: unbind: /'
}

# shellcheck source=lifecycle.sh
. /rig/lifecycle.sh

dmesg -n 1
mark "FAULT-SET: $(cmdline_opt fault.set bad)"
case $(cmdline_opt fault.set bad) in
bad)
	bad_setup
	bad_cases
	;;
faults)
	fault_rebind
	fault_dma
	fault_unmap
	fault_mask
	fault_bigmems
	fault_kill
	fault_cycles
	lifecycle life 10 5
	lifekill
	fault_unbind
	;;
life)
	# The lifecycle cases alone, shorter, and L1's unbind, which takes
	# the same release path (for development).
	lifecycle life 2 1
	lifekill
	fault_unbind
	;;
dma)
	fault_dma
	fault_unmap
	fault_mask
	fault_bigmems
	;;
debug)
	# The debug UML (tests/45-debug.sh) through the driver's run-time
	# paths: MSI-X teardown and set-up, adding and releasing devices.
	fault_rebind 3
	# One cycle of each: the paths are what KASAN and lockdep watch,
	# and the debug UML is slow under TCG (busy re-adds the nvme, last
	# the boot device, so re-adding is covered too).
	# In strict mode: each of the devices' DMA mappings is made and
	# removed with its buffer, also as a device goes and as the last
	# one takes the container with it.
	lifecycle life 1 1 vfio_uml.dma=strict
	setupreq
	devfd
	slowrel
	# With MSI off the nvme driver takes INTx: its IRQ is still
	# requested while UML gives the device back.
	fault_unbind pci=nomsi
	;;
esac
finish "job=script status=pass"
