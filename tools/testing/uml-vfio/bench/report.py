#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the benchmark's L1 console logs into results.

Usage: report.py OUT_DIR L1_LOG...

Each log holds one L1 boot; job.sh printed every column's raw files between
"BENCH-FILE-BEGIN: boot=N round=R col=C name=F" and "BENCH-FILE-END". They
are saved under OUT_DIR/raw/bootN/roundR/C/F, parsed, and summarised over
all runs (median, min, max) into OUT_DIR/results.json ({"metric":
{"native": x, "uml": y, "uml_upstream": z, "unit": "..."}}, columns that do
not apply are left out), samples.json (every value, and by boot and round),
table.txt, table.md and chart.dat (for chart.gp; empty when no ratio
applies). The table goes to stdout.

Runs of uml, uml_upstream and uml_eager from the same boot and round ran
next to each other, so ours (uml) is also compared with each of the other
two as pairs: the geometric mean of the paired ratios with a 95%
t-interval, and whether that interval lies on one side of 1
("better"/"worse") or not ("~": no difference shown at this sample size).
No threshold is applied and nothing fails on a timing; the boot-time goals
of the DMA modes are printed as ratios next to their goal.
"""
import json
import math
import os
import re
import statistics
import sys

COLUMNS = ["native", "uml", "uml_upstream", "uml_eager", "uml_strict", "uml_nommap",
           "uml_nodirect", "uml_v1", "uml_v2", "uml_v3"]

# Columns ours (uml) is compared with run by run: (column, short name).
PAIRS = [("uml_upstream", "upstream"), ("uml_eager", "eager")]

# UML boots: the log's name in a column's raw files, and its metric.
BOOTS = [("uml-ready-256m.log", "boot_to_ready_s_256m"),
         ("uml-1g.log", "boot_to_ready_s_1g"),
         ("uml-4g.log", "boot_to_ready_s_4g"),
         ("uml-nodev-256m.log", "boot_to_ready_s_nodev_256m"),
         ("uml-nodev-1g.log", "boot_to_ready_s_nodev_1g"),
         ("uml-nodev-4g.log", "boot_to_ready_s_nodev_4g")]

# key, unit, better ("higher"/"lower"), short label for the chart
METRICS = [
    ("nvme_randread_4k_qd1_iops", "IOPS", "higher", "4k QD1 IOPS"),
    ("nvme_randread_4k_qd1_p50_us", "us", "lower", "4k QD1 p50"),
    ("nvme_randread_4k_qd1_p99_us", "us", "lower", "4k QD1 p99"),
    ("nvme_randread_4k_qd32_iops", "IOPS", "higher", "4k QD32 IOPS"),
    ("nvme_randread_4k_qd1_sqpoll_p50_us", "us", "lower", "SQPOLL p50"),
    ("nvme_seqread_128k_mbps", "MB/s", "higher", "128k seq MB/s"),
    ("mmio_read_ns", "ns", "lower", "MMIO read"),
    ("mmio_write_ns", "ns", "lower", "MMIO write"),
    ("irq_roundtrip_us", "us", "lower", "IRQ delivery"),
    ("irq_nvme_msix_us", "us", "lower", "IRQ nvme MSI-X"),
    ("irq_nvme_intx_us", "us", "lower", "IRQ nvme INTx"),
    ("irq_edu_msi_us", "us", "lower", "IRQ edu MSI"),
    ("irq_edu_intx_us", "us", "lower", "IRQ edu INTx"),
    ("nvme_read_irq_p50_us", "us", "lower", "kernel read (IRQ)"),
    ("nvme_read_poll_p50_us", "us", "lower", "kernel read (poll)"),
    ("nvme_probe_ms", "ms", "lower", "nvme probe"),
    ("e1000e_probe_ms", "ms", "lower", "e1000e probe"),
    ("boot_to_ready_s_256m", "s", "lower", "boot 256M"),
    ("boot_to_ready_s_1g", "s", "lower", "boot 1G"),
    ("boot_to_ready_s_4g", "s", "lower", "boot 4G"),
    ("boot_to_ready_s_nodev_256m", "s", "lower", "boot no dev"),
    ("boot_to_ready_s_nodev_1g", "s", "lower", "boot no dev 1G"),
    ("boot_to_ready_s_nodev_4g", "s", "lower", "boot no dev 4G"),
    ("net_ping_p50_us", "us", "lower", "ping p50"),
    ("net_tcp_mbps", "Mbit/s", "higher", "TCP Mbit/s"),
    ("idle_cpu_pct", "%", "lower", "idle CPU"),
]

IRQ_LINE = re.compile(r"^dev=(\w+) kind=(\w+) ret=0 .*\brt_n=([1-9]\d*) rt_p50_ns=(\d+)", re.M)

KEYS = {k for k, *_ in METRICS}

FILE_BEGIN = re.compile(r"^BENCH-FILE-BEGIN: boot=(\d+)(?: round=(\d+))? col=(\w+) name=(\S+)$")

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def split_log(path, raw):
    """Save every file block of one L1 log; return {(boot, round, col): {name: text}}."""
    found = {}
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            m = FILE_BEGIN.match(line)
            if m:
                cur = (int(m.group(1)), int(m.group(2) or 1), m.group(3), m.group(4))
                lines = []
                continue
            if cur and line == "BENCH-FILE-END":
                boot, rnd, col, name = cur
                text = "\n".join(lines)
                found.setdefault((boot, rnd, col), {})[name] = text
                d = os.path.join(raw, "boot%d" % boot, "round%d" % rnd, col)
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, name), "w") as out:
                    out.write(text)
                cur = None
                continue
            if cur:
                lines.append(line)
    return found


def fio_jobs(text):
    """{jobname: job} from fio's JSON output (which may follow other text)."""
    start = text.find("{")
    if start < 0:
        return {}
    try:
        data = json.loads(text[start:])
    except ValueError:
        return {}
    return {j["jobname"]: j for j in data.get("jobs", []) if not j.get("error")}


def pct(job, p):
    v = job["read"].get("lat_ns", {}).get("percentile", {}).get("%.6f" % p)
    return v / 1000.0 if v else None


PROBE = re.compile(r"^kind=(\w+) probetime: .*\bret=0\b.*\bprobe_ms=([\d.]+) res_ms=([\d.]+)", re.M)


def parse_probe(text):
    """{kind: (median probe_ms, max res_ms, tries)} from probe.txt."""
    tries = {}
    for kind, ms, res in PROBE.findall(text):
        tries.setdefault(kind, []).append((float(ms), float(res)))
    return {k: (statistics.median(ms for ms, _ in v), max(r for _, r in v), len(v))
            for k, v in tries.items()}


def parse_col(files, res=None):
    """One boot's metrics for one column; res collects probe resolutions."""
    m = {}
    jobs = fio_jobs(files.get("fio.json", ""))
    j = jobs.get("randread_4k_qd1")
    if j and j["read"]["iops"] > 0:
        m["nvme_randread_4k_qd1_iops"] = j["read"]["iops"]
        m["nvme_randread_4k_qd1_p50_us"] = pct(j, 50)
        m["nvme_randread_4k_qd1_p99_us"] = pct(j, 99)
    j = jobs.get("randread_4k_qd32")
    if j and j["read"]["iops"] > 0:
        m["nvme_randread_4k_qd32_iops"] = j["read"]["iops"]
    j = jobs.get("seqread_128k")
    if j and j["read"]["bw_bytes"] > 0:
        m["nvme_seqread_128k_mbps"] = j["read"]["bw_bytes"] / 1e6
    j = fio_jobs(files.get("sqpoll.json", "")).get("randread_4k_qd1_sqpoll")
    if j and j["read"]["iops"] > 0:
        m["nvme_randread_4k_qd1_sqpoll_p50_us"] = pct(j, 50)

    kv = dict(re.findall(r"(\w+)=(-?\d+)", files.get("mod.txt", "")))
    if kv.get("ret") == "0" and "read_poll_p50_ns" in kv:
        m["mmio_read_ns"] = float(kv["mmio_read_ns"])
        m["mmio_write_ns"] = float(kv["mmio_write_ns"])
        irq = float(kv["read_irq_p50_ns"]) / 1000
        poll = float(kv["read_poll_p50_ns"]) / 1000
        m["nvme_read_irq_p50_us"] = irq
        m["nvme_read_poll_p50_us"] = poll
        m["irq_roundtrip_us"] = irq - poll

    for dev, kind, _, ns in IRQ_LINE.findall(files.get("irq.txt", "")):
        key = "irq_%s_%s_us" % (dev, kind)
        if key in KEYS:
            m[key] = float(ns) / 1000

    rtts = [float(x) * 1000 for x in re.findall(r"time=([\d.]+) ms", files.get("ping.txt", ""))]
    if rtts:
        m["net_ping_p50_us"] = statistics.median(rtts)
    t = re.search(r"mbps=([\d.]+)", files.get("tcp.txt", ""))
    if t:
        m["net_tcp_mbps"] = float(t.group(1))

    for kind, (ms, r, n) in parse_probe(files.get("probe.txt", "")).items():
        if kind in ("nvme", "e1000e"):
            m[kind + "_probe_ms"] = ms
            if res is not None:
                res.append(r)

    # Column uml boots each kind more than once (job.sh's BOOT_REPS:
    # NAME.log, then NAME-r2.log...): the run's value is their median.
    for name, key in BOOTS:
        stem = name[:-len(".log")]
        secs = []
        for fname, log in files.items():
            if fname != name and not re.fullmatch(re.escape(stem) + r"-r\d+\.log", fname):
                continue
            r = re.search(r"^BENCH-READY-AT: secs=([\d.]+)", log, re.M)
            if r and re.search(r"^BENCH-READY\s*$", log, re.M):
                secs.append(float(r.group(1)))
        if secs:
            m[key] = statistics.median(secs)
    r = re.search(r"^BENCH-IDLE: cpu_ms=([\d.]+) wall_ms=([\d.]+)", files.get("uml-256m.log", ""), re.M)
    if r and float(r.group(2)) > 0:
        m["idle_cpu_pct"] = 100.0 * float(r.group(1)) / float(r.group(2))
    return {k: v for k, v in m.items() if v is not None}


def sqpoll_note(cpus):
    """Why the SQPOLL key does not isolate the driver here, from the facts."""
    uml = sorted({n for c, n in cpus.items() if c.startswith("uml")})
    if not uml:
        return []
    return [
        "SQPOLL: UML runs on %s CPU(s) (its /proc/cpuinfo; UML is built with "
        "NR_CPUS=1), so io_uring's SQ thread and fio, both busy-polling, take "
        "turns at UML's 10 ms scheduler tick: nvme_randread_4k_qd1_sqpoll_p50_us "
        "measures that, not the driver. L1 has %s vCPUs, but TCG thread=single "
        "runs them one at a time, so the native value is no parallel polling "
        "either. For the driver's own costs read irq_roundtrip_us and "
        "nvme_read_{irq,poll}_p50_us (kernel context, no system call)."
        % ("/".join(map(str, uml)), cpus.get("native", "?"))]


def probe_note(res):
    """How the *_probe_ms keys are taken, with the resolution seen."""
    worst = {c: max(r) for c, r in res.items() if r}
    if not worst:
        return []
    return [
        "*_probe_ms: unbind, then one write of the BDF to "
        "/sys/bus/pci/drivers/DRV/bind until the namespace block device "
        "(nvme, probed asynchronously) or the netdev (e1000e) exists; "
        "CLOCK_MONOTONIC, taken at the end of the first check (every ~1 ms, "
        "one stat or readdir) that sees it; median of the tries in each run "
        "(raw/bootN/roundR/COL/probe.txt). Resolution: the path appeared at most "
        "this long before that (largest window after the write returned or "
        "the last failed check): %s ms" % ", ".join(
            "%s %.2f" % (c, worst[c]) for c in COLUMNS if c in worst)]


def boot_note(results):
    """Boot-to-ready against mem= in the default (on-demand) DMA mode."""
    def med(key, col="uml"):
        return results.get(key, {}).get(col)

    goals = [("boot_to_ready_s_4g", "boot_to_ready_s_256m", "uml", 1.10,
              "boot no longer grows with mem="),
             ("boot_to_ready_s_1g", "boot_to_ready_s_nodev_1g", "uml", 1.50,
              "the devices cost at most half a no-device boot")]
    out = []
    for key, base, col, goal, why in goals:
        r = ratio(med(key, col), med(base, col))
        if r is not None:
            out.append("%s/%s (%s, medians): %.3f; goal <= %.2f: %s"
                       % (key[len("boot_to_ready_s_"):], base[len("boot_to_ready_s_"):],
                          col, r, goal, why))
    # What the devices add at each size, and how UML's own boot grows.
    share = []
    for size in ("256m", "1g", "4g"):
        b, n = med("boot_to_ready_s_" + size), med("boot_to_ready_s_nodev_" + size)
        if b is not None and n is not None:
            share.append("%s %.2f s" % (size, b - n))
    if share:
        own = ratio(med("boot_to_ready_s_nodev_4g"), med("boot_to_ready_s_nodev_256m"))
        out.append("devices' share (uml minus its no-device boot at the same mem=, medians): %s%s"
                   % (", ".join(share),
                      "" if own is None else
                      "; UML's own boot, nodev_4g/nodev_256m: %.3f" % own))
    if out:
        out.insert(0, "boot_to_ready_s_*: from UML's launch until its init sees nvme0n1 "
                   "(nodev: until init runs), in round 1 of each L1 boot: the median "
                   "of BENCH_BOOT_REPS boots of each kind in column uml, one boot in "
                   "the others")
    return out


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 10:
        return "%.2f" % v
    return "%.3f" % v


def ratio(a, b):
    return a / b if a is not None and b else None


def paired(a, b):
    """Runs {(boot, round): value} of two columns, compared pair by pair.

    Returns (geometric mean of a/b, 95% interval low, high, pairs) or None
    with fewer than two pairs. Pairing removes what the two runs of a pair
    share (the host's load at that time, the L1 boot).
    """
    logs = [math.log(a[k] / b[k]) for k in sorted(set(a) & set(b))
            if a[k] > 0 and b[k] > 0]
    n = len(logs)
    if n < 2:
        return None
    mean = statistics.mean(logs)
    half = (T975[n - 2] if n - 1 <= len(T975) else 1.96) * statistics.stdev(logs) / math.sqrt(n)
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half), n


def verdict(p, better):
    """"better"/"worse" when the interval lies on one side of 1, else "~"."""
    _, lo, hi, _ = p
    if lo > 1:
        return "better" if better == "higher" else "worse"
    if hi < 1:
        return "worse" if better == "higher" else "better"
    return "~"


def main():
    out, logs = sys.argv[1], sys.argv[2:]
    raw = os.path.join(out, "raw")
    samples = {}            # metric -> col -> [values]
    runs = {}               # metric -> col -> {(boot, round): value}
    boots = set()
    rounds = set()
    cpus = {}               # col -> CPUs seen by the benchmark's kernel
    res = {}                # col -> probe resolutions (ms)
    for path in logs:
        for (boot, rnd, col), files in sorted(split_log(path, raw).items()):
            boots.add(boot)
            rounds.add(rnd)
            n = files.get("cpus.txt", "").strip()
            if n.isdigit():
                cpus[col] = int(n)
            for k, v in parse_col(files, res.setdefault(col, [])).items():
                samples.setdefault(k, {}).setdefault(col, []).append(v)
                runs.setdefault(k, {}).setdefault(col, {})[(boot, rnd)] = v

    cols = [c for c in COLUMNS if any(c in s for s in samples.values())]
    results, table = {}, []
    for key, unit, better, label in METRICS:
        s = samples.get(key, {})
        med = {c: statistics.median(s[c]) for c in cols if s.get(c)}
        if not med:
            continue
        results[key] = dict(med, unit=unit)
        r = runs.get(key, {})
        pairs = {}
        for other, _ in PAIRS:
            pair = paired(r.get("uml", {}), r.get(other, {}))
            if pair:
                pairs[other] = pair
                results[key]["paired_uml_" + other[len("uml_"):]] = {
                    "ratio": pair[0], "ci95": [pair[1], pair[2]], "pairs": pair[3],
                    "verdict": verdict(pair, better)}
        table.append((key, unit, better, label, med,
                      {c: (min(s[c]), max(s[c]), len(s[c])) for c in med}, pairs))

    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "samples.json"), "w") as f:
        json.dump({"boots": sorted(boots), "rounds": sorted(rounds), "samples": samples,
                   "runs": {k: {c: [[b, n, v] for (b, n), v in sorted(cv.items())]
                                for c, cv in kv.items()} for k, kv in runs.items()}},
                  f, indent=1)
        f.write("\n")

    # Text and markdown tables: median [min-max] over the boots.
    pair_cols = [(c, n) for c, n in PAIRS if c in cols]
    head = ["metric", "unit"] + cols + ["ours/native", "ours/upstream"]
    if "uml_strict" in cols:
        head.append("strict/ours")
    for _, name in pair_cols:
        head += ["paired ours/%s [95%%]" % name, "vs %s" % name]
    rows = []
    for key, unit, better, _, med, spread, pairs in table:
        cells = [key, unit + (" (higher better)" if better == "higher" else "")]
        for c in cols:
            if c in med:
                lo, hi, n = spread[c]
                cells.append("%s [%s-%s]" % (fmt(med[c]), fmt(lo), fmt(hi)))
            else:
                cells.append("-")
        cells.append(fmt(ratio(med.get("uml"), med.get("native"))))
        cells.append(fmt(ratio(med.get("uml"), med.get("uml_upstream"))))
        if "uml_strict" in cols:
            cells.append(fmt(ratio(med.get("uml_strict"), med.get("uml"))))
        for other, _ in pair_cols:
            pair = pairs.get(other)
            if pair:
                cells.append("%s [%s-%s] n=%d" % (fmt(pair[0]), fmt(pair[1]), fmt(pair[2]),
                                                  pair[3]))
                cells.append(verdict(pair, better))
            else:
                cells += ["-", "-"]
        rows.append(cells)
    width = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width)).rstrip()
             for r in [head] + rows]
    note = ("median [min-max] over all runs (%d L1 boot(s), %d round(s) of %s in "
            "each; the other columns run in round 1 only); ours/native, ours/upstream "
            "and strict/ours divide the medians"
            % (len(boots), len(rounds), ", ".join(["uml"] + [c for c, _ in pair_cols])))
    notes = [note,
             "paired: runs of uml and of the other column from the same boot and round "
             "(next to each other in time); geometric mean of their ratios, 95% "
             "t-interval, n pairs. vs upstream, vs eager: better/worse when the "
             "interval lies on one side of 1 (the arrow of the metric says which way "
             "is better), ~ when it contains 1 (no difference shown at this sample "
             "size)",
             "irq_roundtrip_us = nvme_read_irq_p50_us - nvme_read_poll_p50_us: "
             "one-block reads issued by bench_nvme.ko in kernel context, completion "
             "by MSI-X interrupt vs. by polling a queue with interrupts off",
             "irq_DEV_KIND_us: median of 200 round trips by irqtest.ko in kernel context, "
             "from making the device interrupt (nvme: a Get Features command on its "
             "admin queue; edu: its raise register) to the handler; a kind a "
             "column cannot deliver (upstream's driver: MSI-X only, and no edu) "
             "is left out"]
    notes += probe_note(res)
    notes += boot_note(results)
    notes += sqpoll_note(cpus)
    text = "\n".join(lines + [""] + notes) + "\n"
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(text)
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(md + [""] + notes) + "\n")

    # chart.dat for chart.gp: a header row of series titles, then one row
    # per metric ("NaN" where a ratio does not apply). Only series with data.
    series = [("ours / native", "uml", "native"),
              ("ours / upstream", "uml", "uml_upstream"),
              ("ours / ours eager", "uml", "uml_eager"),
              ("ours strict / ours", "uml_strict", "uml"),
              ("ours, mmap=0 / upstream", "uml_nommap", "uml_upstream")]
    chart = []
    for key, unit, better, label, med, _, _ in table:
        arrow = "\u2191" if better == "higher" else "\u2193"
        chart.append(('"%s %s"' % (label, arrow),
                      [ratio(med.get(a), med.get(b)) for _, a, b in series]))
    keep = [i for i in range(len(series))
            if any(v[i] is not None and v[i] > 0 for _, v in chart)]
    with open(os.path.join(out, "chart.dat"), "w") as f:
        if keep:
            f.write('"metric" %s\n' % " ".join('"%s"' % series[i][0] for i in keep))
            for label, vals in chart:
                if any(vals[i] is not None and vals[i] > 0 for i in keep):
                    f.write("%s %s\n" % (label, " ".join(
                        "%.6g" % vals[i] if vals[i] and vals[i] > 0 else "NaN"
                        for i in keep)))
    sys.stdout.write(text)
    missing = [k for k, *_ in METRICS if k not in results]
    if missing:
        print("not measured: " + ", ".join(missing))


if __name__ == "__main__":
    main()
