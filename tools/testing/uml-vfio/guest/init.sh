#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of UML's root (hostfs) in the rig. uml.job= on UML's command line
# says what to do: "tests" runs every *_test program, "demo" the demo,
# "shell" (or rig.shell=1, from the rig's shell job) an interactive shell.
# Then UML powers off.

# /proc first: Debian's busybox finds its applets through /proc/self/exe.
/bin/busybox mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin TERM=vt100

job=$(sed -n 's/.*uml\.job=\([a-z]*\).*/\1/p' /proc/cmdline)
grep -q 'rig\.shell=1' /proc/cmdline && job=shell
echo "UML-INIT-OK job=$job uptime=$(cut -d' ' -f1 /proc/uptime)"
# uml.data_mib=N: how much data the block tests move per device.
data_mib=$(sed -n 's/.*uml\.data_mib=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -z "$data_mib" ] || export UML_TEST_DATA_MIB=$data_mib
# The driver's switches as UML applied them, for the rig to check.
echo "UML-PARAMS mmap=$(cat /sys/module/vfio_uml/parameters/mmap) direct=$(cat /sys/module/vfio_uml/parameters/direct) dma=$(cat /sys/module/vfio_uml/parameters/dma)"

run_tests() {
	local t rc

	for t in /tests/*_test; do
		echo "UML-TEST-BEGIN $(basename "$t")"
		rc=0
		"$t" 2>&1 || rc=$?
		echo "UML-TEST-END $(basename "$t") uptime=$(cut -d' ' -f1 /proc/uptime) rc=$rc"
	done
}

case $job in
tests)	run_tests ;;
demo)	sh /demo.sh ;;
shell)	echo "UML shell: 'poweroff -f' (or Ctrl-D) leaves UML and the rig."
	setsid cttyhack sh -l ;;
*)	echo "UML: unknown uml.job='$job'" ;;
esac
echo "UML-POWEROFF"
poweroff -f
