# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# RIG_DEVICES file of the benchmark, sourced by rig/run-l1.sh. Fixed
# addresses, so that rig.pass= and job.sh can name the devices:
#   00:03.0 nvme "benchuml"  passed through to UML
#   00:04.0 nvme "benchl1"   identical, driven by L1's own nvme driver
#   00:05.0 virtio-net       passed through to UML (10.0.2.2)
#   00:06.0 virtio-net       L1's peer, 10.0.2.1 (the rig sets it up)
#   00:07.0 virtio-net       L1's own client, in a network namespace (10.0.2.3)
#   00:08.0 e1000e           passed through to UML (only its probe is timed)
#   00:09.0 e1000e           identical, driven by L1's own e1000e driver
#   00:0a.0 edu              passed through to UML (interrupt round trips)
#   00:0b.0 edu              identical, driven by irqtest.ko in L1
# All NICs share hub 0 with one device-less port and nothing else. The
# e1000e interfaces are never brought up.

BENCH_DISK_MB=${BENCH_DISK_MB:-256}

qemu_devices() {
	local vio=disable-legacy=on,iommu_platform=on n

	for n in 0 1; do
		make_disk "bench$n" "$BENCH_DISK_MB"
	done
	echo "-drive file=$DISKS/bench0.img,if=none,id=bench0,format=raw"
	echo "-device nvme,serial=benchuml,drive=bench0,addr=0x3"
	echo "-drive file=$DISKS/bench1.img,if=none,id=bench1,format=raw"
	echo "-device nvme,serial=benchl1,drive=bench1,addr=0x4"
	echo "-nic none"
	for n in 5 6 7; do
		echo "-netdev hubport,id=net$n,hubid=0"
		echo "-device virtio-net-pci,netdev=net$n,mac=52:54:00:12:35:0$n,$vio,addr=0x$n"
	done
	for n in 8 9; do
		echo "-netdev hubport,id=net$n,hubid=0"
		echo "-device e1000e,netdev=net$n,mac=52:54:00:12:35:0$n,addr=0x$n"
	done
	echo "-netdev hubport,id=sink,hubid=0"
	echo "-device edu,addr=0xa"
	echo "-device edu,addr=0xb"
}
