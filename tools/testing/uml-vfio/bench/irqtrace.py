#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Lay out, step by step, where a device interrupt's time goes (make irqtrace).

Usage: irqtrace.py OUT_DIR L1_LOG...

Each L1 log holds BENCH-FILE blocks (see job.sh) of runs in irqtrace mode:
trace.gz.b64 is L1's ftrace buffer (trace_clock mono, record-tgid) over
bench_nvme.ko's timed reads in UML, which marked each read in it:

    bench_nvme: db irq N T0        just before the doorbell write
    bench_nvme: handler N DT       in the handler, DT ns after the doorbell
    bench_nvme: db poll N T0 / done poll N DT   the polled read after it

For every interrupt-driven read, the events of L1 between its two markers
are put in order: the vfio interrupt in L1 (the device's MSI), and for the
UML thread that wrote the markers (UML's CPU 0) its wake-up, its getting a
CPU, each system call it makes, the SIGIO signals sent to it and delivered
to it. The time between two such points is one step. Reads whose steps
come in the same order share a "path"; for each column the most common
paths are shown with the median of every step. A summary per kind of time
(device, L1's wake-up, each system call, UML's own code, ...) covers all
reads: the mean of each kind, which add up to the mean total. Other
threads of the same UML (the SIGIO helper) are counted separately: how
often they woke and signalled UML for one read.

Writes OUT_DIR/steps.txt (also printed), steps.md and steps.json, and the
decoded traces under OUT_DIR/raw/bootN/roundR/COL/trace.txt.
"""
import base64
import gzip
import json
import os
import re
import statistics
import sys

import report

LINE = re.compile(r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+\(\s*(?P<tgid>[-\d]+)\)\s+\[(?P<cpu>\d+)\]"
                  r"\s+\S+\s+(?P<ts>\d+\.\d+):\s+(?P<event>\w+):\s?(?P<rest>.*)$")
MARK = re.compile(r"bench_nvme: (db irq|handler|db poll|done poll) (\d+) (\d+)")
KV = re.compile(r"(\w+)=(\S+)")
IDLE = re.compile(r"^BENCH-IDLE: cpu_ms=([\d.]+) wall_ms=([\d.]+)", re.M)

# x86_64 system call numbers of the calls UML makes on this path.
SYSCALLS = {
    0: "read", 1: "write", 3: "close", 7: "poll", 9: "mmap", 10: "mprotect",
    11: "munmap", 13: "rt_sigaction", 14: "rt_sigprocmask", 15: "rt_sigreturn",
    16: "ioctl", 17: "pread64", 18: "pwrite64", 23: "select", 24: "sched_yield",
    35: "nanosleep", 39: "getpid", 61: "wait4", 62: "kill", 101: "ptrace",
    128: "rt_sigtimedwait", 186: "gettid", 202: "futex", 222: "timer_create",
    223: "timer_settime", 224: "timer_gettime", 228: "clock_gettime",
    230: "clock_nanosleep", 232: "epoll_wait", 233: "epoll_ctl", 234: "tgkill",
    257: "openat", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
    290: "eventfd2", 441: "epoll_pwait2",
}
SIGNALS = {14: "SIGALRM", 29: "SIGIO"}


def syscall_name(nr):
    return SYSCALLS.get(nr, "syscall %d" % nr)


class Event:
    __slots__ = ("ts", "pid", "tgid", "cpu", "event", "rest", "kv")

    def __init__(self, m):
        self.ts = float(m.group("ts")) * 1e6          # us
        self.pid = int(m.group("pid"))
        tgid = m.group("tgid")
        self.tgid = int(tgid) if tgid.lstrip("-").isdigit() else -1
        self.cpu = int(m.group("cpu"))
        self.event = m.group("event")
        self.rest = m.group("rest")
        self.kv = None

    def fields(self):
        if self.kv is None:
            self.kv = dict(KV.findall(self.rest))
        return self.kv


def parse_trace(text):
    events = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            events.append(Event(m))
    events.sort(key=lambda e: e.ts)
    return events


def split_log(path, raw):
    """Decode every trace of one L1 log; return {(boot, round, col): files}.

    report.py saves every file block; each trace.gz.b64 among them is
    replaced by the decoded trace.txt, in the result and in raw/.
    """
    found = report.split_log(path, raw)
    for (boot, rnd, col), files in found.items():
        if "trace.gz.b64" not in files:
            continue
        d = os.path.join(raw, "boot%d" % boot, "round%d" % rnd, col)
        try:
            text = gzip.decompress(base64.b64decode(files.pop("trace.gz.b64"))).decode(errors="replace")
        except (ValueError, OSError, EOFError) as e:
            text = ""
            print("irqtrace: boot %d round %d %s: bad trace: %s" % (boot, rnd, col, e),
                  file=sys.stderr)
        os.remove(os.path.join(d, "trace.gz.b64"))
        files["trace.txt"] = text
        with open(os.path.join(d, "trace.txt"), "w") as out:
            out.write(text)
    return found


def main_thread_point(e, main):
    """The label of an event of UML's marking thread, or None."""
    f = e.fields() if e.event in ("sched_waking", "sched_wakeup", "sched_switch",
                                  "signal_generate") else None
    if e.event == "sys_enter" and e.pid == main:
        nr = int(e.rest.split()[1])
        return "enter " + syscall_name(nr)
    if e.event == "sys_exit" and e.pid == main:
        nr = int(e.rest.split()[1])
        return "exit " + syscall_name(nr)
    if e.event == "sched_waking" and int(f.get("pid", -1)) == main:
        return "wake-up sent"
    if e.event == "sched_wakeup" and int(f.get("pid", -1)) == main:
        return "woken"
    if e.event == "sched_switch":
        if int(f.get("next_pid", -1)) == main:
            return "on CPU"
        if int(f.get("prev_pid", -1)) == main:
            return "off CPU"
    if e.event == "signal_generate" and int(f.get("pid", -1)) == main:
        who = "itself" if e.pid == main else "other thread" if e.tgid == f.get("tgid", e.tgid) else "pid %d" % e.pid
        return "%s sent (%s)" % (SIGNALS.get(int(f.get("sig", 0)), "signal"), who)
    if e.event == "signal_deliver" and e.pid == main:
        return SIGNALS.get(int(e.fields().get("sig", 0)), "signal") + " delivered"
    return None


def category(prev, cur, state):
    """Kind of time between two points of the main thread after the MSI."""
    if prev == "MSI":
        if cur == "wake-up sent":
            return "L1: MSI to UML's wake-up"
        return "L1: MSI to UML's next step (UML not asleep)"
    if prev == "wake-up sent":
        return "L1: wake-up sent to UML woken (IPI)"
    if prev == "woken":
        return "L1: UML woken to running"
    if state == "off":
        return "UML off CPU (asleep or preempted)"
    if prev.startswith("enter "):
        return "syscall " + prev[len("enter "):]
    if prev.endswith(" sent (itself)") or prev.endswith(" sent (other thread)"):
        return "signal delivery"
    return "UML code (user mode)"


def state_before(points):
    """What UML's marking thread was doing when the MSI came."""
    state = "running"
    for label, _ in points:
        if label == "off CPU":
            state = "asleep"
        elif label == "on CPU":
            state = "running"
        elif label.startswith("enter "):
            state = "in " + label[len("enter "):]
        elif label.startswith("exit ") and state != "asleep":
            state = "running"
    if state == "in poll" or state == "in epoll_wait":
        # Entered its idle wait, not yet switched out.
        state = "asleep"
    return state


def analyse_run(events):
    """Per-read timelines of one trace: (reads, polled, helper, irqname)."""
    marks = {}
    for idx, e in enumerate(events):
        if e.event != "tracing_mark_write" and e.event != "print":
            continue
        m = MARK.search(e.rest)
        if m:
            marks[(m.group(1), int(m.group(2)))] = (idx, e, int(m.group(3)))
    # The vfio interrupt the reads raise: the most frequent name after a doorbell.
    names = {}
    for (kind, n), (idx, e, _) in marks.items():
        if kind != "db irq":
            continue
        for f in events[idx + 1:idx + 200]:
            if f.event == "irq_handler_entry":
                name = f.fields().get("name", "?")
                names[name] = names.get(name, 0) + 1
                break
    irqname = max(names, key=names.get) if names else None
    tgid_of = {e.pid: e.tgid for e in events if e.tgid > 0}
    doorbells = sorted(idx for (kind, _), (idx, _, _) in marks.items() if kind.startswith("db "))
    reads = []
    polled = []
    helper = {"reads": 0, "woken": 0, "tgkill": 0, "sigio_to_main": 0}
    for (kind, n), (i0, db, t0) in sorted(marks.items()):
        if kind == "db poll" and ("done poll", n) in marks:
            polled.append({"l1_us": marks[("done poll", n)][1].ts - db.ts,
                           "dt_us": marks[("done poll", n)][2] / 1000.0})
        if kind != "db irq" or ("handler", n) not in marks:
            continue
        i1, h, dt = marks[("handler", n)]
        # Up to the next doorbell: the helper may run after the handler.
        end = next((i for i in doorbells if i > i1), len(events))
        main = db.pid
        before = []
        after = []
        msi = None
        cpu = db.cpu
        for e in events[i0 + 1:i1]:
            if msi is None and e.event == "irq_handler_entry" and e.fields().get("name") == irqname:
                msi = e
                after.append(("MSI", e.ts))
                continue
            label = main_thread_point(e, main)
            if not label:
                continue
            if msi is None:
                before.append((label, e.ts))
                if e.pid == main:
                    cpu = e.cpu
            else:
                after.append((label, e.ts))
        if msi is None:
            continue
        after.append(("handler", h.ts))
        at_msi = state_before(before)
        steps = []
        cats = {}
        state = "off" if at_msi == "asleep" else "on"
        for (a, ta), (b, tb) in zip(after, after[1:]):
            c = category(a, b, state)
            if b == "off CPU":
                state = "off"
            elif b == "on CPU":
                state = "on"
            steps.append((a + " -> " + b, tb - ta))
            cats[c] = cats.get(c, 0.0) + tb - ta
        reads.append({"n": n, "dt_us": dt / 1000.0, "l1_us": h.ts - db.ts,
                      "device_us": msi.ts - db.ts, "delivery_us": h.ts - msi.ts,
                      "at_msi": at_msi, "same_cpu": msi.cpu == cpu,
                      "path": (at_msi,) + tuple(s for s, _ in steps),
                      "steps": [d for _, d in steps], "cats": cats})
        # The other threads of this UML, from this doorbell to the next.
        helper["reads"] += 1
        woke = killed = sig = False
        for e in events[i0 + 1:end]:
            if e.event == "sched_wakeup":
                pid = int(e.fields().get("pid", -1))
                woke = woke or (pid != main and tgid_of.get(pid) == db.tgid)
            elif e.event == "sys_enter" and e.tgid == db.tgid and e.pid != main:
                killed = killed or int(e.rest.split()[1]) == 234
            elif e.event == "signal_generate" and e.pid != main and e.tgid == db.tgid:
                sig = True
        helper["woken"] += woke
        helper["tgkill"] += killed
        helper["sigio_to_main"] += sig
    return reads, polled, helper, irqname


def med(v):
    return statistics.median(v) if v else float("nan")


def mean(v):
    return statistics.fmean(v) if v else float("nan")


def summarise(runs):
    reads = [r for run in runs for r in run[0]]
    polled = [p for run in runs for p in run[1]]
    out = {"reads": len(reads)}
    if not reads:
        return out
    out["module_irq_median_us"] = med([r["dt_us"] for r in reads])
    out["module_poll_median_us"] = med([p["dt_us"] for p in polled])
    out["l1_irq_median_us"] = med([r["l1_us"] for r in reads])
    out["l1_poll_median_us"] = med([p["l1_us"] for p in polled])
    out["device_median_us"] = med([r["device_us"] for r in reads])
    out["delivery_median_us"] = med([r["delivery_us"] for r in reads])
    out["delivery_mean_us"] = mean([r["delivery_us"] for r in reads])
    groups = {}
    for r in reads:
        groups.setdefault((r["at_msi"], r["same_cpu"]), []).append(r["delivery_us"])
    out["by_state"] = [{"at_msi": k[0], "same_cpu": k[1], "reads": len(v),
                        "delivery_median_us": med(v)}
                       for k, v in sorted(groups.items(), key=lambda g: -len(g[1]))]
    kinds = {}
    for r in reads:
        for c in r["cats"]:
            kinds.setdefault(c, None)
    out["kinds"] = []
    for c in kinds:
        v = [r["cats"].get(c, 0.0) for r in reads]
        out["kinds"].append({"kind": c, "mean_us": mean(v), "median_us": med(v),
                             "in_reads": sum(1 for r in reads if c in r["cats"])})
    out["kinds"].sort(key=lambda k: -k["mean_us"])
    paths = {}
    for r in reads:
        paths.setdefault(r["path"], []).append(r)
    out["paths"] = []
    for path, rs in sorted(paths.items(), key=lambda p: -len(p[1]))[:3]:
        out["paths"].append({
            "reads": len(rs), "at_msi": path[0],
            "delivery_median_us": med([r["delivery_us"] for r in rs]),
            "steps": [{"step": st, "median_us": med([r["steps"][i] for r in rs])}
                      for i, st in enumerate(path[1:])]})
    h = {"reads": 0, "woken": 0, "tgkill": 0, "sigio_to_main": 0}
    for run in runs:
        for k in h:
            h[k] += run[2][k]
    out["other_threads"] = h
    out["irq"] = sorted({run[3] for run in runs if run[3]})
    return out


def text_report(res):
    lines = []
    for col, s in res.items():
        lines.append("== %s: %d interrupt-driven reads (vfio irq %s)" %
                     (col, s["reads"], ", ".join(s.get("irq", [])) or "?"))
        if s.get("idle_cpu_pct"):
            lines.append("idle UML's CPU use before the reads, per run: %s" %
                         ", ".join("%.2f%%" % v for v in s["idle_cpu_pct"]))
        if not s["reads"]:
            lines.append("")
            continue
        lines.append("medians, us: interrupt-driven read %.1f by the module (%.1f in L1's clock), "
                     "polled read %.1f (%.1f)" %
                     (s["module_irq_median_us"], s["l1_irq_median_us"],
                      s["module_poll_median_us"], s["l1_poll_median_us"]))
        lines.append("  doorbell to MSI in L1 (device) %.1f, MSI to handler (delivery) %.1f "
                     "(mean %.1f)" % (s["device_median_us"], s["delivery_median_us"],
                                      s["delivery_mean_us"]))
        lines.append("")
        lines.append("%-34s %-9s %6s %14s" % ("UML's thread when the MSI came", "same CPU", "reads",
                                              "delivery us"))
        for g in s["by_state"]:
            lines.append("%-34s %-9s %6d %14.1f" % (g["at_msi"], "yes" if g["same_cpu"] else "no",
                                                     g["reads"], g["delivery_median_us"]))
        lines.append("")
        lines.append("%-44s %9s %9s %7s" % ("delivery: kind of time (all reads)", "mean us",
                                            "median", "reads"))
        for k in s["kinds"]:
            lines.append("%-44s %9.1f %9.1f %7d" % (k["kind"], k["mean_us"], k["median_us"],
                                                    k["in_reads"]))
        h = s["other_threads"]
        lines.append("other threads of this UML (the SIGIO helper), from doorbell to the next "
                     "read: woken in %d, tgkill in %d, signalled UML in %d of %d reads" %
                     (h["woken"], h["tgkill"], h["sigio_to_main"], h["reads"]))
        for p in s["paths"]:
            lines.append("")
            lines.append("path of %d reads (%.0f%%), UML %s at the MSI, delivery %.1f us median:" %
                         (p["reads"], 100.0 * p["reads"] / s["reads"], p["at_msi"],
                          p["delivery_median_us"]))
            for st in p["steps"]:
                lines.append("  %-58s %8.1f" % (st["step"], st["median_us"]))
        lines.append("")
    return "\n".join(lines)


def md_report(res):
    lines = []
    for col, s in res.items():
        if not s["reads"]:
            continue
        lines.append("**%s**: %d reads; medians: doorbell to handler %.1f us (module), device "
                     "(doorbell to MSI in L1) %.1f us, delivery (MSI to handler) %.1f us; "
                     "polled read %.1f us (module)"
                     % (col, s["reads"], s["module_irq_median_us"], s["device_median_us"],
                        s["delivery_median_us"], s["module_poll_median_us"]))
        lines.append("")
        lines.append("| delivery: kind of time | mean us | median us | reads |")
        lines.append("|---|---:|---:|---:|")
        for k in s["kinds"]:
            lines.append("| %s | %.1f | %.1f | %d |" % (k["kind"], k["mean_us"], k["median_us"],
                                                      k["in_reads"]))
        lines.append("")
        if s["paths"]:
            p = s["paths"][0]
            lines.append("Most common path (%d of %d reads, UML %s at the MSI), medians:" %
                         (p["reads"], s["reads"], p["at_msi"]))
            lines.append("")
            lines.append("| step | us |")
            lines.append("|---|---:|")
            for st in p["steps"]:
                lines.append("| %s | %.1f |" % (st["step"].replace("->", "&rarr;"), st["median_us"]))
            lines.append("")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: irqtrace.py OUT_DIR L1_LOG...")
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    runs = {}
    idle = {}
    for log in sys.argv[2:]:
        for (boot, rnd, col), files in sorted(split_log(log, raw).items()):
            m = IDLE.search(files.get("irqtrace.log", ""))
            if m and float(m.group(2)) > 0:
                idle.setdefault(col, []).append(100.0 * float(m.group(1)) / float(m.group(2)))
            if "trace.txt" not in files:
                continue
            runs.setdefault(col, []).append(analyse_run(parse_trace(files["trace.txt"])))
    res = {col: summarise(r) for col, r in runs.items()}
    for col, v in idle.items():
        res.setdefault(col, {"reads": 0})["idle_cpu_pct"] = v
    text = text_report(res)
    with open(os.path.join(out, "steps.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "steps.md"), "w") as f:
        f.write(md_report(res) + "\n")
    with open(os.path.join(out, "steps.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(text)
    if not any(s["reads"] for s in res.values()):
        sys.exit("irqtrace: no marked interrupt-driven read in any trace")


if __name__ == "__main__":
    main()
