# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
# The measurements, the same in L1 (sourced by job.sh) and in UML (sourced
# by init.sh); busybox ash. Each writes its raw output into a directory;
# the host parses it (report.py). The caller defines:
#   BENCH_HOME   directory with fio.job, fio-sqpoll.job and bin/netbench
#   fio_cmd      a function running Debian's fio with its arguments
#   NET_PREFIX   command prefix for the network side ("" or nsenter ...)
#   BENCH_RUNTIME, BENCH_PINGS, BENCH_TCP_SECS, BENCH_PROBES

PEER_IP=10.0.2.1
SINK_PORT=5002

# suite_io DEV OUT: fio.json (qd1, qd32, 128k sequential), sqpoll.json
suite_io() {
	BENCH_DEV=$1
	export BENCH_DEV BENCH_RUNTIME
	fio_cmd --output-format=json \
		--output="$2/fio.json" "$BENCH_HOME/fio.job" > "$2/fio.err" 2>&1
	echo "exit=$?" >> "$2/fio.err"
	fio_cmd --output-format=json \
		--output="$2/sqpoll.json" "$BENCH_HOME/fio-sqpoll.job" > "$2/sqpoll.err" 2>&1
	echo "exit=$?" >> "$2/sqpoll.err"
}

# suite_net OUT: ping.txt (ICMP echo to the peer), tcp.txt (bulk TCP to it)
suite_net() {
	# shellcheck disable=SC2086 # NET_PREFIX is a command prefix
	$NET_PREFIX ping -c 3 -W 5 "$PEER_IP" > "$1/ping-warmup.txt" 2>&1
	# shellcheck disable=SC2086
	$NET_PREFIX ping -c "$BENCH_PINGS" -i 0.05 "$PEER_IP" > "$1/ping.txt" 2>&1
	# shellcheck disable=SC2086
	$NET_PREFIX timeout 60 "$BENCH_HOME/bin/netbench" send "$PEER_IP" "$SINK_PORT" \
		"$BENCH_TCP_SECS" > "$1/tcp.txt" 2>&1
}

# net_quiesce BDF: for e1000e under QEMU 7.2, which aborts ("Assertion
# 'msix_enabled' failed") when MSI-X is disabled (as e1000e's remove does)
# within the interrupt-throttle window after an MSI-X interrupt: take its
# interfaces down (masks its interrupts) and wait well past 1 ms. The
# benchmark never brings these interfaces up; this is the guard.
net_quiesce() {
	local n

	for n in /sys/bus/pci/devices/"$1"/net/*; do
		[ -e "$n" ] && ip link set dev "${n##*/}" down
	done
	usleep 20000
}

# suite_probe OUT KIND DRIVER BDF READY_GLOB: BENCH_PROBES (7) times
# unbind BDF from its driver, then time a bind to DRIVER until READY_GLOB
# exists (bin/probetime); one line per try in OUT/probe.txt, prefixed with
# kind=KIND. A glob with wildcards before its last component (nvme's
# .../nvme/nvme*/nvme*n1) is resolved while the device is bound and the
# exact path handed to probetime: one stat per check instead of a slow
# glob(3) (the controller instance is reused on rebind; if it were not,
# the try would time out, ret=-110). DIR/PATTERN (e1000e's .../net/*, the
# interface name can change) is one readdir per check.
suite_probe() {
	local d=/sys/bus/pci/devices/$4 i=0 p path

	if [ -z "$4" ] || [ ! -e "$d" ]; then
		echo "kind=$2 probetime: no device ($4)" >> "$1/probe.txt"
		return 0
	fi
	while [ $i -lt "${BENCH_PROBES:-7}" ]; do
		path=$5
		case ${5%/*} in
		*'*'*)
			for p in $5; do
				[ -e "$p" ] && path=$p
			done
			;;
		esac
		if [ -e "$d/driver" ]; then
			[ "$2" = e1000e ] && net_quiesce "$4"
			echo "$4" > "$d/driver/unbind"
		fi
		usleep 100000
		echo "kind=$2 $("$BENCH_HOME/bin/probetime" "$3" "$4" "$path" 10000)" >> "$1/probe.txt"
		i=$((i + 1))
	done
	return 0
}

# suite_irq OUT MODULE NVME_BDF: irqtest.ko (../guest/irqtest/) on every edu
# (it binds by itself) and on the nvme (taken from its driver, then by
# driver_override): 200 interrupt round trips of each kind the device
# offers and the UML or L1 kernel delivers, one line each in irq.txt.
suite_irq() {
	local d k n dev rc

	insmod "$2" 2> "$1/irq.err"
	if [ -n "$3" ] && [ -e "/sys/bus/pci/devices/$3" ]; then
		n=/sys/bus/pci/devices/$3
		[ -e "$n/driver" ] && echo "$3" > "$n/driver/unbind"
		echo irqtest > "$n/driver_override"
		echo "$3" > /sys/bus/pci/drivers_probe
	fi
	for d in /sys/bus/pci/drivers/irqtest/0000:*; do
		[ -e "$d/irqtest" ] || continue
		dev=edu
		[ "$(cat "$d/class")" = 0x010802 ] && dev=nvme
		for k in msix msi intx; do
			echo "kind $k" > "$d/irqtest" 2>> "$1/irq.err" || continue
			rc=0
			echo "raise 200" > "$d/irqtest" 2>> "$1/irq.err" || rc=1
			echo "dev=$dev kind=$k ret=$rc $(cat "$d/stats")" >> "$1/irq.txt"
		done
		echo "kind none" > "$d/irqtest"
	done
	if [ -n "$3" ] && [ -e "/sys/bus/pci/devices/$3" ]; then
		n=/sys/bus/pci/devices/$3
		[ -e "$n/driver" ] && echo "$3" > "$n/driver/unbind"
		echo > "$n/driver_override"
	fi
	rmmod irqtest 2> /dev/null
	return 0
}

# suite_mmio BDF MODULE OUT [PARAM...]: unbind the nvme, then bench_nvme.ko
# on it (mod.txt). It runs last on the nvme: bench_nvme.ko is no driver,
# and the MSI data its vectors leave on the device (devres, released only
# when a driver unbinds) makes every later probe fail ("Resources present
# before probing").
suite_mmio() {
	local bdf=$1 mod=$2 out=$3 d=/sys/bus/pci/devices/$1

	shift 3
	[ -e "$d/driver" ] && echo "$bdf" > "$d/driver/unbind"
	insmod "$mod" bdf="$bdf" "$@" > "$out/mod.err" 2>&1
	echo "exit=$?" >> "$out/mod.err"
	dmesg | grep 'bench_nvme: ' | tail -n 1 > "$out/mod.txt"
	rmmod bench_nvme 2>/dev/null
	return 0
}
