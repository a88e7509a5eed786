#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2010,SC2012
# /faults/init of UML's root in the fault tests (UML is started with
# init=/faults/init fault.job=JOB). Every line for the caller starts with
# "FAULT-". Jobs:
#   up      list the PCI devices and their drivers, check I/O on every nvme
#           namespace (with fault.irq=BDF/KIND[,KIND...], also raise
#           interrupts of each kind on device BDF, L1 address, through
#           /modules/irqtest.ko), power off
#   wait    like up, then wait until L1 creates /go/NAME (NAME from
#           fault.go=), printing FAULT-ALIVE every 2 s, list the devices
#           again (and check I/O again with fault.ioafter=1), power off
#   iokill  like up, then nvme I/O in a loop until killed
#   rebind  unbind and rebind the nvme driver 10 times (fault.rebinds=N),
#           I/O after each
#   dma     hand the nvme fault.dev= (L1 address) to dma_fault.ko (its
#           test= from fault.dmatest=, default outside; hole= from
#           fault.hole=), rebind nvme and check that the data written
#           before is intact; with fault.go=NAME, then wait as in "wait"
#   edu     hand the edu fault.dev= to edu_dma.ko, if it was passed through
#   serve   run the commands L1 writes to /go/cmd.1, /go/cmd.2, ... (one
#           line each, see serve_one), printing FAULT-CMD-DONE: N rc=RC
#           after each, until the command "quit"; for the lifecycle tests,
#           where L1 adds and removes devices over mconsole

# /proc first: Debian's busybox finds its applets through /proc/self/exe.
/bin/busybox mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin

opt() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
say() { echo "FAULT-$*"; }

JOB=$(opt fault.job)
say "UML-INIT-OK job=$JOB"

# The UML address of the device L1 calls $1 (the order of vfio_uml.device=
# among the devices that were set up is the order of virt-pci slots).
uml_bdf() {
	local i=0 d
	for d in $(tr "," " " < /sys/module/vfio_uml/parameters/device); do
		if [ "$d" = "$1" ]; then
			ls /sys/bus/pci/devices | sed -n "$((i + 1))p"
			return
		fi
		i=$((i + 1))
	done
}

# One FAULT-PCI line per device; irq=msi once its driver has MSI or
# MSI-X vectors, else irq=legacy.
list_pci() {
	local d drv irq
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d" ] || continue
		drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
		irq=legacy
		[ -n "$(ls "$d/msi_irqs" 2>/dev/null)" ] && irq=msi
		say "PCI: ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") driver=${drv:-none} irq=$irq"
	done
}

# wait_ns COUNT: wait up to 30 s for COUNT nvme namespaces.
wait_ns() {
	local i=0
	while [ "$(ls -d /sys/block/nvme*n* 2>/dev/null | wc -l)" -lt "$1" ] && [ $i -lt 150 ]; do
		sleep 0.2
		i=$((i + 1))
	done
}

# blk_node NAME: a node of block device NAME of our own, /tmp/dev-NAME.
# I/O through it fails once the device is gone, where dd on /dev/NAME
# would create a regular file in its place.
blk_node() {
	local mm
	mm=$(cat "/sys/class/block/$1/dev" 2>/dev/null) || return 1
	rm -f "/tmp/dev-$1"
	mknod "/tmp/dev-$1" b "${mm%:*}" "${mm#*:}" && echo "/tmp/dev-$1"
}

# io_check DEV SEED [KIB]: write KIB KiB (a multiple of 64, default 1024)
# of random data at offset SEED MiB, read them back, compare.
io_check() {
	local dev off=$2 n=$((${3:-1024} / 64))
	dev=$(blk_node "$1") || return 1
	head -c $((n * 65536)) /dev/urandom > /tmp/w
	if dd if=/tmp/w of="$dev" bs=65536 seek=$((off * 16)) oflag=direct 2>/dev/null &&
	   dd if="$dev" of=/tmp/r bs=65536 skip=$((off * 16)) count=$n iflag=direct 2>/dev/null &&
	   cmp -s /tmp/w /tmp/r; then
		return 0
	fi
	return 1
}

# io_all: I/O check on every nvme namespace; FAULT-IO: N ok M failed
io_all() {
	local b ok=0 bad=0
	for b in /sys/block/nvme*n*; do
		[ -e "$b" ] || continue
		if io_check "${b##*/}" 1; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
			say "IO-FAIL: ${b##*/}"
		fi
	done
	say "IO: $ok ok $bad failed"
}

msix_irqs() {
	awk '/nvme/ { n = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; s += n } END { print s + 0 }' /proc/interrupts
}

# irq_check BDF KINDS: irqtest on device BDF (L1's address; edu binds by
# itself, other devices by driver_override, taken from their driver), 20
# interrupts of each kind:
# FAULT-IRQ: BDF KIND ok|fail STATS
irq_check() {
	local bdf d k r
	bdf=$(uml_bdf "$1")
	[ -n "$bdf" ] || { say "IRQ: $1 not found"; return; }
	[ -e /sys/bus/pci/drivers/irqtest ] || insmod /modules/irqtest.ko
	d=/sys/bus/pci/devices/$bdf
	if [ ! -e "$d/irqtest" ]; then
		# UML's own driver (the e1000's, say) may have it.
		if [ -e "$d/driver" ]; then
			echo "$bdf" > "$d/driver/unbind"
		fi
		echo irqtest > "$d/driver_override"
		echo "$bdf" > /sys/bus/pci/drivers_probe
	fi
	for k in $(echo "$2" | tr , ' '); do
		r=fail
		echo "kind $k" > "$d/irqtest" && echo "raise 20" > "$d/irqtest" && r=ok
		say "IRQ: $1 $k $r $(cat "$d/stats" 2>/dev/null)"
		grep irqtest /proc/interrupts | sed 's/^/FAULT-IRQ-LINE: /'
	done
	echo "kind none" > "$d/irqtest"
}

job_up() {
	local irq
	wait_ns "$(opt fault.ns)"
	list_pci
	io_all
	irq=$(opt fault.irq)
	[ -z "$irq" ] || irq_check "${irq%/*}" "${irq#*/}"
}

# wait_go: wait until L1 creates /go/NAME (NAME from fault.go=).
wait_go() {
	local go i=0
	go=$(opt fault.go)
	say "WAITING: $go"
	while [ ! -e "/go/$go" ]; do
		sleep 0.5
		i=$((i + 1))
		[ $((i % 4)) -eq 0 ] && say "ALIVE: $((i / 2)) s"
	done
	say "GO: $go"
}

job_wait() {
	job_up
	wait_go
	list_pci
	[ "$(opt fault.ioafter)" = 1 ] && io_all
}

job_iokill() {
	local n=0 dev
	job_up
	dev=$(ls /sys/block | grep -m1 '^nvme.*n') || { say "IO-FAIL: no namespace"; return; }
	say "IO-LOOP: $dev"
	while :; do
		dd if=/dev/urandom of="/dev/$dev" bs=65536 count=64 oflag=direct 2>/dev/null
		dd if="/dev/$dev" of=/dev/null bs=65536 count=64 iflag=direct 2>/dev/null
		n=$((n + 1))
		say "IO-ROUND: $n"
	done
}

job_rebind() {
	local bdf i n ok=0 before after mid dev
	wait_ns 1
	bdf=$(uml_bdf "$(opt fault.dev)")
	[ -n "$bdf" ] || { say "REBIND-FAIL: $(opt fault.dev) not found"; return; }
	n=$(opt fault.rebinds)
	for i in $(seq 1 "${n:-10}"); do
		before=$(msix_irqs)
		echo "$bdf" > /sys/bus/pci/drivers/nvme/unbind
		if ls -d /sys/block/nvme*n* >/dev/null 2>&1; then
			say "REBIND-FAIL: $i namespace still there after unbind"
			continue
		fi
		mid=$(grep -c nvme /proc/interrupts)
		echo "$bdf" > /sys/bus/pci/drivers/nvme/bind
		wait_ns 1
		dev=$(ls /sys/block | grep -m1 '^nvme.*n')
		if [ -n "$dev" ] && io_check "$dev" "$i"; then
			after=$(msix_irqs)
			say "REBIND: $i ok irqs=$before->$after unbound-irq-lines=$mid"
			grep nvme /proc/interrupts | tr -s ' ' | sed 's/^/FAULT-IRQS: /'

			ok=$((ok + 1))
		else
			say "REBIND-FAIL: $i no I/O on ${dev:-no namespace}"
		fi
	done
	say "REBIND-DONE: $ok of ${n:-10}"
}

job_dma() {
	local bdf dev sum1 sum2 hole rc=0
	wait_ns 1
	bdf=$(uml_bdf "$(opt fault.dev)")
	[ -n "$bdf" ] || { say "DMA-FAIL: $(opt fault.dev) not found"; return; }
	dev=$(ls /sys/block | grep -m1 '^nvme.*n')
	head -c 4194304 /dev/urandom > /tmp/data
	dd if=/tmp/data of="/dev/$dev" bs=65536 oflag=direct 2>/dev/null
	sum1=$(sha256sum < /tmp/data | cut -c1-16)
	echo "$bdf" > /sys/bus/pci/drivers/nvme/unbind
	hole=$(opt fault.hole)
	insmod /faults/dma_fault.ko dev="$bdf" test="$(opt fault.dmatest)" \
		${hole:+hole=$hole} || rc=$?
	say "DMA-INSMOD: rc=$rc"
	echo "$bdf" > /sys/bus/pci/drivers/nvme/bind
	wait_ns 1
	dev=$(ls /sys/block | grep -m1 '^nvme.*n')
	sum2=$(dd if="/dev/$dev" bs=65536 count=64 iflag=direct 2>/dev/null | sha256sum | cut -c1-16)
	if [ "$sum1" = "$sum2" ]; then
		say "DMA-DATA: intact $sum1"
	else
		say "DMA-DATA: changed $sum1 -> $sum2"
	fi
	io_all
	[ -n "$(opt fault.go)" ] && wait_go
}

job_edu() {
	local bdf rc=0
	bdf=$(uml_bdf "$(opt fault.dev)")
	if [ -z "$bdf" ]; then
		say "EDU-ABSENT: $(opt fault.dev) was not passed through"
		return
	fi
	insmod /faults/edu_dma.ko dev="$bdf" || rc=$?
	say "EDU-INSMOD: rc=$rc"
}

# ---- serve: commands from L1 -----------------------------------------

# The UML address of the nvme controller with serial $1, if it is there.
nvme_bdf() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/serial" ] || continue
		[ "$(tr -d ' ' < "$c/serial")" = "$1" ] || continue
		basename "$(readlink "$c/device")"
		return 0
	done
	return 1
}

# The first namespace of the nvme controller with serial $1.
nvme_ns() {
	local c n
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/serial" ] || continue
		[ "$(tr -d ' ' < "$c/serial")" = "$1" ] || continue
		for n in "$c"/nvme*n*; do
			[ -e "$n" ] && basename "$n" && return 0
		done
	done
	return 1
}

# The network interface with MAC address $1.
net_if() {
	local n
	for n in /sys/class/net/*; do
		[ "$(cat "$n/address")" = "$1" ] && basename "$n" && return 0
	done
	return 1
}

# wait_for SECS CMD...: until CMD succeeds (every 0.2 s).
wait_for() {
	local i=0 n=$(($1 * 5))
	shift
	while ! "$@" > /dev/null 2>&1; do
		[ $i -lt $n ] || return 1
		sleep 0.2
		i=$((i + 1))
	done
}

no_nvme() { ! nvme_bdf "$1"; }
no_net() { ! net_if "$1"; }

# ioloop_run DEV: direct I/O until killed or the device goes;
# FAULT-IOLOOP: N ok|fail lines.
ioloop_run() {
	local n=0 st node
	node=$(blk_node "$1") || return 1
	# 1 MiB each way a round: the data is not checked here, only that
	# I/O is in flight when the device goes.
	while [ -e "/sys/class/block/$1" ]; do
		st=ok
		dd if=/dev/zero of="$node" bs=65536 count=16 oflag=direct 2>/dev/null || st=fail
		dd if="$node" of=/dev/null bs=65536 count=16 iflag=direct 2>/dev/null || st=fail
		n=$((n + 1))
		say "IOLOOP: $n $st"
		# Once the device is gone every round fails at once.
		[ $st = ok ] || sleep 0.5
	done
	say "IOLOOP: $n gone"
}

# serve_one CMD ARGS...: one command from L1.
serve_one() {
	local cmd=$1 d
	shift
	case $cmd in
	list) list_pci ;;
	# io SERIAL SEED [KIB]: the nvme's namespace appears; KIB KiB (default
	# 1 MiB) written, read back
	io)
		wait_for 30 nvme_ns "$1" || { say "IO-FAIL: no namespace of $1"; return 1; }
		d=$(nvme_ns "$1")
		[ ! -e "/dev/$d" ] || [ -b "/dev/$d" ] || { say "IO-FAIL: /dev/$d is no block device"; return 1; }
		io_check "$d" "$2" "${3:-1024}" || { say "IO-FAIL: $d"; return 1; }
		say "IO: $1 $d ok"
		;;
	# gone SERIAL: the nvme controller has gone from UML's PCI bus
	gone) wait_for 30 no_nvme "$1" ;;
	# net MAC ADDR PEER: the NIC appears, gets ADDR/24, pings PEER
	net)
		wait_for 30 net_if "$1" || { say "NET-FAIL: no interface $1"; return 1; }
		d=$(net_if "$1")
		ip addr flush dev "$d"
		ip addr add "$2/24" dev "$d"
		ip link set "$d" up
		# The link needs a moment after up; then every ping must answer.
		wait_for 30 ping -c 1 -W 1 -I "$d" "$3" || { say "NET-FAIL: $d no reply"; return 1; }
		ping -A -c 5 -s 1400 -W 5 -I "$d" "$3" > /tmp/ping || { say "NET-FAIL: $d $(tail -n 2 /tmp/ping | tr '\n' ' ')"; return 1; }
		say "NET: $1 $d $(grep -o '[0-9]* packets received' /tmp/ping)"
		;;
	netgone) wait_for 30 no_net "$1" ;;
	# ioloop SERIAL / netloop MAC PEER: I/O in the background until *_stop
	ioloop)
		d=$(nvme_ns "$1") || return 1
		ioloop_run "$d" &
		echo $! > /tmp/loop.pid
		;;
	netloop)
		d=$(net_if "$1") || return 1
		ping -A -q -s 1400 -I "$d" "$2" > /tmp/netloop 2>&1 &
		echo $! > /tmp/loop.pid
		;;
	loop_stop)
		kill "$(cat /tmp/loop.pid)" 2>/dev/null
		wait "$(cat /tmp/loop.pid)" 2>/dev/null
		[ -s /tmp/netloop ] && say "NETLOOP: $(tr '\n' ' ' < /tmp/netloop)"
		rm -f /tmp/loop.pid /tmp/netloop
		;;
	# stale SERIAL: stale_bar.ko maps BAR 0 of that nvme and keeps it
	stale) d=$(nvme_bdf "$1") && insmod /faults/stale_bar.ko dev="$d" ;;
	poke) echo 1 > /sys/module/stale_bar/parameters/poke ;;
	unstale) rmmod stale_bar ;;
	fault) echo "$1" > /sys/module/vfio_uml/parameters/fault ;;
	*) say "UNKNOWN-CMD: $cmd"; return 1 ;;
	esac
}

job_serve() {
	local n=1 rc line
	say "SERVING"
	while :; do
		if [ ! -e "/go/cmd.$n" ]; then
			sleep 0.1
			continue
		fi
		line=$(cat "/go/cmd.$n")
		[ "$line" = quit ] && break
		say "CMD: $n $line"
		rc=0
		# shellcheck disable=SC2086
		serve_one $line || rc=$?
		say "CMD-DONE: $n rc=$rc"
		n=$((n + 1))
	done
}

case $JOB in
up) job_up ;;
wait) job_wait ;;
iokill) job_iokill ;;
rebind) job_rebind ;;
dma) job_dma ;;
edu) job_edu ;;
serve) job_serve ;;
*) say "UNKNOWN-JOB: $JOB" ;;
esac
say "POWEROFF"
poweroff -f
