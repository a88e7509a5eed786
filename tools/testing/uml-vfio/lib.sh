# SPDX-License-Identifier: GPL-2.0
# TAP helpers shared by the uml-vfio test scripts. Results are counted in
# files under $TAP_DIR so that every script adds to one summary.

: "${TAP_DIR:?}"

tap_count() {
	local n

	n=$(cat "$TAP_DIR/$1" 2>/dev/null || echo 0)
	echo $((n + 1)) > "$TAP_DIR/$1"
}

tap_num() {
	tap_count total
	cat "$TAP_DIR/total"
}

# pass NAME
pass() {
	tap_count passed
	echo "ok $(tap_num) - $1"
}

# fail NAME REASON [LOG]
fail() {
	tap_count failed
	echo "not ok $(tap_num) - $1"
	echo "#   $2"
	[ -z "${3:-}" ] || echo "#   log: $3"
}

# skip NAME REASON: never counted as a pass.
skip() {
	tap_count skipped
	echo "ok $(tap_num) - $1 # SKIP $2"
}

# grep -q for the end of a pipeline: it reads all of its input, so that
# under pipefail the writer is never killed by SIGPIPE after an early match
# (which would turn a match into a failed pipeline).
grep_q() {
	grep "$@" > /dev/null
}

# busybox_root DIR: a root file system for a UML booted on this machine:
# busybox, and standard input as its /init.
busybox_root() {
	local root=$1

	"$T/scripts/deps.sh" "busybox for UML's root file system" busybox-static
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp}
	cp /bin/busybox "$root/bin/busybox"
	cat > "$root/init"
	chmod +x "$root/init"
}

# local_uml_args ROOT: sets LOCAL_UML_ARGS to the command line of a UML
# booted on this machine from ROOT (see busybox_root), console on stdout.
# Its files go to $UML_TMP, which callers also give it as TMPDIR.
UML_TMP=$BUILD/uml-tmp
local_uml_args() {
	mkdir -p "$UML_TMP"
	LOCAL_UML_ARGS=(uml_dir="$UML_TMP" root=/dev/root rootfstype=hostfs
		hostfs="$1" rw init=/init con=null con0=null,fd:1)
}

# The rig's devices (rig/run-l1.sh) are more than the eight virt-pci
# holds. L1 passes eight by default (rig/l1-init.sh); this is the other
# set, for rig.pass=: the devices with each kind of interrupt (the
# virtio-blk on INTx, the xHCI on MSI, edu), with both nvme, the first
# virtio-blk, the virtio-net and the e1000e.
RIG_SET_IRQ=0000:00:01.0,0000:00:02.0,0000:00:03.0,0000:00:04.0,0000:00:05.0,0000:00:06.0,0000:00:07.0,0000:00:09.0
# The debug UML's set: a device of each interrupt kind and of each BAR
# kind (the e1000's I/O BAR and ROM, ivshmem's 512 MiB BAR), both nvme.
RIG_SET_DEBUG=0000:00:01.0,0000:00:02.0,0000:00:04.0,0000:00:05.0,0000:00:06.0,0000:00:07.0,0000:00:0b.0,0000:00:0c.0

# Lines that no run may print.
BAD_LINES='WARNING:|BUG:|Oops|Kernel panic|cut here|Unknown parameter|invalid for parameter'

tap_summary() {
	local p f s

	p=$(cat "$TAP_DIR/passed" 2>/dev/null || echo 0)
	f=$(cat "$TAP_DIR/failed" 2>/dev/null || echo 0)
	s=$(cat "$TAP_DIR/skipped" 2>/dev/null || echo 0)
	echo "1..$((p + f + s))"
	echo "$p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ]
}
