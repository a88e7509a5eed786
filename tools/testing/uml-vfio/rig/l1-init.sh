#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the L1 guest (busybox ash). Mounts the basics, loads VFIO,
# binds the devices under test to vfio-pci, sets up the peer NIC, writes
# /uml-root/l1-devices.txt and runs the job named by rig.job= on the kernel
# command line. Every line meant for the caller starts with "RIG-"; see
# README.md for the format. Kernel command line options:
#   rig.job=check|uml|shell|l1shell|script   (default check; script sources
#                           /rig/job.sh, which may use this file's functions)
#   rig.pass=BDF[,BDF...]   pass exactly these devices (default: by kind)
#   rig.uml_timeout=SECONDS (default 600)  rig.uml_mem=SIZE (default 256M)
# Anything after "--" on the kernel command line is appended to UML's.

PATH=/bin
export PATH

mark() { echo "RIG-$*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

finish() {
	mark "RESULT: $*"
	sync
	poweroff -f
	sleep 5
}

setup_fail() {
	mark "ERROR: $*"
	finish "job=$JOB status=fail setup=fail"
}

mount_basics() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/shm /dev/pts /tmp
	# UML maps its memory file from TMPDIR: it must allow exec.
	mount -t tmpfs -o exec,mode=1777 tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t devpts devpts /dev/pts
	# uml_mconsole UMID finds ~/.uml/UMID/mconsole; UML's uml_dir is /dev/shm/uml.
	mkdir -p /root /dev/shm/uml
	ln -s /dev/shm/uml /root/.uml
	HOME=/root
	export HOME
}

# cmdline_opt NAME DEFAULT: value of NAME=... on the kernel command line.
cmdline_opt() {
	local w
	for w in $(cat /proc/cmdline); do
		case $w in
		--) break ;;
		"$1"=*) echo "${w#*=}"; return ;;
		esac
	done
	echo "$2"
}

# load_modules SET: insmod the modules listed in /lib/rig-modules/SET.order.
load_modules() {
	local m
	while read -r m; do
		insmod "/lib/rig-modules/$m" || setup_fail "insmod $m"
	done < "/lib/rig-modules/$1.order"
}

hex4() { sed 's/^0x//' "$1"; }

# kind_of VENDOR:DEVICE
kind_of() {
	case $1 in
	1b36:0010) echo nvme ;;
	1af4:1042) echo virtio-blk ;;
	1af4:1041) echo virtio-net ;;
	8086:10d3) echo e1000e ;;
	8086:100e) echo e1000 ;;
	1b36:0005) echo pci-testdev ;;
	1af4:1110) echo ivshmem ;;
	1033:0194) echo xhci ;;
	8086:2922) echo ahci ;;
	1234:11e8) echo edu ;;
	*) echo other ;;
	esac
}

dev_kind() {
	kind_of "$(hex4 "$1/vendor"):$(hex4 "$1/device")"
}

# Sets PASS (BDFs to hand to UML) and PEER (virtio-net that stays in L1).
# Default policy: every nvme, e1000e, e1000, pci-testdev and ivshmem; the
# first virtio-blk and the first virtio-net in BDF order; the next
# virtio-net is the peer. That is eight devices, virt-pci's limit: the
# xHCI, edu and the other virtio-blk are passed when rig.pass= names them
# (tests/30-rig.sh has a set with them), and so is q35's own AHCI,
# 00:1f.2.
select_devices() {
	local d bdf kind nets=0 blks=0 wanted
	wanted=$(cmdline_opt rig.pass "" | tr ',' ' ')
	PASS=
	PEER=
	for d in /sys/bus/pci/devices/*; do
		bdf=${d##*/}
		kind=$(dev_kind "$d")
		if [ -n "$wanted" ]; then
			case " $wanted " in
			*" $bdf "*) PASS="$PASS $bdf"; continue ;;
			esac
			[ "$kind" = virtio-net ] && [ -z "$PEER" ] && PEER=$bdf
			continue
		fi
		case $kind in
		nvme|e1000e|e1000|pci-testdev|ivshmem) PASS="$PASS $bdf" ;;
		virtio-blk)
			blks=$((blks + 1))
			[ $blks -eq 1 ] && PASS="$PASS $bdf"
			;;
		virtio-net)
			nets=$((nets + 1))
			[ $nets -eq 1 ] && PASS="$PASS $bdf"
			[ $nets -eq 2 ] && PEER=$bdf
			;;
		esac
	done
	[ -n "$PASS" ] || setup_fail "no device to pass through"
}

driver_of() {
	[ -e "$1/driver" ] && basename "$(readlink "$1/driver")"
}

bind_vfio() {
	local bdf=$1 d=/sys/bus/pci/devices/$1
	echo vfio-pci > "$d/driver_override"
	[ -e "$d/driver" ] && echo "$bdf" > "$d/driver/unbind"
	echo "$bdf" > /sys/bus/pci/drivers_probe
	[ "$(driver_of "$d")" = vfio-pci ] || setup_fail "$bdf did not bind to vfio-pci"
}

# Sets GROUP. Every other member of the group must be unbound or on
# vfio-pci/pcieport.
check_group() {
	local bdf=$1 d=/sys/bus/pci/devices/$1 g m drv
	[ -e "$d/iommu_group" ] || setup_fail "$bdf has no IOMMU group (intel_iommu=on?)"
	g=$(basename "$(readlink "$d/iommu_group")")
	[ -c "/dev/vfio/$g" ] || setup_fail "$bdf: /dev/vfio/$g missing"
	for m in "$d"/iommu_group/devices/*; do
		drv=$(driver_of "$m")
		case $drv in
		""|vfio-pci|pcieport) ;;
		*) setup_fail "$bdf: group $g member ${m##*/} is bound to $drv" ;;
		esac
	done
	GROUP=$g
}

# bar_sizes DEVDIR: " bar0=mem:0x4000 bar2=io:0x20 rom=0x40000" from sysfs.
bar_sizes() {
	local i=0 s e f size out=""
	while read -r s e f; do
		[ $i -gt 6 ] && break
		if [ $((e)) -ne 0 ]; then
			size=$(printf '0x%x' $((e - s + 1)))
			if [ $i -eq 6 ]; then
				out="$out rom=$size"
			elif [ $((f & 0x100)) -ne 0 ]; then
				out="$out bar$i=io:$size"
			else
				out="$out bar$i=mem:$size"
			fi
		fi
		i=$((i + 1))
	done < "$1/resource"
	echo "$out"
}

# cfg_byte DEVDIR OFFSET: one byte of the device's config space, decimal.
cfg_byte() {
	od -An -tu1 -j "$2" -N1 "$1/config" | tr -d ' '
}

# irq_kinds DEVDIR: the interrupts the device offers, from its config
# space: msix and msi (capabilities), intx (an interrupt pin); or none.
irq_kinds() {
	local d=$1 pos id ttl=48 out=
	if [ $(($(cfg_byte "$d" 6) & 16)) -ne 0 ]; then
		pos=$(($(cfg_byte "$d" 52) & 252))
		while [ $pos -ge 64 ] && [ $ttl -gt 0 ]; do
			id=$(cfg_byte "$d" $pos)
			case $id in
			5) out="$out,msi" ;;
			17) out="$out,msix" ;;
			esac
			pos=$(($(cfg_byte "$d" $((pos + 1))) & 252))
			ttl=$((ttl - 1))
		done
	fi
	[ "$(cfg_byte "$d" 61)" -ne 0 ] && out="$out,intx"
	out=${out#,}
	echo "${out:-none}"
}

# device_line BDF GROUP: one line of l1-devices.txt.
device_line() {
	local d=/sys/bus/pci/devices/$1
	echo "$1 kind=$(dev_kind "$d") vendor=$(cat "$d/vendor")" \
	     "device=$(cat "$d/device") class=$(cat "$d/class") group=$2" \
	     "irqs=$(irq_kinds "$d")$(bar_sizes "$d")"
}

# dump_rom BDF: L1's own reading of the device's expansion ROM, for UML's
# tests to compare with theirs: /uml-root/l1-rom/BDF (none if L1 cannot
# read it, which UML's test then reports).
dump_rom() {
	local d=/sys/bus/pci/devices/$1
	[ -e "$d/rom" ] || return 0
	mkdir -p /uml-root/l1-rom
	echo 1 > "$d/rom"
	if cat "$d/rom" > "/uml-root/l1-rom/$1"; then
		mark "ROM: $1 bytes=$(wc -c < "/uml-root/l1-rom/$1")"
	else
		rm -f "/uml-root/l1-rom/$1"
		mark "ROM: $1 unreadable"
	fi
	echo 0 > "$d/rom"
}

# bar_text WHERE BAR BDF: what L1 writes into a shared-memory BAR for UML
# to read (guest/bar_test.c expects the same).
bar_text() { echo "uml-vfio rig: $1 of BAR $2 of $3, written by L1"; }

# poke_ivshmem BDF: bar_text at the start and 64 bytes before the end of
# BAR 2 (the shared memory), written through VFIO.
poke_ivshmem() {
	local res s e
	res=$(sed -n 3p "/sys/bus/pci/devices/$1/resource")
	s=$(echo "$res" | cut -d' ' -f1)
	e=$(echo "$res" | cut -d' ' -f2)
	[ $((e)) -ne 0 ] || setup_fail "$1: ivshmem without BAR 2"
	vfio-poke "$1" 2 0 "$(bar_text start 2 "$1")" ||
		setup_fail "$1: writing BAR 2"
	vfio-poke "$1" 2 $((e - s + 1 - 64)) "$(bar_text end 2 "$1")" ||
		setup_fail "$1: writing BAR 2"
}

bind_all() {
	local bdf
	mkdir -p /uml-root
	{
		echo "# L1 view of the passed-through devices, one per line:"
		echo "# BDF kind=K vendor=0xVVVV device=0xDDDD class=0xCCCCCC group=N" \
		     "irqs=msix,msi,intx|none [barI=mem|io:0xSIZE]... [rom=0xSIZE]"
	} > /uml-root/l1-devices.txt
	for bdf in $PASS; do
		bind_vfio "$bdf"
	done
	for bdf in $PASS; do
		check_group "$bdf"
		device_line "$bdf" "$GROUP" >> /uml-root/l1-devices.txt
		dump_rom "$bdf"
		[ "$(dev_kind "/sys/bus/pci/devices/$bdf")" != ivshmem ] ||
			poke_ivshmem "$bdf"
	done
	grep -v '^#' /uml-root/l1-devices.txt | sed 's/^/RIG-DEVICE: /'
}

setup_peer() {
	local d n ifname
	ip link set lo up
	[ -n "$PEER" ] || { mark "PEER: none"; return 0; }
	load_modules peer
	d=/sys/bus/pci/devices/$PEER
	for n in "$d"/virtio*/net/*; do
		[ -e "$n" ] && ifname=${n##*/}
	done
	[ -n "$ifname" ] || setup_fail "peer $PEER has no network interface"
	ip link set "$ifname" up
	ip addr add 10.0.2.1/24 dev "$ifname"
	# More subnets on the same hub, for UML's e1000e and e1000.
	ip addr add 10.0.3.1/24 dev "$ifname"
	ip addr add 10.0.4.1/24 dev "$ifname"
	# TCP echo for UML's byte-exact transfer test (guest/net_test.c).
	nc -ll -p 5001 -e /bin/cat &
	mark "PEER: $PEER if=$ifname addr=10.0.2.1/24,10.0.3.1/24,10.0.4.1/24 echo=tcp:5001 mac=$(cat "/sys/class/net/$ifname/address")"
}

# run_uml CON0 [EXTRA_ARGS...]: UML with every passed device; returns its exit.
run_uml() {
	local con0=$1 b devs=""
	shift
	[ -x /uml/linux ] || { mark "ERROR: no /uml/linux in the initramfs"; return 127; }
	for b in $PASS; do
		devs="$devs vfio_uml.device=$b"
	done
	mkdir -p /dev/shm/uml
	set -- mem="$(cmdline_opt rig.uml_mem 256M)" root=/dev/root rootfstype=hostfs \
		hostfs=/uml-root rw init=/init uml_dir=/dev/shm/uml umid=rig \
		con=null con0="$con0" $devs "$@" $UML_EXTRA
	mark "UML-BEGIN: /uml/linux $*"
	TMPDIR=/dev/shm timeout -s KILL "$(cmdline_opt rig.uml_timeout 600)" /uml/linux "$@"
}

reopen_and_faults() {
	REOPEN=ok
	vfio-reopen $PASS || REOPEN=fail
	dmesg | grep -iE 'DMAR|vfio' | sed 's/^/RIG-DMESG: /'
	FAULTS=$(dmesg | grep -iE 'DMAR' | grep -ci 'fault')
}

job_check() {
	reopen_and_faults
	local st=pass
	[ "$REOPEN" = ok ] && [ "$FAULTS" -eq 0 ] || st=fail
	finish "job=check status=$st reopen=$REOPEN dmar-faults=$FAULTS"
}

job_uml() {
	local rc st=pass
	# Through a pipe: UML makes its stdout non-blocking, which on the
	# console would also drop L1's later lines and any last words of UML
	# (a C library abort message) when the serial line is busy. UML ends
	# lines with CR LF and the console adds its own CR: drop UML's.
	{ run_uml null,fd:1 < /dev/null 2>&1; echo $? > /tmp/uml.rc; } | tr -d '\r'
	rc=$(cat /tmp/uml.rc)
	echo
	mark "UML-END: exit=$rc uptime=$(uptime_s)"
	reopen_and_faults
	[ $rc -eq 0 ] && [ "$REOPEN" = ok ] && [ "$FAULTS" -eq 0 ] || st=fail
	finish "job=uml status=$st uml-exit=$rc reopen=$REOPEN dmar-faults=$FAULTS"
}

# A second L1 shell on the second serial port (rig.term=1, run-l1.sh's
# RIG_TERM), e.g. for uml_mconsole while UML has the console.
start_term() {
	[ "$(cmdline_opt rig.term 0)" = 1 ] || return 0
	setsid sh -c 'stty -F /dev/ttyS1 -echo; echo "L1 shell (uml_mconsole rig help)"; exec sh -i' \
		< /dev/ttyS1 > /dev/ttyS1 2>&1 &
}

job_shell() {
	local rc
	start_term
	run_uml fd:0,fd:1 rig.shell=1
	rc=$?
	echo
	mark "UML-END: exit=$rc"
	echo "L1 shell; exit it to power off"
	setsid cttyhack sh
	finish "job=shell status=done"
}

main() {
	mount_basics
	JOB=$(cmdline_opt rig.job check)
	UML_EXTRA="$*"
	mark "TIME: stage=init uptime=$(uptime_s) job=$JOB"
	load_modules vfio
	select_devices
	bind_all
	setup_peer
	mark "TIME: stage=ready uptime=$(uptime_s)"
	case $JOB in
	check) job_check ;;
	uml) job_uml ;;
	shell) job_shell ;;
	l1shell) setsid cttyhack sh; finish "job=l1shell status=done" ;;
	script)
		[ -f /rig/job.sh ] || setup_fail "rig.job=script without /rig/job.sh"
		. /rig/job.sh
		finish "job=script status=done"
		;;
	*) setup_fail "unknown job $JOB" ;;
	esac
}

main "$@"
