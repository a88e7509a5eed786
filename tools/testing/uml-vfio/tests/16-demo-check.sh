#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The check that makes `make demo` fail (demo.sh check) on made-up console
# logs: it passes a demo that showed everything, and fails one that lacks
# any single piece (a device or its driver, nvme identify data, an I/O
# check, the ping's answer, the end) or has a bad one. No QEMU; takes a
# second.
set -euo pipefail
. "$T/lib.sh"

DIR=$BUILD/demo-check
GOOD=$DIR/good.log

# A demo's console log as the rig writes it (lines end in CR LF).
good_log() {
	sed 's/$/\r/' <<'LOG'
RIG-DEVICE: 0000:00:01.0 kind=nvme vendor=0x1b36 device=0x0010 class=0x010802 group=1 bar0=mem:0x4000
RIG-DEVICE: 0000:00:02.0 kind=nvme vendor=0x1b36 device=0x0010 class=0x010802 group=2 bar0=mem:0x4000
RIG-DEVICE: 0000:00:03.0 kind=virtio-blk vendor=0x1af4 device=0x1042 class=0x010000 group=3 bar1=mem:0x1000 bar4=mem:0x4000
RIG-DEVICE: 0000:00:04.0 kind=virtio-net vendor=0x1af4 device=0x1041 class=0x020000 group=4 bar1=mem:0x1000 bar4=mem:0x4000 rom=0x40000
RIG-DEVICE: 0000:00:06.0 kind=e1000e vendor=0x8086 device=0x10d3 class=0x020000 group=6 bar0=mem:0x20000 bar1=mem:0x20000 bar2=io:0x20 bar3=mem:0x4000
RIG-UML-BEGIN: /uml/linux mem=256M vfio_uml.device=0000:00:01.0 uml.job=demo
UML-INIT-OK job=demo

== UML 7.3.4: PCI devices passed through from L1 via VFIO
  0000:00:00.0  1b36:0010  class 010802  driver nvme
  0000:00:01.0  1b36:0010  class 010802  driver nvme
  0000:00:02.0  1af4:1042  class 010000  driver virtio-pci
  0000:00:03.0  1af4:1041  class 020000  driver virtio-pci
  0000:00:04.0  8086:10d3  class 020000  driver e1000e

== NVMe controller nvme0 (identify data)
  model         QEMU NVMe Ctrl
  serial        rignvme0
  firmware_rev  7.2.22
  transport     pcie
  state         live

== NVMe controller nvme1 (identify data)
  model         QEMU NVMe Ctrl
  serial        rignvme1
  firmware_rev  7.2.22
  transport     pcie
  state         live

== Short I/O check: 4 MiB written to and read back from each block device
  /dev/nvme0n1   ok (sha256 5f0f4d66d75d61a5)
  /dev/nvme1n1   ok (sha256 3a1c7bc95f2fd965)
  /dev/vda       ok (sha256 4b0209d379a94307)

== Ping from UML over the passed-through virtio-net (eth0) to L1
  PING 10.0.2.1 (10.0.2.1): 56 data bytes
  64 bytes from 10.0.2.1: seq=0 ttl=64 time=31.876 ms
  --- 10.0.2.1 ping statistics ---
  5 packets transmitted, 5 packets received, 0% packet loss

== Done
UML-POWEROFF
RIG-UML-END: exit=0 uptime=34.85
RIG-RESULT: job=uml status=pass uml-exit=0 reopen=ok dmar-faults=0
LOG
}

# expect NAME RESULT SED_SCRIPT: demo.sh check on the good log edited by
# SED_SCRIPT exits 0 (RESULT ok), or exits 1 saying what it missed
# (RESULT fails).
expect() {
	local name=$1 want=$2 log=$DIR/case.log rc=0

	sed "$3" "$GOOD" > "$log"
	PROGRESS_FD='' "$T/demo.sh" check "$log" > "$DIR/out" 2>&1 || rc=$?
	if { [ "$want" = ok ] && [ $rc -eq 0 ]; } ||
	   { [ "$want" = fails ] && [ $rc -eq 1 ] && grep_q '^demo: check FAILED: ' "$DIR/out"; }; then
		pass "demo check $want: $name"
	else
		fail "demo check $want: $name" "exit $rc: $(tr '\n' ' ' < "$DIR/out")" "$LOGS/demo-check.log"
		cp "$log" "$LOGS/demo-check.log"
	fi
}

rm -rf "$DIR"
mkdir -p "$DIR"
good_log > "$GOOD"
expect "a demo that showed everything" ok ''
expect "a device bound to no driver" fails 's/8086:10d3  class 020000  driver e1000e/8086:10d3  class 020000  driver none/'
expect "a device missing from UML's list" fails '/^  0000:00:02.0  1af4:1042/d'
expect "an nvme bound to another driver" fails '0,/driver nvme/s/driver nvme/driver vfio-pci/'
expect "an nvme without its serial" fails '/serial        rignvme1/s/rignvme1//'
expect "an nvme that is not live" fails '0,/state         live/s/live/dead/'
expect "an I/O check that read back other data" fails 's|/dev/vda       ok|/dev/vda       MISMATCH|'
expect "a block device without its I/O check" fails '/dev\/nvme1n1   ok/d'
expect "a ping with no answer" fails 's/5 packets received, 0%/0 packets received, 100%/'
expect "a demo cut short before its end" fails '/^== Done/,$d'
expect "an L1 that passed no device" fails '/^RIG-DEVICE: /d'
rm -rf "$DIR"
