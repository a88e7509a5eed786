#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the L1 guest under QEMU (TCG, q35 + intel-iommu) with the test
# devices and run one rig job in it; L1's console goes to stdout and LOG.
#
# Usage: run-l1.sh JOB LOG [TIMEOUT_SECONDS]
#   JOB: check | uml | shell | l1shell   (see l1-init.sh)
#   TIMEOUT_SECONDS: for the whole QEMU run (default 900)
# Env:
#   UML=PATH        UML binary to put in L1 (default: $REPO/build/uml/linux
#                   if it exists; required for uml and shell)
#   UML_ROOT=DIR    extra files for UML's hostfs root (see mkinitramfs.sh)
#   L1_EXTRA=DIR    files for /rig in L1; DIR/job.sh is run by JOB "script"
#   RIG_L1_MODULES="..." extra L1 modules for job scripts (mkinitramfs.sh)
#   RIG_DEVICES=FILE  bash file defining qemu_devices() to replace the
#                   default device set (it may call make_disk NAME MB and
#                   use $DISKS/NAME.img)
#   UML_ARGS="..."  appended to UML's command line
#   RIG_APPEND="..." appended to L1's kernel command line (rig.pass=...,
#                   rig.uml_timeout=..., rig.uml_mem=...)
#   RIG_MEM=SIZE    L1's RAM (default 2G; host RAM is only used as L1
#                   touches it)
#   RIG_TERM=PATH   (job shell) a unix socket for L1's second serial port,
#                   with a second L1 shell on it
#   RIG_BOOT_PROGRESS=SECONDS  while L1 runs a non-interactive job, say
#                   every SECONDS (default 60; 0: never) how long it has
#                   run and its last rig line
#   PROGRESS_FD=N   where the steps and progress go (../scripts/lib.sh)
#   L1_KERNEL_VERSION  the L1 kernel to use instead of the pinned one
#                   (fetch-l1.sh)
# Devices, at fixed addresses so that rig.pass= can name them (RIG_SET_IRQ
# and RIG_SET_DEBUG of ../lib.sh do):
#   00:01.0, 00:02.0  nvme (MSI-X)
#   00:03.0  virtio-blk (MSI-X)       00:04.0  virtio-blk, vectors=0 (INTx)
#   00:05.0  xHCI, MSI only, with a USB disk
#   00:06.0  edu (MSI and INTx)
#   00:07.0  virtio-net (for UML)     00:08.0  virtio-net (L1's peer)
#   00:09.0  e1000e                   00:0c.0  e1000 (INTx only, I/O BAR)
#   00:0a.0  pci-testdev (an I/O BAR, a 256 MiB BAR)
#   00:0b.0  ivshmem-plain (a 512 MiB BAR)
# The NICs share one hubport hub (plus one device-less port) with no host
# backend. Disk images are fresh sparse files. UML takes at most eight
# (virt-pci's limit): see l1-init.sh for which it gets by default.
# Exit status: 0 if LOG has "RIG-RESULT: ... status=pass" (or status=done:
# a script job ran to its end; or the job is interactive), 1 otherwise,
# with a message on stderr that names the step that failed. LOG exists
# whatever happens.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$RIG_DIR/../../../.." && pwd)
DISK_MB=128

usage() { die "usage: run-l1.sh JOB LOG [TIMEOUT_SECONDS]"; }

# Hash of everything that goes into the initramfs.
initramfs_key() {
	{
		echo "$L1_KVER $L1_VERSION"
		cat "$RIG_DIR"/lib.sh "$RIG_DIR"/mkinitramfs.sh "$RIG_DIR"/l1-init.sh \
			"$RIG_DIR"/vfio-reopen.c "$RIG_DIR"/vfio-poke.c
		[ -z "$UML" ] || sha256sum < "$UML"
		[ -z "$UML" ] || ldd "$UML" 2>/dev/null || true
		[ -z "$UML_ROOT" ] || tar -C "$UML_ROOT" -c --sort=name --mtime=@0 \
			--owner=0 --group=0 . | sha256sum
		[ -z "$L1_EXTRA" ] || tar -C "$L1_EXTRA" -c --sort=name --mtime=@0 \
			--owner=0 --group=0 . | sha256sum
		echo "${RIG_NO_STRIP:-0} ${RIG_L1_MODULES:-}"
	} | sha256sum | cut -c1-16
}

# Keep the newest few initramfs images. A first run has none: the glob
# then matches nothing, which must not fail.
prune_initramfs() {
	local images=() f

	for f in "$RIG_CACHE"/initramfs-*.cpio.gz; do
		[ ! -e "$f" ] || images+=("$f")
	done
	[ ${#images[@]} -gt 4 ] || return 0
	# shellcheck disable=SC2012
	ls -t "${images[@]}" | tail -n +5 | while read -r f; do
		rm -f "$f"
	done
}

# Sets INITRD, building it if the cache has no copy for these inputs.
get_initramfs() {
	local args=()

	quiet_step "looking for a cached initramfs"
	INITRD=$RIG_CACHE/initramfs-$(initramfs_key).cpio.gz
	if [ -s "$INITRD" ]; then
		log "cached $INITRD"
		touch "$INITRD"
		return 0
	fi
	quiet_step "pruning old initramfs images in $RIG_CACHE"
	prune_initramfs
	[ -z "$UML" ] || args+=(--uml "$UML")
	[ -z "$UML_ROOT" ] || args+=(--uml-root "$UML_ROOT")
	[ -z "$L1_EXTRA" ] || args+=(--l1-extra "$L1_EXTRA")
	step "building the L1 initramfs $(basename "$INITRD") (first run with these inputs)"
	"$RIG_DIR/mkinitramfs.sh" "$INITRD" "${args[@]}"
}

# make_disk NAME MB: a sparse image $DISKS/NAME.img with a label at offset
# 0, so that tests can tell the disks apart.
make_disk() {
	truncate -s "${2}M" "$DISKS/$1.img"
	printf 'uml-vfio rig disk %s\n' "$1" |
		dd of="$DISKS/$1.img" conv=notrunc status=none
}

# Sets DISKS to a fresh directory of sparse images.
make_disks() {
	local n
	DISKS=$(mktemp -d "$RIG_CACHE/disks.XXXXXX")
	for n in nvme0 nvme1 vblk0 vblk1 usb0; do
		make_disk "$n" "$DISK_MB"
	done
}

qemu_devices() {
	local vio=disable-legacy=on,iommu_platform=on
	echo "-drive file=$DISKS/nvme0.img,if=none,id=nvme0,format=raw"
	echo "-device nvme,serial=rignvme0,drive=nvme0,addr=0x1"
	echo "-drive file=$DISKS/nvme1.img,if=none,id=nvme1,format=raw"
	echo "-device nvme,serial=rignvme1,drive=nvme1,addr=0x2"
	echo "-drive file=$DISKS/vblk0.img,if=none,id=vblk0,format=raw"
	echo "-device virtio-blk-pci,drive=vblk0,$vio,addr=0x3"
	# Interrupts of each kind: INTx only (no MSI-X vector), MSI only
	# (16 messages, of which xhci_hcd uses one per CPU plus one) and
	# edu (MSI and INTx, for guest/irqtest).
	echo "-drive file=$DISKS/vblk1.img,if=none,id=vblk1,format=raw"
	echo "-device virtio-blk-pci,drive=vblk1,vectors=0,$vio,addr=0x4"
	echo "-device nec-usb-xhci,id=xhci,msix=off,addr=0x5"
	echo "-drive file=$DISKS/usb0.img,if=none,id=usb0,format=raw"
	echo "-device usb-storage,drive=usb0,bus=xhci.0"
	echo "-device edu,addr=0x6"
	echo "-nic none"
	echo "-netdev hubport,id=net0,hubid=0"
	echo "-device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:01,$vio,addr=0x7"
	echo "-netdev hubport,id=net1,hubid=0"
	echo "-device virtio-net-pci,netdev=net1,mac=52:54:00:12:34:02,$vio,addr=0x8"
	echo "-netdev hubport,id=net2,hubid=0"
	echo "-device e1000e,netdev=net2,mac=52:54:00:12:34:03,addr=0x9"
	# An I/O BAR of known content (and a memory BAR with the same), and a
	# second large 64-bit BAR (256 MiB, with nothing behind it).
	echo "-device pci-testdev,membar=256M,addr=0xa"
	# A large 64-bit BAR: 512 MiB of shared memory, touched only where
	# the rig writes.
	echo "-object memory-backend-ram,id=shm0,size=512M,share=on"
	echo "-device ivshmem-plain,memdev=shm0,addr=0xb"
	# INTx only, with an I/O BAR the driver claims.
	echo "-netdev hubport,id=net3,hubid=0"
	echo "-device e1000,netdev=net3,mac=52:54:00:12:34:04,addr=0xc"
	# A port with no device accepts and drops: without it the peer's TX
	# stalls while no passed NIC is driven yet (NETDEV WATCHDOG in L1).
	echo "-netdev hubport,id=sink,hubid=0"
}

# The lines of L1's console that say how far a job has got.
MARKS='^(RIG-(TIME|PEER|UML-BEGIN|UML-END|ERROR|RESULT)|UML-TEST-BEGIN|FAULT-CASE-BEGIN|BENCH-PROGRESS)'

# boot_line LOG TIMEOUT START: how long L1 has run and the last of its
# MARKS lines so far.
boot_line() {
	local last

	last=$(grep -a -E "$MARKS" "$1" 2> /dev/null | tail -n 1 | tr -d '\r' || true)
	say "L1 has run $(mmss $((SECONDS - $3))) (timeout $(mmss "$2"))${last:+; last: ${last:0:100}}"
}

# The job's result: 0 if LOG's RIG-RESULT line says pass (or done).
check_result() {
	local out=$1 result

	quiet_step "reading the RIG-RESULT line of $out"
	result=$(grep -a '^RIG-RESULT: ' "$out" | tr -d '\r' | tail -n 1 || true)
	case $result in
	*" status=pass"* | *" status=done"*) return 0 ;;
	"") die "L1 printed no RIG-RESULT line (QEMU exit $QEMU_RC; 124: timeout): $out" ;;
	*) die "L1's job failed: $result" ;;
	esac
}

# run_qemu JOB TIMEOUT SERIAL: QEMU's stdout is L1's serial console.
run_qemu() {
	local job=$1 secs=$2 serial=$3 append
	shift 3
	append="console=ttyS0 intel_iommu=on panic=-1 loglevel=4 rig.job=$job"
	if [ -n "${RIG_TERM:-}" ]; then
		rm -f "$RIG_TERM"
		set -- -serial "unix:$RIG_TERM,server=on,wait=off"
		append="$append rig.term=1"
	fi
	append="$append ${RIG_APPEND:-} -- ${UML_ARGS:-}"
	# shellcheck disable=SC2046
	timeout --foreground -k 10 "$secs" qemu-system-x86_64 \
		-accel tcg,thread=single -cpu max \
		-machine q35,kernel-irqchip=split \
		-device intel-iommu,intremap=on,caching-mode=on \
		-m "${RIG_MEM:-2G}" -smp 2 -nographic -no-reboot -nodefaults \
		-serial "$serial" -monitor none \
		-kernel "$L1_VMLINUZ" -initrd "$INITRD" -append "$append" \
		"$@" $(qemu_devices)
}

DISKS=
cleanup() {
	[ -z "$DISKS" ] || rm -rf "$DISKS"
}

main() {
	[ $# -ge 2 ] || usage
	local job=$1 out=$2 secs=${3:-900} start every=${RIG_BOOT_PROGRESS:-60}
	QEMU_RC=0
	UML=${UML:-}
	UML_ROOT=${UML_ROOT:-}
	L1_EXTRA=${L1_EXTRA:-}
	# The callers read LOG whatever happens.
	mkdir -p "$(dirname "$out")"
	: > "$out"
	if [ -n "${RIG_DEVICES:-}" ]; then
		# shellcheck source=/dev/null
		. "$RIG_DEVICES"
	fi
	if [ -z "$UML" ] && [ -x "$REPO/build/uml/linux" ]; then
		UML=$REPO/build/uml/linux
	fi
	case $job in
	uml|shell) [ -n "$UML" ] || die "job $job needs a UML binary (UML=PATH)" ;;
	esac
	ensure_pkgs "to run the L1 guest" qemu-system-x86
	mkdir -p "$RIG_CACHE"
	quiet_step "getting the L1 kernel (fetch-l1.sh)"
	load_l1_kernel
	get_initramfs
	quiet_step "making the disk images"
	make_disks
	quiet_step "booting L1 (job=$job, kernel $L1_KVER, timeout ${secs} s, log $out)"
	start=$SECONDS
	case $job in
	shell|l1shell)
		run_qemu "$job" "$secs" mon:stdio | tee "$out" || QEMU_RC=$?
		return 0
		;;
	esac
	if [ "$every" -gt 0 ]; then
		every "$every" boot_line "$out" "$secs" "$start" &
		PROGRESS_PID=$!
	fi
	run_qemu "$job" "$secs" stdio < /dev/null | tee "$out" || QEMU_RC=$?
	progress_stop
	log "QEMU exited with $QEMU_RC after $((SECONDS - start)) s"
	check_result "$out"
}

main "$@"
