#!/usr/bin/env python3
"""ingest.py - run `deskmail ingest --mailbox support --json FILE...` over a generated mail set and measure it.

    ingest.py --bin target/release/deskmail --config DIR/deskmail.toml --mail DIR --store sqlite
              [--label TEXT] [--perf] [--result FILE.json] [--log FILE]

Measures the whole process (start-up, migrations, every batch, exit): wall time, user/sys CPU
and peak RSS from wait4(2) of that very child, machine-wide CPU use from /proc/stat, and checks
the --json lines: one per input file, no `error`, the counts add up. Prints the outcome counts,
expected kind vs outcome, and the one-line summary. Exit status 1 when a check fails.
Standard library only.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ARG_BYTES_LIMIT = 1_000_000  # well under ARG_MAX (2 MiB + env): larger sets run as several processes
OUTCOMES = ["created", "threaded", "duplicate", "bounce", "quarantined", "error"]
EXPECTED = {"new": "created", "reply": "threaded", "duplicate": "duplicate", "bounce": "bounce"}


def machine():
    try:
        cores = len(os.sched_getaffinity(0))  # what nproc prints
    except AttributeError:
        cores = os.cpu_count() or 0
    try:
        out = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
        cores = int(out)
    except (OSError, ValueError, subprocess.CalledProcessError):
        pass
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = re.sub(r"\s+", " ", line.split(":", 1)[1]).strip()
                    break
    except OSError:
        pass
    return {"cores": cores, "cpu": model, "kernel": platform.release()}


def proc_stat():
    """(busy, iowait, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait = v[:5]
    rest = sum(v[5:8])  # irq, softirq, steal
    busy = user + nice + system + rest
    return busy, iowait, busy + idle + iowait


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def read_manifest(mail_dir):
    rows = []
    with open(os.path.join(mail_dir, "MANIFEST.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def chunks(files):
    """Split the file list so no single command line gets too long."""
    out, cur, size = [], [], 0
    for name in files:
        if cur and size + len(name) + 1 > ARG_BYTES_LIMIT:
            out.append(cur)
            cur, size = [], 0
        cur.append(name)
        size += len(name) + 1
    if cur:
        out.append(cur)
    return out


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("DESKMAIL_") and "__" in k) and k not in ("DESKMAIL_CONFIG",)}
    return env


def run_once(cmd, cwd, stdout_f, stderr_f, env):
    """Runs cmd; returns (exit status, wall seconds, rusage) of that child alone (wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=stdout_f, stderr=stderr_f, stdin=subprocess.DEVNULL, env=env)
    try:
        _, status, ru = os.wait4(p.pid, 0)
    except KeyboardInterrupt:
        p.terminate()
        raise
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    return p.returncode, wall, ru


def fmt_mb(n):
    return "%.1f" % (n / 1e6)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--mail", required=True, help="directory written by gen_mail.py")
    ap.add_argument("--store", required=True, help="label: sqlite or postgres")
    ap.add_argument("--mailbox", default="support")
    ap.add_argument("--perf", action="store_true", help="run under `perf stat` and print its counters")
    ap.add_argument("--result", help="write the figures as JSON here")
    ap.add_argument("--log", help="keep deskmail's stderr here (default: a temp file, tail shown on failure)")
    a = ap.parse_args()

    mail_dir = os.path.abspath(a.mail)
    rows = read_manifest(mail_dir)
    files = [r["file"] for r in rows]
    kind_of = {r["file"]: r["kind"] for r in rows}
    total_bytes = sum(int(r["bytes"]) for r in rows)
    n = len(files)
    m = machine()
    env = clean_env()

    perf = shutil.which("perf") if a.perf else None
    if a.perf and not perf:
        print("ingest %s: perf not found; running without it" % a.store, file=sys.stderr)

    work = tempfile.mkdtemp(prefix="dm-ingest-")
    out_path = os.path.join(work, "stdout.jsonl")
    err_path = a.log or os.path.join(work, "stderr.log")
    perf_path = os.path.join(work, "perf.txt")
    failures = []
    wall = utime = stime = 0.0
    maxrss_kib = 0
    minflt = majflt = nvcsw = nivcsw = inblock = oublock = 0
    load_before = loadavg()
    busy0, io0, tot0 = proc_stat()
    parts = chunks(files)
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        for i, part in enumerate(parts):
            cmd = [os.path.abspath(a.bin), "--config", os.path.abspath(a.config), "ingest",
                   "--mailbox", a.mailbox, "--json"] + part
            if perf:
                cmd = [perf, "stat", "-o", perf_path, "--append", "-e",
                       "task-clock,context-switches,cpu-migrations,page-faults,cycles,instructions", "--"] + cmd
            code, w, ru = run_once(cmd, mail_dir, out_f, err_f, env)
            wall += w
            utime += ru.ru_utime
            stime += ru.ru_stime
            maxrss_kib = max(maxrss_kib, ru.ru_maxrss)
            minflt += ru.ru_minflt
            majflt += ru.ru_majflt
            nvcsw += ru.ru_nvcsw
            nivcsw += ru.ru_nivcsw
            inblock += ru.ru_inblock
            oublock += ru.ru_oublock
            if code != 0:
                failures.append("deskmail ingest exited with %d (run %d of %d)" % (code, i + 1, len(parts)))
    busy1, io1, tot1 = proc_stat()
    dt = max(1, tot1 - tot0)

    # --- check the JSON lines ---
    counts = {k: 0 for k in OUTCOMES}
    seen = {}
    matrix = {}
    bad_lines = 0
    reasons = {}
    with open(out_path, "rb") as f:
        for raw in f:
            try:
                line = json.loads(raw)
            except ValueError:
                bad_lines += 1
                continue
            outcome = line.get("outcome") or "error"
            counts[outcome] = counts.get(outcome, 0) + 1
            fname = line.get("file")
            seen[fname] = seen.get(fname, 0) + 1
            kind = kind_of.get(fname, "?")
            matrix.setdefault(kind, {}).setdefault(outcome, 0)
            matrix[kind][outcome] += 1
            if outcome != EXPECTED.get(kind) and line.get("reason"):
                key = "%s->%s: %s" % (kind, outcome, line["reason"][:120])
                reasons[key] = reasons.get(key, 0) + 1
    lines = sum(counts.values())
    if bad_lines:
        failures.append("%d stdout lines are not JSON" % bad_lines)
    if counts.get("error"):
        failures.append("%d inputs ended in `error`" % counts["error"])
    if lines != n:
        failures.append("%d outcome lines for %d inputs" % (lines, n))
    missing = [f for f in files if f not in seen]
    twice = [f for f, c in seen.items() if c > 1]
    if missing:
        failures.append("%d inputs have no line (first: %s)" % (len(missing), missing[0]))
    if twice:
        failures.append("%d inputs have several lines (first: %s)" % (len(twice), twice[0]))
    replies = sum(1 for r in rows if r["kind"] == "reply")
    threaded_replies = matrix.get("reply", {}).get("threaded", 0)
    warnings = []
    if replies and threaded_replies < 0.9 * replies:
        warnings.append("only %d of %d replies were threaded" % (threaded_replies, replies))

    # --- report ---
    rate = n / wall if wall else 0.0
    mbps = total_bytes / 1e6 / wall if wall else 0.0
    rss_mb = maxrss_kib * 1024 / 1e6
    cpu = utime + stime
    label = "%d cores, %s" % (m["cores"], m["cpu"])
    p = lambda s="": print(s, flush=True)
    p("ingest %s: outcomes: %s (total %d of %d)" % (
        a.store, ", ".join("%s %d" % (k, counts.get(k, 0)) for k in OUTCOMES
                           if counts.get(k, 0) or k != "error"), lines, n))
    p("ingest %s: expected -> outcome: %s" % (a.store, "; ".join(
        "%s -> %s" % (kind, ", ".join("%s %d" % (o, c) for o, c in sorted(v.items(), key=lambda x: -x[1])))
        for kind, v in sorted(matrix.items()))))
    for key, c in sorted(reasons.items(), key=lambda x: -x[1])[:5]:
        p("ingest %s:   unexpected: %dx %s" % (a.store, c, key))
    p("ingest %s: CPU user %.2f s + sys %.2f s = %.2f s (%.0f%% of one core over the wall time); "
      "machine busy %.0f%%, iowait %.0f%% of %d cores; load before %s" % (
          a.store, utime, stime, cpu, 100 * cpu / wall if wall else 0, 100 * (busy1 - busy0) / dt,
          100 * (io1 - io0) / dt, m["cores"], load_before))
    p("ingest %s: page faults %d minor / %d major, context switches %d voluntary / %d involuntary, "
      "block I/O %d in / %d out (512 B)" % (a.store, minflt, majflt, nvcsw, nivcsw, inblock, oublock))
    if perf and os.path.exists(perf_path):
        with open(perf_path) as f:
            for line in f:
                line = line.rstrip()
                if line and not line.startswith("#") and "Performance counter stats" not in line:
                    p("ingest %s: perf: %s" % (a.store, line.strip()))
    for w in warnings:
        p("ingest %s: WARNING: %s" % (a.store, w))
    summary = "ingest %s: %d msgs in %.2f s = %.0f msg/s, %.1f MB/s, peak RSS %.0f MB (%s)" % (
        a.store, n, wall, rate, mbps, rss_mb, label)
    if len(parts) > 1:
        summary += " [%d processes]" % len(parts)
    p(summary)
    for fail in failures:
        p("ingest %s: FAILED: %s" % (a.store, fail))
    if failures:
        try:
            with open(err_path, "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            p("ingest %s: deskmail stderr (tail):\n%s" % (a.store, tail))
        except OSError:
            pass
    if a.result:
        with open(a.result, "w") as f:
            json.dump({"store": a.store, "messages": n, "bytes": total_bytes, "wall_s": wall,
                       "msg_per_s": rate, "mb_per_s": mbps, "peak_rss_mb": rss_mb,
                       "user_s": utime, "sys_s": stime, "outcomes": counts, "matrix": matrix,
                       "failures": failures, "warnings": warnings, "summary": summary,
                       "machine": m, "processes": len(parts)}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
