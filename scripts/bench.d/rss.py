#!/usr/bin/env python3
"""rss.py - `scripts/bench rss`: RSS of an idle `deskmail serve` with four IMAP+SMTP mailboxes.

    rss.py --bin target/release/deskmail --work DIR --sqlite-url URL [--pg-url URL] [--settle 3] [--mails 3]
           [--summary FILE]

Needs the mail system's MAILENV_* (scripts/lib.sh dm_mailenv_start).

Per store (SQLite, then PostgreSQL when --pg-url is given): four fresh, empty mailboxes
rss-<run>-<store>-<k>@<wildcard domain> (imap: implicit TLS, IDLE, import_existing = "all"; smtp: submission,
STARTTLS), `deskmail serve` started, /healthz polled until every mailbox is synced and idle, --settle seconds
more, then from /proc: VmRSS (target <= 25 MB), VmHWM (peak), threads, and the anonymous vs file-backed
(mostly the binary's touched text) resident memory. Then --mails mails per mailbox arrive over SMTP (port 25
style; each signed "Sent from my iPhone"), and once their tickets are in the API and the mailboxes idle again,
+ --settle s, the same figures again, for insight (no target). /proc/PID/smaps of both moments is saved as
DIR/<store>/smaps.txt and smaps-after.txt (DM_BENCH_KEEP=1 keeps the work dir).

Exit status 1 when a run fails; a missed target is only printed as BELOW TARGET. Standard library only.
"""

import argparse
import os
import secrets
import smtplib
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
from benchlib import p  # noqa: E402

RSS_TARGET_MB = 25.0
MAILBOXES = 4


def proc_fields(path, names):
    """{name: kB} of `Name:  123 kB` lines in a /proc file."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in names:
                    out[k] = int(v.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def memory(pid):
    """VmRSS, VmHWM, threads and the anonymous / file-backed split, in MB (threads a count)."""
    st = proc_fields("/proc/%d/status" % pid, {"VmRSS", "VmHWM", "Threads", "RssAnon", "RssFile", "RssShmem"})
    roll = proc_fields("/proc/%d/smaps_rollup" % pid, {"Anonymous"})
    mb = lambda kb: kb / 1024.0  # noqa: E731
    return {"rss": mb(st.get("VmRSS", 0)), "hwm": mb(st.get("VmHWM", 0)), "threads": st.get("Threads", 0),
            "anon": mb(roll.get("Anonymous", st.get("RssAnon", 0))),
            "file": mb(st.get("RssFile", 0) + st.get("RssShmem", 0))}


def wait_synced(api, server, timeout=90):
    """Until /healthz shows every mailbox synced once and idle; returns seconds waited."""
    t0 = time.monotonic()
    body = None
    while time.monotonic() < t0 + timeout:
        if not server.alive():
            raise RuntimeError("deskmail serve exited:\n%s" % server.tail(1500))
        try:
            _, body = api.get("/healthz")
        except OSError:
            body = None
        mbs = body.get("mailboxes", []) if isinstance(body, dict) else []
        if len(mbs) == MAILBOXES and all(m.get("last_sync_at") and m.get("state") == "idle" for m in mbs):
            return time.monotonic() - t0
        time.sleep(0.1)
    raise RuntimeError("the mailboxes were not all synced and idle within %d s: %s" % (timeout, body))


def send_mails(env, run, store, supports, n):
    smtp = smtplib.SMTP(env["MAILENV_HOST"], int(env["MAILENV_SMTP_PORT"]), timeout=60)
    for k, to in enumerate(supports):
        for i in range(n):
            sender = "rss-customer-%d@customer.test" % i
            smtp.sendmail(sender, [to], (
                "From: <%s>\r\nTo: <%s>\r\nSubject: Question %d\r\nMessage-ID: <rss-%s-%s-%d-%d@customer.test>\r\n"
                "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                "Hello, where is my order?\r\n\r\nSent from my iPhone\r\n" % (sender, to, i, run, store, k, i)).encode())
    smtp.quit()


def wait_tickets(api, server, n, timeout=60):
    t0 = time.monotonic()
    total = None
    while time.monotonic() < t0 + timeout:
        if not server.alive():
            raise RuntimeError("deskmail serve exited:\n%s" % server.tail(1500))
        status, body = api.get("/api/v1/tickets", per_page=1)
        total = body.get("total") if status == 200 and isinstance(body, dict) else None
        if total is not None and total >= n:
            return time.monotonic() - t0
        time.sleep(0.1)
    raise RuntimeError("only %s of %d tickets within %d s" % (total, n, timeout))


def line(m):
    return "%.1f MB; peak %.1f MB; %d threads; anonymous %.1f MB, file-backed %.1f MB" % (
        m["rss"], m["hwm"], m["threads"], m["anon"], m["file"])


def measure(a, env, run, store, url):
    """Returns (idle summary line, after-mail summary line)."""
    wild = env["MAILENV_WILDCARD_DOMAIN"]
    supports = ["rss-%s-%s-%d@%s" % (run, store, k, wild) for k in range(MAILBOXES)]
    d = os.path.join(os.path.abspath(a.work), store)
    os.makedirs(os.path.join(d, "storage"), exist_ok=True)
    port = bl.free_port()
    account = lambda addr: {"host": env["MAILENV_HOST"], "username": addr,  # noqa: E731
                            "password": env["MAILENV_WILDCARD_PASSWORD"], "ca_file": env["MAILENV_CA_CERT"]}
    mailboxes = [{
        "name": "rss%d" % k, "address": addr,
        "imap": dict(account(addr), port=int(env["MAILENV_IMAPS_PORT"]), tls="implicit",
                     import_existing="all", idle=True),
        "smtp": dict(account(addr), port=int(env["MAILENV_SUBMISSION_PORT"]), tls="starttls"),
    } for k, addr in enumerate(supports)]
    cfg = os.path.join(d, "deskmail.toml")
    bl.write_config(cfg, {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
        "database": {"url": url},
        "storage": {"dir": os.path.join(d, "storage")},
        "security": {"secret": secrets.token_hex(32)},
    }, mailboxes)
    token = bl.api_token(a.bin, cfg)
    server = bl.Server(a.bin, cfg, os.path.join(d, "serve.log"))
    try:
        api = bl.Api(port, token)
        bl.wait_http(api, server)
        waited = wait_synced(api, server)
        time.sleep(a.settle)
        idle = memory(server.pid)
        with open("/proc/%d/smaps" % server.pid) as src, open(os.path.join(d, "smaps.txt"), "w") as dst:
            dst.write(src.read())   # for a closer look (DM_BENCH_KEEP=1 keeps the work dir)
        after = None
        if a.mails:
            send_mails(env, run, store, supports, a.mails)
            took = wait_tickets(api, server, a.mails * MAILBOXES)
            wait_synced(api, server)
            time.sleep(a.settle)
            after = memory(server.pid)
            with open("/proc/%d/smaps" % server.pid) as src, open(os.path.join(d, "smaps-after.txt"), "w") as dst:
                dst.write(src.read())
        if not server.alive():
            raise RuntimeError("deskmail serve exited:\n%s" % server.tail(1500))
    finally:
        server.stop()
    verdict = "" if idle["rss"] <= RSS_TARGET_MB else "  BELOW TARGET"
    first = ("rss: %s: RSS idle (deskmail serve, 4 IMAP+SMTP mailboxes, after start-up and the first sync (%.1f s) "
             "+ %d s): %s; target <= %.0f MB%s" % (store, waited, a.settle, line(idle), RSS_TARGET_MB, verdict))
    second = None
    if after:
        second = ("rss: %s: RSS after %d mails imported (tickets after %.1f s) and acknowledged, idle again + %d s: "
                  "%s (no target; for insight)" % (store, a.mails * MAILBOXES, took, a.settle, line(after)))
    return first, second


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sqlite-url", required=True)
    ap.add_argument("--pg-url")
    ap.add_argument("--settle", type=int, default=3)
    ap.add_argument("--mails", type=int, default=3)
    ap.add_argument("--summary")
    a = ap.parse_args()
    env = bl.mailenv()
    label = bl.machine_label()
    run = secrets.token_hex(3)
    m = bl.machine()
    summaries, failed = [], False
    stores = [("sqlite", a.sqlite_url)] + ([("postgres", a.pg_url)] if a.pg_url else [])
    for store, url in stores:
        try:
            lines = [x for x in measure(a, env, run, store, url) if x]
        except Exception as e:  # noqa: BLE001 - reported as a failure
            lines, failed = ["rss: %s: FAILED: %s: %s" % (store, type(e).__name__, e)], True
        for s in lines:
            p(s)
            summaries.append(s)
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1e6
    summaries.append("rss: machine: %s, %.1f GB RAM (%d cores)" % (label, mem, m["cores"]))
    if a.summary:
        with open(a.summary, "a") as f:
            f.write("\n".join(summaries) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
