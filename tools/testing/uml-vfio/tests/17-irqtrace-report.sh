#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make irqtrace's analysis (bench/irqtrace.py) on a made-up L1 trace whose
# answer is known: the device and delivery times of each read, what UML
# was doing at the MSI, and the SIGIO helper's part. No QEMU; a second.
set -euo pipefail
. "$T/lib.sh"

DIR=$BUILD/irqtrace-report-check

# make_log: one L1 log with one uml run of three interrupt-driven reads
# (times in us after each doorbell):
#  0: UML (pid 100) asleep in poll; MSI at 100 on its CPU, woken, 4 system
#     calls, handler at 142: device 100, delivery 42
#  1: UML running on CPU 0, MSI at 80 on CPU 1; the helper (pid 101) is
#     woken and signals UML, which takes SIGIO; handler at 121: device 80,
#     delivery 41
#  2: as 0, with MSI at 120 and the handler at 170: delivery 50
# and one polled read of 60 us.
make_log() {
	rm -rf "$DIR"
	mkdir -p "$DIR/out"
	python3 - "$DIR/l1-boot1.log" <<-'EOF'
		import base64, gzip, sys
		lines = []
		def ev(t, pid, cpu, what, tgid=100, comm="linux"):
		    lines.append("%16s-%-7d (%7d) [%03d] ..... %12.6f: %s" %
		                 (comm, pid, tgid, cpu, t / 1e6, what))
		def idle_read(base, n, msi, handler):
		    ev(base, 100, 0, "tracing_mark_write: bench_nvme: db irq %d 5" % n)
		    ev(base + 2, 100, 0, "sys_exit: NR 1 = 33")
		    ev(base + 30, 100, 0, "sys_enter: NR 7 (0, 2, ffffffff, 0, 0, 0)")
		    ev(base + 35, 100, 0, "sched_switch: prev_comm=linux prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120")
		    ev(base + msi, 0, 0, "irq_handler_entry: irq=38 name=vfio-msix[1](0000:00:03.0)", tgid=-1, comm="<idle>")
		    ev(base + msi + 5, 0, 0, "sched_waking: comm=linux pid=100 prio=120 target_cpu=000", tgid=-1, comm="<idle>")
		    ev(base + msi + 10, 0, 0, "sched_wakeup: comm=linux pid=100 prio=120 target_cpu=000", tgid=-1, comm="<idle>")
		    ev(base + msi + 15, 0, 0, "sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=linux next_pid=100 next_prio=120", tgid=-1, comm="<idle>")
		    ev(base + msi + 20, 100, 0, "sys_exit: NR 7 = 1")
		    t = base + msi + 22
		    for nr in (14, 232, 232):
		        ev(t, 100, 0, "sys_enter: NR %d (0, 0, 0, 0, 0, 0)" % nr)
		        ev(t + 3, 100, 0, "sys_exit: NR %d = 1" % nr)
		        t += 5
		    ev(base + handler - 2, 100, 0, "sys_enter: NR 1 (28, 0, 1d, 0, 0, 8)")
		    ev(base + handler, 100, 0, "tracing_mark_write: bench_nvme: handler %d %d" % (n, handler * 1000))
		def busy_read(base, n):
		    ev(base, 100, 0, "tracing_mark_write: bench_nvme: db irq %d 5" % n)
		    ev(base + 2, 100, 0, "sys_exit: NR 1 = 33")
		    ev(base + 80, 0, 1, "irq_handler_entry: irq=38 name=vfio-msix[1](0000:00:03.0)", tgid=-1, comm="<idle>")
		    ev(base + 84, 0, 1, "sched_waking: comm=linux pid=101 prio=120 target_cpu=001", tgid=-1, comm="<idle>")
		    ev(base + 85, 0, 1, "sched_wakeup: comm=linux pid=101 prio=120 target_cpu=001", tgid=-1, comm="<idle>")
		    ev(base + 90, 101, 1, "sys_enter: NR 234 (64, 64, 1d, 0, 0, 0)")
		    ev(base + 92, 101, 1, "signal_generate: sig=29 errno=0 code=-6 comm=linux pid=100 grp=0 res=0")
		    ev(base + 100, 100, 0, "signal_deliver: sig=29 errno=0 code=-6 sa_handler=0 sa_flags=0")
		    ev(base + 110, 100, 0, "sys_enter: NR 232 (4, 0, 40, 0, 0, 0)")
		    ev(base + 112, 100, 0, "sys_exit: NR 232 = 1")
		    ev(base + 115, 100, 0, "sys_enter: NR 232 (f, 0, 10, 0, 0, 0)")
		    ev(base + 117, 100, 0, "sys_exit: NR 232 = 1")
		    ev(base + 119, 100, 0, "sys_enter: NR 1 (28, 0, 1d, 0, 0, 8)")
		    ev(base + 121, 100, 0, "tracing_mark_write: bench_nvme: handler %d 121000" % n)
		idle_read(1000000, 0, 100, 142)
		busy_read(1001000, 1)
		idle_read(1002000, 2, 120, 170)
		ev(1003000, 100, 0, "tracing_mark_write: bench_nvme: db poll 2 5")
		ev(1003060, 100, 0, "tracing_mark_write: bench_nvme: done poll 2 60000")
		text = "# tracer: nop\n" + "\n".join(lines) + "\n"
		b64 = base64.encodebytes(gzip.compress(text.encode())).decode()
		with open(sys.argv[1], "w") as f:
		    f.write("BENCH-FILE-BEGIN: boot=1 round=1 col=uml name=trace.gz.b64\n")
		    f.write(b64 + "\nBENCH-FILE-END\n")
	EOF
}

# expect WHAT PYTHON-EXPRESSION VALUE: steps.json["uml"] gives VALUE
expect() {
	local got

	got=$(python3 - "$DIR/out/steps.json" "$2" <<-'EOF'
		import json, sys
		s = json.load(open(sys.argv[1]))["uml"]
		print(eval(sys.argv[2], {"s": s}))
	EOF
	) || got="(error)"
	if [ "$got" = "$3" ]; then
		pass "irqtrace report: $1"
	else
		fail "irqtrace report: $1" "want $3, got $got"
	fi
}

make_log
if ! python3 "$T/bench/irqtrace.py" "$DIR/out" "$DIR/l1-boot1.log" > "$LOGS/irqtrace-report.log" 2>&1; then
	fail "irqtrace report runs on a made-up trace" "irqtrace.py failed" "$LOGS/irqtrace-report.log"
	exit 0
fi
expect "three reads, device time 100 us (median of 100, 80, 120)" \
	'"%d %.0f" % (s["reads"], s["device_median_us"])' "3 100"
expect "delivery 42 us (median of 42, 41, 50)" '"%.0f" % s["delivery_median_us"]' "42"
expect "UML asleep on the MSI's CPU twice, running elsewhere once" \
	'" ".join("%s/%s/%d" % (g["at_msi"], g["same_cpu"], g["reads"]) for g in s["by_state"])' \
	"asleep/True/2 running/False/1"
expect "the helper woke and signalled UML for one read" \
	'"%(woken)d %(tgkill)d %(sigio_to_main)d %(reads)d" % s["other_threads"]' "1 1 1 3"
expect "two epoll_wait per read, 3 us each when asleep, 2 us when signalled" \
	'"%.1f" % [k["mean_us"] for k in s["kinds"] if k["kind"] == "syscall epoll_wait"][0]' "5.3"
expect "polled read of 60 us" '"%.0f" % s["module_poll_median_us"]' "60"
rm -rf "$DIR"
