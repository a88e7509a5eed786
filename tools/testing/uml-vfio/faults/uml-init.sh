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
#   dma     hand the nvme fault.dev= (L1 address) to dma_fault.ko, rebind
#           nvme and check that the data written before is intact

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

# io_check DEV SEED: write 1 MiB at offset SEED MiB, read back, compare.
io_check() {
	local dev=/dev/$1 off=$2
	head -c 1048576 /dev/urandom > /tmp/w
	if dd if=/tmp/w of="$dev" bs=65536 seek=$((off * 16)) oflag=direct 2>/dev/null &&
	   dd if="$dev" of=/tmp/r bs=65536 skip=$((off * 16)) count=16 iflag=direct 2>/dev/null &&
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

job_wait() {
	local go i=0
	job_up
	go=$(opt fault.go)
	say "WAITING: $go"
	while [ ! -e "/go/$go" ]; do
		sleep 0.5
		i=$((i + 1))
		[ $((i % 4)) -eq 0 ] && say "ALIVE: $((i / 2)) s"
	done
	say "GO: $go"
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
	local bdf dev sum1 sum2 rc=0
	wait_ns 1
	bdf=$(uml_bdf "$(opt fault.dev)")
	[ -n "$bdf" ] || { say "DMA-FAIL: $(opt fault.dev) not found"; return; }
	dev=$(ls /sys/block | grep -m1 '^nvme.*n')
	head -c 4194304 /dev/urandom > /tmp/data
	dd if=/tmp/data of="/dev/$dev" bs=65536 oflag=direct 2>/dev/null
	sum1=$(sha256sum < /tmp/data | cut -c1-16)
	echo "$bdf" > /sys/bus/pci/drivers/nvme/unbind
	insmod /faults/dma_fault.ko dev="$bdf" || rc=$?
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
}

case $JOB in
up) job_up ;;
wait) job_wait ;;
iokill) job_iokill ;;
rebind) job_rebind ;;
dma) job_dma ;;
*) say "UNKNOWN-JOB: $JOB" ;;
esac
say "POWEROFF"
poweroff -f
