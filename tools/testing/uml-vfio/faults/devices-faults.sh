# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# RIG_DEVICES for the fault boot (41-faults.sh) and the debug boot
# (45-debug.sh). Fixed addresses, which l1/job.sh relies on:
#   00:03.0, 00:04.0  nvme with disks (serials ffault1, ffault2)
#   00:05.0           pcie-root-port; behind it, 01:00.0 a virtio-net with
#                     AER (aer=on), which UML gets (lifecycle tests)
#   00:06.0           virtio-net that stays in L1 as the peer (10.0.2.1)
# The NICs share hub 0 with a device-less port.
qemu_devices() {
	local vio=disable-legacy=on,iommu_platform=on
	echo "-drive file=$DISKS/nvme0.img,if=none,id=n1,format=raw"
	echo "-device nvme,serial=ffault1,drive=n1,addr=0x3"
	echo "-drive file=$DISKS/nvme1.img,if=none,id=n2,format=raw"
	echo "-device nvme,serial=ffault2,drive=n2,addr=0x4"
	echo "-nic none"
	echo "-device pcie-root-port,id=rp1,chassis=1,slot=1,addr=0x5"
	echo "-netdev hubport,id=lv,hubid=0"
	echo "-device virtio-net-pci,netdev=lv,mac=52:54:00:12:34:51,bus=rp1,addr=0x0,$vio,aer=on"
	echo "-netdev hubport,id=lp,hubid=0"
	echo "-device virtio-net-pci,netdev=lp,mac=52:54:00:12:34:52,addr=0x6,$vio"
	echo "-netdev hubport,id=sink,hubid=0"
}
