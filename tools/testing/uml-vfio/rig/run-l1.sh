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
#   RIG_TERM=PATH   (job shell) a unix socket for L1's second serial port,
#                   with a second L1 shell on it
# Devices: 2x nvme, 1x virtio-blk, 2x virtio-net + 1x e1000e on one
# hubport hub (plus one device-less port) with no host backend. Disk images are fresh sparse files.
# Exit status: 0 if LOG has "RIG-RESULT: ... status=pass" (or the job is
# interactive), 1 otherwise.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$RIG_DIR/../../../.." && pwd)
DISK_MB=128

usage() { die "usage: run-l1.sh JOB LOG [TIMEOUT_SECONDS]"; }

# Hash of everything that goes into the initramfs.
initramfs_key() {
	{
		echo "$L1_KVER"
		cat "$RIG_DIR"/lib.sh "$RIG_DIR"/mkinitramfs.sh "$RIG_DIR"/l1-init.sh \
			"$RIG_DIR"/vfio-reopen.c
		[ -z "$UML" ] || sha256sum < "$UML"
		[ -z "$UML" ] || ldd "$UML" 2>/dev/null || true
		[ -z "$UML_ROOT" ] || tar -C "$UML_ROOT" -c --sort=name --mtime=@0 \
			--owner=0 --group=0 . | sha256sum
		[ -z "$L1_EXTRA" ] || tar -C "$L1_EXTRA" -c --sort=name --mtime=@0 \
			--owner=0 --group=0 . | sha256sum
		echo "${RIG_NO_STRIP:-0} ${RIG_L1_MODULES:-}"
	} | sha256sum | cut -c1-16
}

# Keep the newest few initramfs images.
prune_initramfs() {
	# shellcheck disable=SC2012
	ls -t "$RIG_CACHE"/initramfs-*.cpio.gz 2>/dev/null | tail -n +5 | xargs -r rm -f
}

# Sets INITRD, building it if the cache has no copy for these inputs.
get_initramfs() {
	local args=()
	INITRD=$RIG_CACHE/initramfs-$(initramfs_key).cpio.gz
	if [ -s "$INITRD" ]; then
		log "cached $INITRD"
		touch "$INITRD"
		return 0
	fi
	prune_initramfs
	[ -z "$UML" ] || args+=(--uml "$UML")
	[ -z "$UML_ROOT" ] || args+=(--uml-root "$UML_ROOT")
	[ -z "$L1_EXTRA" ] || args+=(--l1-extra "$L1_EXTRA")
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
	for n in nvme0 nvme1 vblk0; do
		make_disk "$n" "$DISK_MB"
	done
}

qemu_devices() {
	local vio=disable-legacy=on,iommu_platform=on
	echo "-drive file=$DISKS/nvme0.img,if=none,id=nvme0,format=raw"
	echo "-device nvme,serial=rignvme0,drive=nvme0"
	echo "-drive file=$DISKS/nvme1.img,if=none,id=nvme1,format=raw"
	echo "-device nvme,serial=rignvme1,drive=nvme1"
	echo "-drive file=$DISKS/vblk0.img,if=none,id=vblk0,format=raw"
	echo "-device virtio-blk-pci,drive=vblk0,$vio"
	echo "-nic none"
	echo "-netdev hubport,id=net0,hubid=0"
	echo "-device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:01,$vio"
	echo "-netdev hubport,id=net1,hubid=0"
	echo "-device virtio-net-pci,netdev=net1,mac=52:54:00:12:34:02,$vio"
	echo "-netdev hubport,id=net2,hubid=0"
	echo "-device e1000e,netdev=net2,mac=52:54:00:12:34:03"
	# A port with no device accepts and drops: without it the peer's TX
	# stalls while no passed NIC is driven yet (NETDEV WATCHDOG in L1).
	echo "-netdev hubport,id=sink,hubid=0"
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
		-m 2G -smp 2 -nographic -no-reboot -nodefaults \
		-serial "$serial" -monitor none \
		-kernel "$L1_VMLINUZ" -initrd "$INITRD" -append "$append" \
		"$@" $(qemu_devices)
}

main() {
	[ $# -ge 2 ] || usage
	local job=$1 out=$2 secs=${3:-900} rc=0 start
	UML=${UML:-}
	UML_ROOT=${UML_ROOT:-}
	L1_EXTRA=${L1_EXTRA:-}
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
	mkdir -p "$RIG_CACHE" "$(dirname "$out")"
	eval "$("$RIG_DIR/fetch-l1.sh")"
	get_initramfs
	make_disks
	trap 'rm -rf "$DISKS"' EXIT
	log "booting L1 (job=$job, timeout ${secs}s, log $out)"
	start=$(date +%s)
	case $job in
	shell|l1shell)
		run_qemu "$job" "$secs" mon:stdio | tee "$out" || rc=$?
		return 0
		;;
	*)
		run_qemu "$job" "$secs" stdio < /dev/null | tee "$out" || rc=$?
		;;
	esac
	log "QEMU exited with $rc after $(($(date +%s) - start)) s"
	grep -q '^RIG-RESULT: .*status=pass' "$out"
}

main "$@"
