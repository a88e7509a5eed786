#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
# /init of UML's root (hostfs) in the benchmark. Kernel command line:
#   bench.task=ready|full|irqtrace
#                           ready: print BENCH-READY once the nvme block
#                           device exists (at once with bench.nodev=1),
#                           then power off; full: then run the suite;
#                           irqtrace: then only the module, marking its
#                           reads in L1's trace (bench.cmds=N reads)
#   bench.col=NAME          results go to /results/NAME (L1's /uml-root)
#   bench.kmod=NAME         bench_nvme.ko and irqtest.ko from /bench/modules/NAME/
#   bench.runtime=S bench.pings=N bench.tcp=S bench.probes=N
#   bench.idle=S            full, irqtrace: first S seconds (5) idle with the
#                           devices bound, between BENCH-IDLE-BEGIN and -END
#                           lines (tsrun in L1 measures the CPU UML uses)

# /proc first: Debian's busybox finds its applets through /proc/self/exe.
/bin/busybox mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q "^devtmpfs /dev " /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin:/usr/bin

opt() {
	local w

	# shellcheck disable=SC2013 # words, not lines
	for w in $(cat /proc/cmdline); do
		case $w in
		"$1"=*) echo "${w#*=}"; return ;;
		esac
	done
	echo "$2"
}

wait_ready() {
	local i=0

	if [ "$(opt bench.nodev 0)" = 1 ]; then
		echo "BENCH-READY"
		return
	fi
	while [ ! -e /sys/block/nvme0n1 ] && [ $i -lt 6000 ]; do
		usleep 10000
		i=$((i + 1))
	done
	if [ -e /sys/block/nvme0n1 ]; then
		echo "BENCH-READY"
	else
		echo "BENCH-ERROR: no /sys/block/nvme0n1 after 60 s"
	fi
}

fio_cmd() {
	timeout 120 /usr/bin/fio "$@"
}

nvme_bdf() {
	local d

	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/class")" = 0x010802 ] && { echo "${d##*/}"; return; }
	done
}

# The passed-through e1000e (QEMU's 82574L, 8086:10d3), if any.
e1000e_bdf() {
	local d

	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10d3 ] &&
			{ echo "${d##*/}"; return; }
	done
}

# The virtio-net; the e1000e stays down (it is there for suite_probe).
net_up() {
	local n

	ip link set lo up
	for n in /sys/class/net/*; do
		[ "$(basename "$(readlink "$n/device/driver" 2>/dev/null)")" = virtio_net ] || continue
		ip link set "${n##*/}" up
		ip addr add 10.0.2.2/24 dev "${n##*/}"
		return 0
	done
	echo "BENCH-ERROR: no passed-through virtio-net"
	return 1
}

# idle_window: bench.idle seconds with nothing to do, between the lines
# BENCH-IDLE-BEGIN and -END, for tsrun in L1 to measure UML's CPU use.
# The sleeper is started before the window opens, so that starting a
# process is not in it.
idle_window() {
	local s

	s=$(opt bench.idle 5)
	sleep $((s + 1)) &
	sleep 1
	echo "BENCH-IDLE-BEGIN"
	wait
	echo "BENCH-IDLE-END"
}

full() {
	local out b

	out=/results/$(opt bench.col uml)
	# shellcheck disable=SC2034 # used by suite.sh
	BENCH_HOME=/bench
	BENCH_RUNTIME=$(opt bench.runtime 3)
	# shellcheck disable=SC2034
	BENCH_PINGS=$(opt bench.pings 100)
	# shellcheck disable=SC2034
	BENCH_TCP_SECS=$(opt bench.tcp 8)
	# shellcheck disable=SC2034
	BENCH_PROBES=$(opt bench.probes 7)
	# shellcheck disable=SC2034
	NET_PREFIX=
	# shellcheck source=suite.sh
	. /bench/suite.sh
	mkdir -p "$out"
	grep -c '^processor' /proc/cpuinfo > "$out/cpus.txt"
	echo "BENCH-STEP: idle"
	idle_window
	echo "BENCH-STEP: fio"
	suite_io /dev/nvme0n1 "$out"
	echo "BENCH-STEP: net"
	net_up && suite_net "$out"
	echo "BENCH-STEP: probe"
	b=$(nvme_bdf)
	suite_probe "$out" nvme nvme "$b" "/sys/bus/pci/devices/$b/nvme/nvme*/nvme*n1"
	b=$(e1000e_bdf)
	suite_probe "$out" e1000e e1000e "$b" "/sys/bus/pci/devices/$b/net/*"
	echo "BENCH-STEP: irq"
	suite_irq "$out" "/bench/modules/$(opt bench.kmod ours)/irqtest.ko" "$(nvme_bdf)"
	echo "BENCH-STEP: mmio"
	suite_mmio "$(nvme_bdf)" "/bench/modules/$(opt bench.kmod ours)/bench_nvme.ko" "$out"
	{
		ls -l /sys/bus/pci/devices/ /sys/block/ /sys/class/net/
		cat /proc/interrupts
		dmesg
	} > "$out/uml-diag.txt" 2>&1
}

# Idle, then the module alone, its timed reads marked in L1's trace (make
# irqtrace).
irqtrace() {
	local out

	out=/results/$(opt bench.col uml)
	# shellcheck source=suite.sh
	. /bench/suite.sh
	mkdir -p "$out"
	idle_window
	suite_mmio "$(nvme_bdf)" "/bench/modules/$(opt bench.kmod ours)/bench_nvme.ko" "$out" \
		trace=/sys/kernel/tracing cmds="$(opt bench.cmds 200)"
}

wait_ready
case $(opt bench.task ready) in
full) full ;;
irqtrace) irqtrace ;;
*)
	# Where a boot's time went: the kernel's clock now and its log.
	echo "BENCH-UPTIME: $(cut -d' ' -f1 /proc/uptime)"
	dmesg | sed 's/^/BENCH-DMESG: /'
	;;
esac
echo "BENCH-UML-DONE"
poweroff -f
