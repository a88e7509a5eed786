# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# RIG_DEVICES for the fault boot (41-faults.sh): two nvme with disks at
# fixed addresses 00:03.0 and 00:04.0, which l1/job.sh relies on.
qemu_devices() {
	echo "-drive file=$DISKS/nvme0.img,if=none,id=n1,format=raw"
	echo "-device nvme,serial=ffault1,drive=n1,addr=0x3"
	echo "-drive file=$DISKS/nvme1.img,if=none,id=n2,format=raw"
	echo "-device nvme,serial=ffault2,drive=n2,addr=0x4"
}
