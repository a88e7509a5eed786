# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# RIG_DEVICES for the bad-input boot (40-faults-bad.sh). Fixed addresses,
# which l1/job.sh relies on:
#   00:03.0 nvme "fgood" with a disk: the good device given alongside
#   00:04.0 nvme, left to L1's nvme driver          (e: host driver)
#   00:05.0 nvme, bound to no driver                 (e: unbound)
#   00:06.0 edu (MSI and INTx), 00:07.0 e1000 (INTx only): they work (j)
#   00:08.0 pci-bridge; behind it 01:01.0 nvme (vfio-pci) and 01:02.0
#           nvme (L1's nvme driver): one IOMMU group, not viable   (f)
#   00:09.0-00:10.0 eight nvme without a disk: 9 devices with 00:03.0 (k)
qemu_devices() {
	local s
	echo "-drive file=$DISKS/nvme0.img,if=none,id=good,format=raw"
	echo "-device nvme,serial=fgood,drive=good,addr=0x3"
	echo "-device nvme,serial=fhost,addr=0x4"
	echo "-device nvme,serial=funbound,addr=0x5"
	echo "-device edu,addr=0x6"
	echo "-netdev hubport,id=e0,hubid=0"
	echo "-device e1000,netdev=e0,addr=0x7"
	echo "-device pci-bridge,id=br,chassis_nr=1,addr=0x8"
	echo "-device nvme,serial=fbra,bus=br,addr=0x1"
	echo "-device nvme,serial=fbrb,bus=br,addr=0x2"
	for s in 9 a b c d e f 10; do
		echo "-device nvme,serial=ffill$s,addr=0x$s"
	done
}
