#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark's report (bench/report.py) on made-up L1 logs whose answer
# is known: paired ratios, their interval and verdict, and the pairing of
# runs by boot and round. No QEMU; takes a second.
set -euo pipefail
. "$T/lib.sh"
. "$T/bench/lib.sh"

DIR=$BUILD/bench-report-check

# block BOOT ROUND COL NAME TEXT: one raw file as job.sh prints it
block() {
	printf 'BENCH-FILE-BEGIN: boot=%s round=%s col=%s name=%s\n%s\n\nBENCH-FILE-END\n' \
		"$1" "$2" "$3" "$4" "$5"
}

# make_logs: 3 boots x 3 rounds of uml and uml_upstream. Per run, ours has
# 1.1x or 1.3x upstream's TCP in turn (higher is better: better), 1.2x or
# 1.4x its ping time (lower is better: worse) and 0.8x or 1.25x its e1000e
# probe time (no difference). Both drift from run to run by more than
# those factors, as on the rig. Upstream's last run is missing: 8 pairs.
# Ours in eager mode (uml_eager) pings in twice ours' time in every run:
# ours/eager 0.50, better, 9 pairs.
# Boot 1 also has irqtest lines (irq.txt) for native and ours, of which
# the ones that failed (ret=1) must be left out.
make_logs() {
	local boot round drift k tcp ping probe

	rm -rf "$DIR"
	mkdir -p "$DIR/out"
	k=0
	for boot in 1 2 3; do
		for round in 1 2 3; do
			k=$((k + 1))
			drift=$(((60 + (k * 37) % 90) * 20))
			if [ $((k % 2)) = 1 ]; then
				tcp=$((drift * 11 / 10))
				ping=$((drift * 12 / 10))
				probe=$((drift * 8 / 10))
			else
				tcp=$((drift * 13 / 10))
				ping=$((drift * 14 / 10))
				probe=$((drift * 125 / 100))
			fi
			{
				block "$boot" "$round" uml tcp.txt "BENCH-TCP: bytes=1 secs=8 mbps=$tcp"
				block "$boot" "$round" uml ping.txt "64 bytes from 10.0.2.1: seq=0 ttl=64 time=$ping.000 ms"
				block "$boot" "$round" uml probe.txt \
					"kind=e1000e probetime: ret=0 write_ms=1 probe_ms=$probe res_ms=1"
				block "$boot" "$round" uml_eager ping.txt \
					"64 bytes from 10.0.2.1: seq=0 ttl=64 time=$((ping * 2)).000 ms"
				[ "$k" = 9 ] && continue
				block "$boot" "$round" uml_upstream tcp.txt "BENCH-TCP: bytes=1 secs=8 mbps=$drift"
				block "$boot" "$round" uml_upstream ping.txt \
					"64 bytes from 10.0.2.1: seq=0 ttl=64 time=$drift.000 ms"
				block "$boot" "$round" uml_upstream probe.txt \
					"kind=e1000e probetime: ret=0 write_ms=1 probe_ms=$drift res_ms=1"
			} >> "$DIR/l1-boot$boot.log"
		done
	done
	{
		block 1 1 native irq.txt "dev=edu kind=msi ret=0 kind=msi irq=30 handled=200 held=0 spurious=0 rt_n=200 rt_p50_ns=7000
dev=edu kind=intx ret=0 kind=intx irq=11 handled=400 held=0 spurious=0 rt_n=200 rt_p50_ns=9000"
		block 1 1 uml irq.txt "dev=nvme kind=msix ret=0 kind=msix irq=40 handled=200 held=0 spurious=0 rt_n=200 rt_p50_ns=210000
dev=edu kind=msi ret=0 kind=msi irq=41 handled=200 held=0 spurious=0 rt_n=200 rt_p50_ns=250000
dev=edu kind=intx ret=1 kind=intx irq=42 handled=203 held=0 spurious=0 rt_n=3 rt_p50_ns=1000"
	} >> "$DIR/l1-boot1.log"
	# Boot times: column uml boots each kind three times (the median
	# counts; a boot that never got ready does not), uml_eager once.
	{
		block 1 1 uml uml-1g.log "BENCH-READY
BENCH-READY-AT: secs=2.0"
		block 1 1 uml uml-1g-r2.log "BENCH-READY
BENCH-READY-AT: secs=3.5"
		block 1 1 uml uml-1g-r3.log "BENCH-READY
BENCH-READY-AT: secs=2.25"
		block 1 1 uml uml-4g.log "BENCH-READY
BENCH-READY-AT: secs=2.5"
		block 1 1 uml uml-4g-r2.log "BENCH-ERROR: no /sys/block/nvme0n1 after 60 s
BENCH-READY-AT: none"
		block 1 1 uml uml-4g-r3.log "BENCH-READY
BENCH-READY-AT: secs=3.5"
		block 1 1 uml_eager uml-1g.log "BENCH-READY
BENCH-READY-AT: secs=9.5"
	} >> "$DIR/l1-boot1.log"
}

# expect_value METRIC COL VALUE: results.json's median (or "none")
expect_value() {
	local got

	got=$(python3 - "$DIR/out/results.json" "$1" "$2" <<-'EOF'
		import json, sys
		v = json.load(open(sys.argv[1])).get(sys.argv[2], {}).get(sys.argv[3])
		print("none" if v is None else "%g" % v)
	EOF
	)
	if [ "$got" = "$3" ]; then
		pass "bench report: $1 for $2 is $3"
	else
		fail "bench report: $1 for $2 is $3" "got: $got"
	fi
}

# expect METRIC RATIO VERDICT PAIRS [OTHER]: results.json says so for the
# pairs of uml and OTHER (default uml_upstream)
expect() {
	local got key=paired_uml_${5:-upstream}

	got=$(python3 - "$DIR/out/results.json" "$1" "$key" <<-'EOF'
		import json, sys
		p = json.load(open(sys.argv[1])).get(sys.argv[2], {}).get(sys.argv[3])
		print("%.2f %s %d %.3f %.3f" % (p["ratio"], p["verdict"], p["pairs"], *p["ci95"])
		      if p else "none")
	EOF
	)
	if [ "${got% * *}" = "$2 $3 $4" ]; then
		pass "bench report: $1 $key ratio $2, verdict '$3', $4 pairs"
	else
		fail "bench report: $1 $key ratio $2, verdict '$3', $4 pairs" "got: $got"
	fi
}

# check_l1_death: bench.sh's reading of a boot whose L1 died (bench/lib.sh):
# L1's own Oops is found, UML's inside a raw file is not, runs are counted.
check_l1_death() {
	local log=$DIR/l1-dead.log got

	{
		block 1 1 uml dmesg.txt "[    2.5] BUG: UML's own, in a raw file"
		block 1 1 uml ping.txt "64 bytes"
		block 1 2 uml ping.txt "64 bytes"
		echo "[  123.4] BUG: kernel NULL pointer dereference, address: 0000000000000008"
		echo "[  123.5] Oops: 0000 [#1] PREEMPT SMP NOPTI"
	} > "$log"
	got="$(l1_death "$log")|$(runs_done "$log")|$(l1_death "$DIR/absent.log")|$(runs_done "$DIR/absent.log")"
	if [ "$got" = "[  123.4] BUG: kernel NULL pointer dereference, address: 0000000000000008|2||0" ]; then
		pass "bench: an L1 that died is named by its first Oops line, and its runs are counted"
	else
		fail "bench: an L1 that died is named by its first Oops line, and its runs are counted" "got: $got"
	fi
}

make_logs
check_l1_death
if ! python3 "$T/bench/report.py" "$DIR/out" "$DIR"/l1-boot*.log > "$LOGS/bench-report.log" 2>&1; then
	fail "bench report runs on made-up logs" "report.py failed" "$LOGS/bench-report.log"
	exit 0
fi
expect net_tcp_mbps 1.20 better 8
expect net_ping_p50_us 1.30 worse 8
expect e1000e_probe_ms 1.00 "~" 8
expect net_ping_p50_us 0.50 better 9 eager
expect_value irq_edu_msi_us uml 250
expect_value irq_edu_msi_us native 7
expect_value irq_edu_intx_us native 9
expect_value irq_edu_intx_us uml none
expect_value irq_nvme_msix_us uml 210
expect_value boot_to_ready_s_1g uml 2.25
expect_value boot_to_ready_s_4g uml 3
expect_value boot_to_ready_s_1g uml_eager 9.5
if [ -f "$DIR/out/raw/boot3/round2/uml_upstream/tcp.txt" ]; then
	pass "bench report: raw files saved by boot, round and column"
else
	fail "bench report: raw files saved by boot, round and column" \
		"no $DIR/out/raw/boot3/round2/uml_upstream/tcp.txt"
fi
rm -rf "$DIR"
