#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: compare, in the same L1 boots, one emulated nvme and one
# virtio-net driven by L1's own drivers ("native"), by UML with our driver
# ("uml"), by UML built from the untouched base tree with upstream's driver
# ("uml_upstream"), by ours in the other DMA modes ("uml_eager",
# "uml_strict") and, when the driver has vfio_uml.mmap=, by ours with BAR
# mmap off ("uml_nommap"). See README.md in this directory.
#
# Usage: bench.sh
# Env: BENCH_BOOTS (3) BENCH_ROUNDS (3: runs of uml, uml_upstream and
#      uml_eager per boot, paired) BENCH_RUNTIME (3 s per fio job) BENCH_PINGS (100)
#      BENCH_TCP_SECS (8) BENCH_PROBES (7 timed binds per device and column)
#      BENCH_IDLE_SECS (5: idle time of each full UML run, its CPU measured)
#      BENCH_BOOT_REPS (3: boot-time runs of column uml per boot, median)
#      UML_VFIO_CACHE (~/.cache/uml-vfio)
#      BENCH_COLS=native,uml,... (default: all that apply)
#      BENCH_V1, BENCH_V2, BENCH_V3: UML arguments of the columns uml_v1,
#      uml_v2, uml_v3 (ours with them; comma-separated; only when named in
#      BENCH_COLS); BENCH_TREE_V1 (..._V3): that column runs the UML built
#      in another clone of this repository instead of ours (its build/uml
#      and build/linux; e.g. a clone of main, for before and after)
#      BENCH_MODE=irqtrace (make irqtrace): instead of the suite, only
#      bench_nvme.ko's interrupt test with L1's tracing on, laid out step by
#      step by irqtrace.py (defaults: 1 boot, 2 rounds, columns uml and
#      uml_upstream, BENCH_CMDS=200 reads per mode)
# Writes build/bench/{results.json,samples.json,table.txt,table.md,chart.png}
# and the L1 console logs in build/bench/logs/ (irqtrace: build/irqtrace/
# {steps.txt,steps.md,steps.json}). Reports; never judges.
set -euo pipefail

B=$(cd "$(dirname "$0")" && pwd)
T=$(cd "$B/.." && pwd)
TOP=$(cd "$T/../../.." && pwd)
CACHE=${UML_VFIO_CACHE:-$HOME/.cache/uml-vfio}
BC=$CACHE/bench
MODE=${BENCH_MODE:-bench}
case $MODE in
bench)
	OUT=$TOP/build/bench
	BOOTS=${BENCH_BOOTS:-3}
	ROUNDS=${BENCH_ROUNDS:-3}
	;;
irqtrace)
	OUT=$TOP/build/irqtrace
	BOOTS=${BENCH_BOOTS:-1}
	ROUNDS=${BENCH_ROUNDS:-2}
	;;
*)
	echo "bench: ERROR: BENCH_MODE must be bench or irqtrace, not '$MODE'" >&2
	exit 1
	;;
esac
CMDS=${BENCH_CMDS:-200}
RUNTIME=${BENCH_RUNTIME:-3}
PINGS=${BENCH_PINGS:-100}
TCP_SECS=${BENCH_TCP_SECS:-8}
PROBES=${BENCH_PROBES:-7}
IDLE_SECS=${BENCH_IDLE_SECS:-5}
BOOT_REPS=${BENCH_BOOT_REPS:-3}
# devices.sh: UML gets the nvme at 00:03.0, the virtio-net at 00:05.0,
# the e1000e at 00:08.0 and the edu at 00:0a.0; L1's e1000e driver is for
# 00:09.0 only, its irqtest.ko for the edu at 00:0b.0 (the rig binds the
# passed ones to vfio-pci, with driver_override, before the job loads the
# "extra" modules).
PASS_BDFS=0000:00:03.0,0000:00:05.0,0000:00:08.0,0000:00:0a.0
START=$(date +%s)

# shellcheck source=lib.sh
. "$B/lib.sh"

say() { echo "bench: [$(elapsed)] $*"; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }
elapsed() { local s=$(($(date +%s) - START)); printf '%d:%02d' $((s / 60)) $((s % 60)); }

# build_module OUT_DIR MAKE_ARGS...: bench_nvme.ko and the tests' irqtest.ko
# (debug info stripped)
build_module() {
	local dir=$1

	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$B/module/bench_nvme.c" "$T/guest/irqtest/irqtest.c" "$dir/"
	echo "obj-m := bench_nvme.o irqtest.o" > "$dir/Kbuild"
	make -s "$@" M="$dir" modules > "$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log" >&2; die "building the modules in $dir"; }
	strip --strip-debug "$dir/bench_nvme.ko" "$dir/irqtest.ko"
}

src_key() {
	cat "$B/module/bench_nvme.c" "$T/guest/irqtest/irqtest.c" | sha256sum | cut -c1-16
}

uml_release() {
	TMPDIR=/tmp timeout 20 "$1" --version 2> /dev/null | tail -n 1
}

# Our UML is copied first (others may rebuild build/uml meanwhile) and its
# module built at once against the same build/uml; the module's vermagic
# must name the copy's release. While build/uml is being rebuilt (its
# kernel.release differs from the binary's), wait and try again.
snapshot_ours() {
	local uml=$TOP/build/uml bin=$TOP/build/uml/linux rel vm try cc=gcc

	[ -x "$bin" ] || { say "no $bin: running make"; make -C "$TOP" build; }
	command -v ccache > /dev/null && cc="ccache gcc"
	mkdir -p "$BC/ours"
	for try in $(seq 1 20); do
		if [ "$(uml_release "$bin")" = "$(cat "$uml/include/config/kernel.release")" ]; then
			# Debug info stripped, as upstream's is (L1 loads both).
			strip --strip-debug -o "$BC/ours/linux.tmp" "$bin"
			mv "$BC/ours/linux.tmp" "$BC/ours/linux"
			rel=$(uml_release "$BC/ours/linux") || rel=none
			build_module "$BC/modules/ours" -C "$TOP/build/linux" O="$uml" ARCH=um CC="$cc"
			vm=$(modinfo -F vermagic "$BC/modules/ours/bench_nvme.ko" | cut -d' ' -f1)
			[ "$vm" = "$rel" ] && break
		fi
		[ "$try" -lt 20 ] || die "$uml keeps changing (being rebuilt?): run again later"
		say "$uml is being rebuilt: waiting for it (try $try/20)"
		sleep 15
	done
	NOMMAP=$(strings "$BC/ours/linux" | grep -c 'vfio_uml.mmap' || true)
	say "ours: $bin ($rel), copied to $BC/ours/linux"
}

upstream() {
	local bin key

	bin=$("$B/build-upstream.sh")
	mkdir -p "$BC/l1-extra/uml-upstream"
	strip --strip-debug -o "$BC/l1-extra/uml-upstream/linux" "$bin"
	key="$(src_key) $(sha256sum < "$bin" | cut -c1-16)"
	if [ "$(cat "$BC/modules/upstream/.key" 2>/dev/null)" != "$key" ]; then
		build_module "$BC/modules/upstream" -C "$BC/upstream-src" O="$BC/upstream-out" ARCH=um
		echo "$key" > "$BC/modules/upstream/.key"
	fi
	say "upstream: $bin (untouched tag base, same config fragment)"
}

# variant_trees: the UML of each BENCH_TREE_Vn (another clone's build) for
# its column uml_vn, with its own module (the vermagic must match)
variant_trees() {
	local i tree var

	for i in 1 2 3; do
		var=BENCH_TREE_V$i
		tree=${!var:-}
		rm -rf "$BC/l1-extra/uml-v$i" "$BC/modules/v$i"
		[ -n "$tree" ] || continue
		[ -x "$tree/build/uml/linux" ] || die "$var: no $tree/build/uml/linux (run make there)"
		mkdir -p "$BC/l1-extra/uml-v$i"
		strip --strip-debug -o "$BC/l1-extra/uml-v$i/linux" "$tree/build/uml/linux"
		build_module "$BC/modules/v$i" -C "$tree/build/linux" O="$tree/build/uml" ARCH=um
		say "uml_v$i: $tree/build/uml/linux ($(uml_release "$BC/l1-extra/uml-v$i/linux"))"
	done
}

# Debian's headers for L1's kernel (the pinned version, through the rig's
# private apt setup: rig/fetch-l1.sh), unpacked into the cache (never
# installed).
l1_module() {
	local vars dir kdir key

	vars=$("$T/rig/fetch-l1.sh") || die "rig/fetch-l1.sh failed (exit $?)"
	eval "$vars"
	dir=$BC/l1-headers/$L1_KVER
	kdir=$dir/usr/src/linux-headers-$L1_KVER
	say "L1 kernel $L1_KVER ($L1_VERSION): its headers in $dir"
	"$T/rig/fetch-l1.sh" headers "$dir" || die "fetching the headers of L1's kernel failed"
	# Its Makefile includes the common headers by absolute path.
	sed -i "s|^include /usr/src/|include $dir/usr/src/|" "$kdir/Makefile"
	key="$(src_key) $L1_KVER $L1_VERSION"
	if [ "$(cat "$BC/modules/l1/.key" 2>/dev/null)" != "$key" ]; then
		# No pahole here: skip BTF for the module.
		build_module "$BC/modules/l1" -C "$kdir" CONFIG_DEBUG_INFO_BTF_MODULES=
		echo "$key" > "$BC/modules/l1/.key"
	fi
	cp "$BC/modules/l1/bench_nvme.ko" "$BC/modules/l1/irqtest.ko" "$BC/l1-extra/"
}

# UML's hostfs root (also where L1 finds fio and the helpers).
make_root() {
	local r=$BC/root lib

	rm -rf "$r"
	mkdir -p "$r"/{dev,proc,sys,tmp,results,usr/bin} "$r"/bench/{bin,modules}
	install -m 755 "$B/guest/init.sh" "$r/init"
	cp "$B/guest/suite.sh" "$B/fio.job" "$B/fio-sqpoll.job" "$r/bench/"
	for lib in tsrun netbench probetime; do
		gcc -static -O2 -Wall -o "$r/bench/bin/$lib" "$B/guest/$lib.c"
	done
	for lib in ours upstream v1 v2 v3; do
		[ -f "$BC/modules/$lib/bench_nvme.ko" ] || continue
		mkdir -p "$r/bench/modules/$lib"
		cp "$BC/modules/$lib/bench_nvme.ko" "$BC/modules/$lib/irqtest.ko" \
			"$r/bench/modules/$lib/"
	done
	# Debian's fio with every library it links (the rbd/rados/gluster
	# engines drag in ~80 MB; BIND_NOW makes them all necessary).
	cp /usr/bin/fio "$r/usr/bin/fio"
	for lib in $(ldd /usr/bin/fio | grep -o '/[^ ]*') \
		   "$(dirname "$(ldd /usr/bin/fio | sed -n 's/.*=> \(\/[^ ]*libc\.so\.6\) .*/\1/p')")/libgcc_s.so.1"; do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	cp "$B/job.sh" "$BC/l1-extra/job.sh"
}

# run_boot N: one L1 boot running every column; progress from its log.
# no_timer_check: on a loaded host, TCG can fail L1's early check of the
# timer through the remapped IO-APIC, which panics ("timer doesn't work").
# oops=panic: an Oops in L1 (its own drivers under fio, say) ends the boot
# at once (panic=-1 and QEMU's -no-reboot) instead of leaving the job hung
# until the boot's timeout.
run_boot() {
	local n=$1 log=$OUT/logs/l1-boot$1.log pid rc=0 seen=0 line death= end=0

	rm -f "$log"
	# Its own process group, so that QEMU goes with it if L1 hangs. The
	# rig's steps (a first run builds the initramfs) on our output; its
	# progress during the boot is ours, from the log. 6 GiB for L1: eager
	# mode pins all of a 4G UML there.
	UML=$BC/ours/linux UML_ROOT=$BC/root L1_EXTRA=$BC/l1-extra RIG_MEM=6G \
	RIG_DEVICES=$B/devices.sh RIG_L1_MODULES="nvme e1000e" \
	RIG_APPEND="no_timer_check oops=panic rig.pass=$PASS_BDFS bench.mode=$MODE bench.cmds=$CMDS bench.boot=$n bench.rounds=$ROUNDS bench.cols=$COLS bench.runtime=$RUNTIME bench.pings=$PINGS bench.tcp=$TCP_SECS bench.probes=$PROBES bench.idle=$IDLE_SECS bench.bootreps=$BOOT_REPS bench.v1=${BENCH_V1:-} bench.v2=${BENCH_V2:-} bench.v3=${BENCH_V3:-}" \
	RIG_BOOT_PROGRESS=0 PROGRESS_FD=3 PROGRESS_PREFIX="bench: " \
		setsid "$T/rig/run-l1.sh" script "$log" "$BOOT_TIMEOUT" 3>&1 > /dev/null 2> "$log.err" &
	pid=$!
	while kill -0 "$pid" 2> /dev/null; do
		sleep 3
		while IFS= read -r line; do
			say "boot $n/$BOOTS: ${line#BENCH-PROGRESS: boot="$n" }"
		done < <(grep -a '^BENCH-PROGRESS: ' "$log" 2> /dev/null | tr -d '\r' | tail -n +$((seen + 1)))
		seen=$(grep -ac '^BENCH-PROGRESS: ' "$log" 2> /dev/null || true)
		if [ -z "$death" ]; then
			death=$(l1_death "$log")
			[ -z "$death" ] && continue
			say "boot $n: L1 died: $death; ending this boot"
			end=$((SECONDS + 30))
		elif [ "$SECONDS" -gt "$end" ]; then
			# It panics and QEMU exits; if not within 30 s, end it.
			kill -TERM -- "-$pid" 2> /dev/null || true
		fi
	done
	wait "$pid" || rc=$?
	if ! grep -aq '^RIG-RESULT: .*status=pass' "$log"; then
		say "boot $n FAILED (run-l1.sh exit $rc): $(grep -a -m1 -E '^RIG-(ERROR|RESULT)' "$log" | tr -d '\r')"
		say "  logs: $log $log.err"
		return 1
	fi
	say "boot $n/$BOOTS done: $(grep -a '^RIG-RESULT' "$log" | tr -d '\r')"
}

# lost_runs N: say how many of boot N's runs are missing, and why.
lost_runs() {
	local n=$1 log=$OUT/logs/l1-boot$1.log want got death

	want=$RUNS_PER_BOOT
	got=$(runs_done "$log")
	[ "$got" -lt "$want" ] || return 0
	death=$(l1_death "$log")
	echo "boot $n: $((want - got)) of $want runs lost (${death:+L1 died: }${death:-L1 did not finish the job; see $log})"
}

# check_count NAME VALUE: VALUE is a whole number of at least 1
check_count() {
	case $2 in
	'' | *[!0-9]* | 0*) die "$1 must be a whole number of at least 1, not '$2'" ;;
	esac
}

main() {
	local n failed=0 pairs

	check_count BENCH_BOOTS "$BOOTS"
	check_count BENCH_ROUNDS "$ROUNDS"
	check_count BENCH_CMDS "$CMDS"
	check_count BENCH_IDLE_SECS "$IDLE_SECS"
	# Round 1 runs every column (~8 min), each later round three UMLs
	# (~3 min).
	BOOT_TIMEOUT=$((1200 + 400 * ROUNDS))
	"$T/scripts/deps.sh" "make bench: fio, modules, report and chart" \
		fio gnuplot-nox python3 gcc gcc-12 libc6-dev make kmod binutils \
		qemu-system-x86 ccache
	rm -rf "$OUT"
	mkdir -p "$OUT/logs" "$BC/l1-extra"
	say "building or reusing: upstream's UML, the bench_nvme modules, UML's root"
	snapshot_ours
	COLS=${BENCH_COLS:-native,uml,uml_upstream,uml_eager,uml_strict}
	if [ "$MODE" = irqtrace ]; then
		COLS=${BENCH_COLS:-uml,uml_upstream}
	fi
	if [ -z "${BENCH_COLS:-}" ] && [ "$MODE" = bench ]; then
		if [ "$NOMMAP" -gt 0 ]; then
			COLS=$COLS,uml_nommap
		else
			# Hook: once the driver has vfio_uml.mmap=, the uml_nommap
			# column (ours with vfio_uml.mmap=0) is added by itself.
			say "our UML has no vfio_uml.mmap= parameter: no uml_nommap column"
		fi
	fi
	rm -rf "$BC/l1-extra/uml-upstream" "$BC/root"
	case ,$COLS, in
	*,uml_upstream,*) upstream ;;
	esac
	variant_trees
	l1_module
	make_root
	pairs=$(echo "$COLS" | tr , '\n' | grep -cxE 'uml|uml_upstream|uml_eager' || true)
	RUNS_PER_BOOT=$(($(echo "$COLS" | tr , '\n' | wc -l) + pairs * (ROUNDS - 1)))
	if [ "$MODE" = irqtrace ]; then
		RUNS_PER_BOOT=$(($(echo "$COLS" | tr , '\n' | wc -l) * ROUNDS))
	fi
	say "columns $COLS; $BOOTS L1 boots, the column order rotating each boot; $ROUNDS round(s) of the paired columns (uml, uml_upstream, uml_eager) per boot"
	for n in $(seq 1 "$BOOTS"); do
		run_boot "$n" && continue
		# Once more if L1 died before the benchmark started.
		if ! grep -aq '^BENCH-SETUP: ' "$OUT/logs/l1-boot$n.log"; then
			mv "$OUT/logs/l1-boot$n.log" "$OUT/logs/l1-boot$n-early-failure.log"
			say "boot $n: L1 failed before the benchmark started; once more"
			run_boot "$n" && continue
		fi
		failed=$((failed + 1))
	done
	if [ "$MODE" = irqtrace ]; then
		python3 "$B/irqtrace.py" "$OUT" "$OUT"/logs/l1-boot*.log | tee "$OUT/summary.txt"
		say "wrote $OUT/steps.txt, steps.md, steps.json (raw files in $OUT/raw)"
		say "wall time $(elapsed) for $BOOTS boots of $ROUNDS round(s); $failed failed"
		[ "$failed" -eq 0 ]
		return
	fi
	python3 "$B/report.py" "$OUT" "$OUT"/logs/l1-boot*.log | tee "$OUT/summary.txt"
	for n in $(seq 1 "$BOOTS"); do
		lost_runs "$n"
	done | tee "$OUT/lost-runs.txt" | sed 's/^/bench: lost: /' | tee -a "$OUT/summary.txt"
	if [ -s "$OUT/chart.dat" ]; then
		gnuplot -e "dat='$OUT/chart.dat'; png='$OUT/chart.png'; n=$(($(head -n 1 "$OUT/chart.dat" | grep -o '"' | wc -l) / 2 - 1)); sub='medians over $BOOTS L1 boots x $ROUNDS rounds under QEMU TCG, $(date -u +%F); arrows: which way is better'" \
			"$B/chart.gp"
	else
		say "no ratio to chart (a column is missing)"
	fi
	say "wrote $OUT/results.json, table.txt, table.md, chart.png (raw files in $OUT/raw)"
	say "wall time $(elapsed) for $BOOTS boots of $ROUNDS round(s); $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"
