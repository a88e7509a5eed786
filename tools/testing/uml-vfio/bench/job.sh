# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
# /rig/job.sh of the benchmark (busybox ash), sourced by rig/l1-init.sh
# with rig.job=script once the devices are bound to vfio-pci and the peer
# (10.0.2.1) is up; it uses l1-init.sh's functions and $PASS. Devices: see
# devices.sh. Kernel command line (RIG_APPEND):
#   bench.boot=N             which boot this is; the column order rotates
#   bench.cols=a,b,...       native, uml, uml_upstream, uml_eager,
#                            uml_strict, uml_nommap, uml_nodirect, uml_v1,
#                            uml_v2, uml_v3
#   bench.v1=ARG,ARG...      UML arguments of column uml_v1, commas for
#                            spaces (bench.v2, bench.v3 likewise); its UML
#                            is /rig/uml-v1/linux if there, else ours
#   bench.runtime=S bench.pings=N bench.tcp=S bench.probes=N bench.idle=S
#   bench.bootreps=N         boot-time runs of column uml per L1 boot
#   bench.rounds=N           N-1 more 256M runs of uml, uml_upstream and
#                            uml_eager after the first round, in rotating
#                            order, so that the report can pair them (runs
#                            next to each other in time share the host's
#                            load)
#   bench.mode=irqtrace      instead of the suite, one UML run per column
#                            and round with L1's tracing on around the
#                            module's timed reads (make irqtrace; uml and
#                            uml_upstream only)
#   bench.cmds=N             reads per mode of the module in irqtrace mode
# Every column's raw output is printed between BENCH-FILE-BEGIN/END lines;
# BENCH-PROGRESS lines say what runs. Ends with RIG-RESULT (status=pass
# when every column ran; no timing is judged here).

BENCH_HOME=/uml-root/bench
OUT=/uml-root/results
L1_NVME=0000:00:04.0
L1_NIC=0000:00:07.0
L1_E1000E=0000:00:09.0
TRACE=/sys/kernel/tracing
FIO_LIBS=/uml-root/lib/x86_64-linux-gnu:/uml-root/usr/lib/x86_64-linux-gnu:/uml-root/usr/lib/x86_64-linux-gnu/ceph

progress() {
	echo "BENCH-PROGRESS: boot=$BOOT round=$ROUND $* uptime=$(uptime_s)"
}

# Debian's fio and its libraries live in UML's root; run them from there.
fio_cmd() {
	timeout 120 /uml-root/lib64/ld-linux-x86-64.so.2 --library-path "$FIO_LIBS" \
		/uml-root/usr/bin/fio "$@"
}

# L1's own nvme (L1_BLK), e1000e and client NIC, the last in a network
# namespace (NSPID). The "extra" modules are nvme and e1000e: the passed
# e1000e is on vfio-pci (driver_override) by now, so e1000e takes only L1's.
bench_setup() {
	local d n ifname="" e1000e="" i=0

	load_modules extra
	while [ -z "${L1_BLK:-}" ] && [ $i -lt 100 ]; do
		for d in "/sys/bus/pci/devices/$L1_NVME"/nvme/nvme*/nvme*n1; do
			[ -e "$d" ] && L1_BLK=${d##*/}
		done
		i=$((i + 1))
		usleep 100000
	done
	[ -n "${L1_BLK:-}" ] || setup_fail "L1's nvme $L1_NVME has no namespace"
	for n in "/sys/bus/pci/devices/$L1_NIC"/virtio*/net/*; do
		[ -e "$n" ] && ifname=${n##*/}
	done
	[ -n "$ifname" ] || setup_fail "L1's client NIC $L1_NIC has no interface"
	for n in "/sys/bus/pci/devices/$L1_E1000E"/net/*; do
		[ -e "$n" ] && e1000e=${n##*/}
	done
	[ -n "$e1000e" ] || setup_fail "L1's e1000e $L1_E1000E has no interface"
	for d in $PASS; do
		n=$(driver_of "/sys/bus/pci/devices/$d")
		[ "$n" = vfio-pci ] || setup_fail "passed device $d is on ${n:-no driver}, not vfio-pci"
	done
	unshare -n sleep 1000000 &
	NSPID=$!
	usleep 200000
	ip link set dev "$ifname" netns "$NSPID" || setup_fail "cannot move $ifname to a netns"
	nsenter -t "$NSPID" -n ip link set lo up
	nsenter -t "$NSPID" -n ip link set "$ifname" up
	nsenter -t "$NSPID" -n ip addr add 10.0.2.3/24 dev "$ifname"
	"$BENCH_HOME/bin/netbench" sink 5002 &
	# UML's memory file lives here; eager mode pins all of mem=4G, more
	# than the default half of RAM.
	mount -o remount,size=90% /dev/shm
	echo "BENCH-SETUP: l1-nvme=$L1_NVME blk=$L1_BLK l1-nic=$ifname l1-e1000e=$e1000e netns=$NSPID pass=$PASS"
}

col_native() {
	local o=$OUT/native

	mkdir -p "$o"
	grep -c '^processor' /proc/cpuinfo > "$o/cpus.txt"
	progress "col=native step=fio"
	suite_io "/dev/$L1_BLK" "$o"
	progress "col=native step=net"
	NET_PREFIX="nsenter -t $NSPID -n"
	suite_net "$o"
	NET_PREFIX=
	progress "col=native step=probe"
	suite_probe "$o" nvme nvme "$L1_NVME" "/sys/bus/pci/devices/$L1_NVME/nvme/nvme*/nvme*n1"
	suite_probe "$o" e1000e e1000e "$L1_E1000E" "/sys/bus/pci/devices/$L1_E1000E/net/*"
	progress "col=native step=irq"
	suite_irq "$o" /rig/irqtest.ko "$L1_NVME"
	progress "col=native step=mmio"
	suite_mmio "$L1_NVME" /rig/bench_nvme.ko "$o"
}

# uml_run COL BIN KMOD NAME MEM DEVICES(0|1) TASK [UML ARGS...]
uml_run() {
	local col=$1 bin=$2 kmod=$3 name=$4 mem=$5 withdev=$6 task=$7 nodev=1 devs="" b

	shift 7
	if [ "$withdev" = 1 ]; then
		nodev=0
		for b in $PASS; do
			devs="$devs vfio_uml.device=$b"
		done
	fi
	progress "col=$col step=$name"
	rm -rf /dev/shm/uml
	mkdir -p /dev/shm/uml "$OUT/$col"
	# shellcheck disable=SC2086 # devs is a list of arguments
	TMPDIR=/dev/shm "$BENCH_HOME/bin/tsrun" BENCH-READY timeout -s KILL 600 "$bin" \
		mem="$mem" root=/dev/root rootfstype=hostfs hostfs=/uml-root rw init=/init \
		uml_dir=/dev/shm/uml con=null con0=null,fd:1 loglevel=4 printk.time=1 \
		bench.task="$task" bench.col="$col" bench.kmod="$kmod" bench.nodev=$nodev \
		bench.runtime="$BENCH_RUNTIME" bench.pings="$BENCH_PINGS" bench.tcp="$BENCH_TCP_SECS" bench.probes="$BENCH_PROBES" bench.idle="$BENCH_IDLE" \
		$devs "$@" < /dev/null > "$OUT/$col/$name.log" 2>&1
	echo "exit=$?" >> "$OUT/$col/$name.log"
}

# boot_runs COL BIN KMOD SUFFIX [UML ARGS...]: one set of boot-time runs,
# their logs named uml-SIZE[-nodev]SUFFIX.log
boot_runs() {
	local col=$1 bin=$2 kmod=$3 s=$4

	shift 4
	uml_run "$col" "$bin" "$kmod" "uml-ready-256m$s" 256M 1 ready "$@"
	uml_run "$col" "$bin" "$kmod" "uml-1g$s" 1G 1 ready "$@"
	case $col in
	uml_upstream)
		uml_run "$col" "$bin" "$kmod" "uml-nodev-256m$s" 256M 0 ready "$@"
		return
		;;
	esac
	uml_run "$col" "$bin" "$kmod" "uml-4g$s" 4G 1 ready "$@"
	[ "$col" = uml ] || return 0
	uml_run "$col" "$bin" "$kmod" "uml-nodev-256m$s" 256M 0 ready "$@"
	uml_run "$col" "$bin" "$kmod" "uml-nodev-1g$s" 1G 0 ready "$@"
	uml_run "$col" "$bin" "$kmod" "uml-nodev-4g$s" 4G 0 ready "$@"
}

# col_uml COL BIN KMOD [UML ARGS...]: the boot-time runs only in round 1:
# ours in each DMA mode at 256M, 1G and 4G, and without a device at each
# size (uml only: the DMA mode makes no difference there); upstream's at
# 256M and 1G and without a device at 256M (it cannot map UML memory past
# the MSI window at 0xfee00000, so not at 4G). The 256M boot-time run is
# its own boot, like the others, not the full run's: that one is each
# column's first UML in the round. Column uml, whose boot times the
# issue's goals compare, boots each kind BOOT_REPS times, in turns (the
# report takes their median): one boot of each is too noisy under TCG.
col_uml() {
	local col=$1 bin=$2 kmod=$3 r=2

	shift 3
	uml_run "$col" "$bin" "$kmod" uml-256m 256M 1 full "$@"
	[ "$ROUND" = 1 ] || return 0
	case $col in
	uml_nommap | uml_nodirect | uml_v[123]) return ;;
	esac
	boot_runs "$col" "$bin" "$kmod" "" "$@"
	[ "$col" = uml ] || return 0
	while [ "$r" -le "$BOOT_REPS" ]; do
		boot_runs "$col" "$bin" "$kmod" "-r$r" "$@"
		r=$((r + 1))
	done
}

dump_col() {
	local f

	for f in "$OUT/$1"/*; do
		[ -f "$f" ] || continue
		echo "BENCH-FILE-BEGIN: boot=$BOOT round=$ROUND col=$1 name=${f##*/}"
		cat "$f"
		echo
		echo "BENCH-FILE-END"
	done
}

# rotate K WORD...: the words rotated left by K
rotate() {
	local k=$1

	shift
	k=$((k % $#))
	while [ "$k" -gt 0 ]; do
		set -- "$@" "$1"
		shift
		k=$((k - 1))
	done
	echo "$@"
}

# trace_event SYSTEM/EVENT FILTER: record EVENT where FILTER holds
trace_event() {
	echo "$2" > "$TRACE/events/$1/filter" &&
		echo 1 > "$TRACE/events/$1/enable"
}

# irqtrace_setup: L1's tracing off and empty, with the events an interrupt
# takes on its way to UML's handler (see irqtrace.py). Every thread of a
# UML is called "linux". bench_nvme.ko turns tracing on around its timed
# reads and marks each one in the trace.
irqtrace_setup() {
	[ -d "$TRACE/events" ] || mount -t tracefs nodev "$TRACE" || return 1
	echo 0 > "$TRACE/tracing_on"
	echo > "$TRACE/set_event"
	echo mono > "$TRACE/trace_clock"
	echo 8192 > "$TRACE/buffer_size_kb"
	echo 1 > "$TRACE/options/record-tgid"
	echo > "$TRACE/trace"
	trace_event irq/irq_handler_entry 'name ~ "vfio*"' &&
	trace_event sched/sched_waking 'comm == "linux"' &&
	trace_event sched/sched_wakeup 'comm == "linux"' &&
	trace_event sched/sched_switch 'prev_comm == "linux" || next_comm == "linux"' &&
	trace_event raw_syscalls/sys_enter 'comm == "linux"' &&
	trace_event raw_syscalls/sys_exit 'comm == "linux"' &&
	trace_event signal/signal_generate 'sig == 29' &&
	trace_event signal/signal_deliver 'sig == 29'
}

# variant_args COL: the UML arguments of column uml_vN, one a line
variant_args() {
	cmdline_opt "bench.${1#uml_}" "" | tr , '\n'
}

# variant_bin COL / variant_kmod COL: column uml_vN's UML and module set:
# another build's (bench.sh's BENCH_TREE_VN) if given, else ours
variant_bin() {
	if [ -x "/rig/uml-${1#uml_}/linux" ]; then
		echo "/rig/uml-${1#uml_}/linux"
	else
		echo /uml/linux
	fi
}

variant_kmod() {
	if [ -x "/rig/uml-${1#uml_}/linux" ]; then
		echo "${1#uml_}"
	else
		echo ours
	fi
}

# col_irqtrace COL BIN KMOD [UML ARGS...]: one UML run tracing the module's
# reads; the trace goes out gzip'd, in base64
col_irqtrace() {
	local o=$OUT/$1 col=$1 bin=$2 kmod=$3

	mkdir -p "$o"
	if ! irqtrace_setup; then
		echo "BENCH-ERROR: L1 cannot trace (tracefs)"
		return 1
	fi
	shift 3
	uml_run "$col" "$bin" "$kmod" irqtrace 256M 1 irqtrace bench.cmds="$BENCH_CMDS" "$@"
	echo 0 > "$TRACE/tracing_on"
	gzip -c "$TRACE/trace" | base64 > "$o/trace.gz.b64"
	echo > "$TRACE/trace"
}

# run_col COL: one column's runs, then its raw files
# shellcheck disable=SC2046 # variant_args: one argument a line
run_col() {
	rm -rf "${OUT:?}/$1"
	if [ "$MODE" = irqtrace ]; then
		case $1 in
		uml) col_irqtrace uml /uml/linux ours ;;
		uml_upstream) col_irqtrace uml_upstream /rig/uml-upstream/linux upstream ;;
		uml_v[123]) col_irqtrace "$1" "$(variant_bin "$1")" "$(variant_kmod "$1")" $(variant_args "$1") ;;
		*) echo "BENCH-ERROR: column $1 has no irqtrace mode"; return 1 ;;
		esac
		dump_col "$1"
		return
	fi
	case $1 in
	native) col_native ;;
	uml) col_uml uml /uml/linux ours ;;
	uml_upstream) col_uml uml_upstream /rig/uml-upstream/linux upstream ;;
	uml_nommap) col_uml uml_nommap /uml/linux ours vfio_uml.mmap=0 ;;
	uml_nodirect) col_uml uml_nodirect /uml/linux ours vfio_uml.direct=0 ;;
	uml_eager) col_uml uml_eager /uml/linux ours vfio_uml.dma=eager ;;
	uml_strict) col_uml uml_strict /uml/linux ours vfio_uml.dma=strict ;;
	uml_v[123]) col_uml "$1" "$(variant_bin "$1")" "$(variant_kmod "$1")" $(variant_args "$1") ;;
	*) echo "BENCH-ERROR: unknown column $1"; return 1 ;;
	esac
	dump_col "$1"
}

bench_main() {
	local c cols pair="" rounds faults ran=0 want=0

	BOOT=$(cmdline_opt bench.boot 1)
	MODE=$(cmdline_opt bench.mode bench)
	BENCH_CMDS=$(cmdline_opt bench.cmds 200)
	ROUND=1
	rounds=$(cmdline_opt bench.rounds 1)
	BENCH_RUNTIME=$(cmdline_opt bench.runtime 3)
	BENCH_PINGS=$(cmdline_opt bench.pings 100)
	BENCH_TCP_SECS=$(cmdline_opt bench.tcp 8)
	BENCH_PROBES=$(cmdline_opt bench.probes 7)
	BENCH_IDLE=$(cmdline_opt bench.idle 5)
	BOOT_REPS=$(cmdline_opt bench.bootreps 3)
	# shellcheck source=guest/suite.sh
	. "$BENCH_HOME/suite.sh"
	bench_setup
	cols=$(cmdline_opt bench.cols native,uml,uml_upstream | tr , ' ')
	for c in $cols; do
		case $c in
		uml | uml_upstream | uml_eager) pair="$pair $c" ;;
		esac
	done
	# shellcheck disable=SC2086 # lists of words
	while :; do
		for c in $(rotate $((BOOT + ROUND - 2)) $cols); do
			want=$((want + 1))
			run_col "$c" && ran=$((ran + 1))
		done
		if [ "$ROUND" -ge "$rounds" ] || { [ -z "$pair" ] && [ "$MODE" != irqtrace ]; }; then
			break
		fi
		ROUND=$((ROUND + 1))
		# Later rounds: only the paired columns, their order rotating
		# (irqtrace: every column again).
		[ "$MODE" = irqtrace ] || cols=$pair
	done
	progress "step=done"
	dmesg | grep -iE 'DMAR|vfio' | sed 's/^/RIG-DMESG: /'
	faults=$(dmesg | grep -iE 'DMAR' | grep -ci 'fault')
	c=pass
	[ "$ran" -eq "$want" ] || c=fail
	finish "job=script status=$c boot=$BOOT columns=$ran/$want dmar-faults=$faults"
}

bench_main
