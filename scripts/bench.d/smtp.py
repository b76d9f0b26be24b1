#!/usr/bin/env python3
"""smtp.py - `scripts/bench smtp`: deskmail's outbound mail rate through the real Postfix submission port.

    smtp.py --bin target/release/deskmail --work DIR [--count 2000] [--customers 100] [--threads 8]
            [--smtplib-threads 8] [--summary FILE]

Needs the mail system's MAILENV_* (scripts/lib.sh dm_mailenv_start).

1. Config: one mailbox bench-<random>@<wildcard domain> without imap, with smtp = { submission port,
   starttls, AUTH as that address, the kit's CA }, [outbound] retry_initial_secs = 1 and
   ack_limit_per_hour = --count (every new ticket is acknowledged); SQLite.
2. Writes --count customer mails (from --customers wildcard addresses cust-<run>-NNN, round robin)
   and ingests them with `deskmail ingest --mailbox bench --json` before `serve` starts: every mail is a
   new ticket, and its acknowledgement is queued (--count mails, rendered, waiting in the outbox).
3. The baseline: a plain smtplib sender sends the same --count acknowledgements (their raw bytes from
   the outbox, the same envelope sender) to base-<run>-NNN addresses (as many as the customers) through
   the same submission port: --smtplib-threads threads, each over one connection (STARTTLS, AUTH as the
   mailbox, then one sendmail() per mail: MAIL, RCPT, DATA in turn, smtplib does not pipeline; QUIT),
   timed from the first connect until the last mail is accepted. Then waits until Postfix has delivered
   them (its log), so that deskmail starts on an idle Postfix.
4. Starts `deskmail serve`; the queued acknowledgements go out first: deskmail's outbound rate (target
   >= 500 msg/s and >= 50 % of the smtplib rate), timed from process start until nothing is queued or
   sending (the database, read-only, every 20 ms; and GET /api/v1/outbox); then waits until Postfix has
   delivered them.
5. POSTs one agent reply per ticket (POST /api/v1/tickets/{n}/replies, --threads keep-alive clients):
   the enqueue rate; and from the first POST until every agent_reply delivery is `sent` (counted
   read-only in the SQLite database every 100 ms): the delivery rate (target >= 150 msg/s).
6. Checks the arrival: Postfix's log (status=sent to this run's customers) and every customer's INBOX
   over IMAPS (UID SEARCH BODY <the run's marker>).
7. SIGTERM to deskmail. Prints the figures; the summary lines also go to --summary.

Exit status 1 when a check fails (a POST failed, not every delivery was sent in time, a reply did not
arrive); a missed speed target is only printed as BELOW TARGET. Standard library only.
"""

import argparse
import email.utils
import imaplib
import json
import os
import random
import secrets
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
from benchlib import p  # noqa: E402

DELIVERY_TARGET = 150.0    # msg/s, agent replies through the API (bounded by the POST rate)
OUTBOUND_TARGET = 500.0    # msg/s, the queued acknowledgements
RATIO_TARGET = 0.5         # deskmail's outbound rate / smtplib's
ARG_BYTES_LIMIT = 1_000_000

SUBJECTS = [
    "Order {n} has not arrived", "Invoice {n}: wrong VAT number", "Cannot log in since yesterday",
    "Refund for order {n}", "Rechnung {n} fehlt", "Problème avec la commande {n}", "Pedido {n} incompleto",
    "API returns 500 for /orders/{n}", "Change of delivery address for {n}", "Question about my subscription",
]
LINES = [
    "I ordered last week and the tracking page still says 'label created'.",
    "Could you please send me a corrected invoice? Our VAT ID is DE123456789.",
    "The password reset mail never arrives, I checked the spam folder too.",
    "The parcel arrived damaged, photos are attached to my previous mail.",
    "We would like to upgrade to the yearly plan if that is possible mid-term.",
    "Since this morning every export fails with a timeout after about 30 seconds.",
]


def customer_mail(i, sender, name, address, rnd):
    n = rnd.randint(10000, 99999)
    subject = rnd.choice(SUBJECTS).format(n=n) + " (#%d)" % i
    body = "Hello,\r\n\r\n%s\r\n%s\r\n\r\nBest regards,\r\n%s\r\n" % (
        rnd.choice(LINES), rnd.choice(LINES), name)
    return ("Return-Path: <%s>\r\nReceived: from mail.customer.test (127.0.0.1) by mx.example.test;\r\n\t%s\r\n"
            "From: %s <%s>\r\nTo: Support <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            "\r\n%s" % (sender, email.utils.formatdate(), name, sender, address, subject, email.utils.formatdate(),
                        email.utils.make_msgid(idstring="c%d" % i, domain="customer.test"), body)).encode()


def chunks(files):
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


class Outbox:
    """Read-only counts from deskmail's SQLite database: {(kind, status): n}."""

    def __init__(self, path):
        self.path = path
        self.db = None

    def counts(self):
        if self.db is None:
            self.db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        rows = self.db.execute("select o.kind, d.status, count(*) from deliveries d "
                               "join outbound_mails o on o.id = d.outbound_id group by 1, 2").fetchall()
        return {(k, s): c for k, s, c in rows}

    def kind(self, kind):
        c = self.counts()
        return {s: n for (k, s), n in c.items() if k == kind}

    def errors(self, kind, limit=3):
        rows = self.db.execute("select d.last_error, count(*) from deliveries d join outbound_mails o "
                               "on o.id = d.outbound_id where o.kind = ? and d.last_error is not null "
                               "group by 1 order by 2 desc limit ?", (kind, limit)).fetchall()
        return rows

    def close(self):
        if self.db is not None:
            self.db.close()


def fmt_counts(c):
    return ", ".join("%s %d" % (s, c.get(s, 0)) for s in ("queued", "sending", "sent", "failed") if c.get(s, 0)) \
        or "none"


def postfix_sent(log_path, prefix):
    """Postfix's `status=sent` deliveries to recipients starting with prefix (0 when there is no log)."""
    n = 0
    try:
        with open(log_path, "rb") as f:
            for line in f:
                if b"status=sent" in line and (b"to=<" + prefix) in line:
                    n += 1
    except OSError:
        return None
    return n


def count_inboxes(env, customers, marker):
    """(replies with the marker, all messages) over every customer's INBOX."""
    replies = total = 0
    ctx = bl.tls_context(env["MAILENV_CA_CERT"])
    for c in customers:
        m = imaplib.IMAP4_SSL(env["MAILENV_HOST"], int(env["MAILENV_IMAPS_PORT"]), ssl_context=ctx, timeout=60)
        m.login(c, env["MAILENV_WILDCARD_PASSWORD"])
        typ, data = m.select("INBOX", readonly=True)
        total += int(data[0])
        typ, data = m.uid("SEARCH", None, "BODY", '"%s"' % marker)
        replies += len(data[0].split()) if data and data[0] else 0
        m.logout()
    return replies, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--customers", type=int, default=100)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pool-size", type=int, default=0, help="smtp.pool_size of the mailbox (default: deskmail's)")
    ap.add_argument("--smtplib-threads", type=int, default=8, help="threads (one connection each) of the baseline")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per phase (default: 120 + 0.1 s per mail)")
    ap.add_argument("--summary", help="append the summary lines here")
    a = ap.parse_args()
    if a.count < 1 or a.customers < 1 or a.threads < 1:
        sys.exit("smtp.py: --count, --customers and --threads must be >= 1")

    env = bl.mailenv()
    label = bl.machine_label()
    run = secrets.token_hex(4)
    wild = env["MAILENV_WILDCARD_DOMAIN"]
    address = "bench-%s@%s" % (run, wild)
    marker = "bench-reply-%s" % run
    work = os.path.abspath(a.work)
    timeout = a.timeout or 120 + 0.1 * a.count
    failures, summaries = [], []
    n = a.count
    customers = ["cust-%s-%03d@%s" % (run, k, wild) for k in range(a.customers)]
    p("smtp: support mailbox %s sends through %s:%s (submission, STARTTLS, AUTH; %s); %d tickets from %d customers" % (
        address, env["MAILENV_HOST"], env["MAILENV_SUBMISSION_PORT"], env["MAILENV_SMTP_IMPL"] or "?", n,
        len(customers)))

    # --- 1. config, user, token ---
    port = bl.free_port()
    cfg = os.path.join(work, "deskmail.toml")
    db_path = os.path.join(work, "deskmail.db")
    os.makedirs(os.path.join(work, "storage"), exist_ok=True)
    bl.write_config(cfg, {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
        "database": {"url": "sqlite://%s" % db_path},
        "storage": {"dir": os.path.join(work, "storage")},
        "security": {"secret": secrets.token_hex(32)},
        "outbound": {"retry_initial_secs": 1, "ack_limit_per_hour": n},
    }, [{
        "name": "bench", "address": address, "display_name": "Bench Support",
        "smtp": {"host": env["MAILENV_HOST"], "port": int(env["MAILENV_SUBMISSION_PORT"]), "tls": "starttls",
                 "username": address, "password": env["MAILENV_WILDCARD_PASSWORD"],
                 "ca_file": env["MAILENV_CA_CERT"], **({"pool_size": a.pool_size} if a.pool_size else {})},
    }])
    token = bl.api_token(a.bin, cfg)

    # --- 2. customer mails, ingested before serve ---
    mail_dir = os.path.join(work, "mail")
    os.makedirs(mail_dir, exist_ok=True)
    rnd = random.Random(a.seed)
    files = []
    for i in range(n):
        k = i % len(customers)
        name = "%06d.eml" % (i + 1)
        with open(os.path.join(mail_dir, name), "wb") as f:
            f.write(customer_mail(i, customers[k], "Customer %03d" % k, address, rnd))
        files.append(name)
    os.sync()
    t0 = time.monotonic()
    outcomes, tickets = {}, []
    for part in chunks(files):
        r = subprocess.run([a.bin, "--config", cfg, "ingest", "--mailbox", "bench", "--json"] + part, cwd=mail_dir,
                           capture_output=True, env=bl.clean_env(), stdin=subprocess.DEVNULL)
        for line in r.stdout.splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            outcomes[j.get("outcome")] = outcomes.get(j.get("outcome"), 0) + 1
            if j.get("outcome") == "created" and j.get("ticket") is not None:
                tickets.append(int(j["ticket"]))
        if r.returncode != 0:
            failures.append("deskmail ingest exited with %d: %s" % (
                r.returncode, r.stderr.decode("utf-8", "replace")[-500:]))
    t_ingest = time.monotonic() - t0
    outbox = Outbox(db_path)
    acks = outbox.kind("ack")
    n_acks = sum(acks.values())
    expect_acks = n
    p("smtp: ingested %d customer mails in %.2f s (%.0f msg/s): %s; acknowledgements queued: %d (expected %d)" % (
        n, t_ingest, n / t_ingest, ", ".join("%s %d" % kv for kv in sorted(outcomes.items())), n_acks, expect_acks))
    if outcomes.get("created", 0) != n or len(tickets) != n:
        failures.append("%d of %d mails became tickets (%s)" % (len(tickets), n, outcomes))
    if n_acks != expect_acks:
        p("smtp: WARNING: %d acknowledgements queued, expected %d" % (n_acks, expect_acks))

    base_rate = None
    if not failures:
        base_rate = baseline(a, env, outbox, address, run, failures)

    api = bl.Api(port, token)
    server = bl.Server(a.bin, cfg, os.path.join(work, "deskmail.log"))
    t_spawn = server.t_spawn
    cpu_acks = bl.CpuGroups(server.pid, env["MAILENV_DIR"])
    try:
        if failures:
            raise RuntimeError("not starting the delivery phases")
        t_http = bl.wait_http(api, server)

        # --- 3. the acknowledgements, queued at ingest, go out at serve start ---
        t_ack_first = t_ack_done = None
        deadline = time.monotonic() + timeout
        while True:
            c = outbox.kind("ack")
            now = time.monotonic()
            if c.get("sent") and t_ack_first is None:
                t_ack_first = now
            if not c.get("queued") and not c.get("sending"):
                t_ack_done = now
                break
            if not server.alive():
                raise RuntimeError("deskmail serve exited with %s" % server.proc.returncode)
            if now > deadline:
                raise RuntimeError("acknowledgements still pending after %.0f s: %s" % (now - t_spawn, fmt_counts(c)))
            time.sleep(0.02)
        # the API view of the same: nothing queued or sending
        for st in ("queued", "sending"):
            status, body = api.get("/api/v1/outbox", status=st, per_page=1)
            if status != 200 or body.get("outbox"):
                failures.append("GET /api/v1/outbox?status=%s: HTTP %s, %s" % (st, status, body))
        if c.get("failed"):
            failures.append("%d acknowledgements failed: %s" % (c["failed"], outbox.errors("ack")))
        ack_wall = t_ack_done - t_spawn
        p("smtp: CPU while the acknowledgements went out: %s" % cpu_acks.report())
        rate = c.get("sent", 0) / ack_wall if ack_wall else 0
        ratio = rate / base_rate if base_rate else 0
        verdict = "" if rate >= OUTBOUND_TARGET and ratio >= RATIO_TARGET else "  BELOW TARGET"
        s = ("smtp: outbound: %d acknowledgements (queued at ingest) sent by deskmail in %.2f s from process start "
             "= %.0f msg/s; smtplib (%d threads, one connection each) sent the same %d mails at %.0f msg/s; "
             "deskmail/smtplib = %.0f %% (target >= %.0f msg/s and >= %.0f %%)%s; HTTP up after %.0f ms, first sent "
             "seen after %s (%s)" % (
                 c.get("sent", 0), ack_wall, rate, a.smtplib_threads, n, base_rate or 0, 100 * ratio,
                 OUTBOUND_TARGET, 100 * RATIO_TARGET, verdict, t_http * 1000,
                 "%.0f ms" % ((t_ack_first - t_spawn) * 1000) if t_ack_first else "-", label))
        p(s)
        summaries.append(s)

        # Postfix delivers the acknowledgements before the replies start, so they do not share the machine with
        # that backlog.
        log = os.path.join(env["MAILENV_DIR"], "log", "postfix.log") if env["MAILENV_DIR"] else ""
        t1 = time.monotonic()
        while log and time.monotonic() - t1 < 120:
            done = postfix_sent(log, ("cust-%s-" % run).encode())
            if done is None or done >= c.get("sent", 0):
                break
            time.sleep(0.2)
        p("smtp: Postfix delivered the acknowledgements %.1f s after the last was accepted" % (time.monotonic() - t1))

        # --- 4. agent replies through the API ---
        status, body = api.get("/api/v1/tickets", per_page=1)
        if status != 200 or body.get("total") != n:
            failures.append("GET /api/v1/tickets total: %s (HTTP %s), expected %d" % (body, status, n))
        replies_done = replies(a, env, port, token, tickets, marker, outbox, server, timeout, label, failures,
                               summaries)

        # --- 5. arrival ---
        if replies_done:
            arrival(env, work, customers, marker, run, replies_done, c.get("sent", 0), failures, summaries)
    except Exception as e:  # noqa: BLE001 - reported as a failure, deskmail stopped below
        failures.append("%s: %s" % (type(e).__name__, e))
    finally:
        api.close()
        rss = bl.proc_rss_mb(server.pid)
        code, t_stop = server.stop()
        outbox.close()
        p("smtp: deskmail stopped by SIGTERM in %.0f ms, exit status %s; peak RSS %.0f MB; log: %d lines" % (
            t_stop * 1000, code, rss, sum(1 for _ in open(server.log_path, "rb"))))
        if code not in (0, -15):
            failures.append("deskmail serve exited with %s after SIGTERM" % code)

    for f in failures:
        p("smtp: FAILED: %s" % f)
    if failures:
        p("smtp: deskmail log (tail):\n%s" % server.tail())
        summaries.append("smtp: FAILED: %s" % "; ".join(failures))
    if a.summary:
        with open(a.summary, "a") as f:
            f.write("\n".join(summaries) + "\n")
    return 1 if failures else 0


def baseline(a, env, outbox, address, run, failures):
    """The smtplib sender: the queued acknowledgements' raw bytes sent through the same submission port from
    a.smtplib_threads threads, each over one connection; returns msg/s (None on failure)."""
    mails = outbox.db.execute("select o.sender, o.raw from outbound_mails o where o.kind = 'ack' order by o.id").fetchall()
    recipients = ["base-%s-%03d@%s" % (run, k, env["MAILENV_WILDCARD_DOMAIN"]) for k in range(a.customers)]
    ctx = bl.tls_context(env["MAILENV_CA_CERT"])
    lock = threading.Lock()
    queue = list(reversed(list(enumerate(mails))))
    errors, sent = [], [0]

    def worker():
        try:
            s = smtplib.SMTP(env["MAILENV_HOST"], int(env["MAILENV_SUBMISSION_PORT"]), timeout=60)
            s.starttls(context=ctx)
            s.login(address, env["MAILENV_WILDCARD_PASSWORD"])
            while True:
                with lock:
                    if not queue:
                        break
                    i, (sender, raw) = queue.pop()
                s.sendmail(sender, [recipients[i % len(recipients)]], bytes(raw))
                with lock:
                    sent[0] += 1
            s.quit()
        except (OSError, smtplib.SMTPException) as e:
            with lock:
                errors.append(repr(e))

    mcpu = bl.MachineCpu()
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.smtplib_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    busy, _ = mcpu.busy_pct()
    size = sum(len(r) for _, r in mails) / max(1, len(mails))
    rate = sent[0] / wall if wall else 0
    p("smtp: smtplib baseline: %d of %d mails (%.0f bytes on average) accepted in %.2f s = %.0f msg/s over %d "
      "connections (STARTTLS, AUTH, no pipelining); machine busy %.0f%%" % (
          sent[0], len(mails), size, wall, rate, a.smtplib_threads, busy))
    if errors or sent[0] != len(mails):
        failures.append("smtplib baseline: %d of %d sent; %s" % (sent[0], len(mails), "; ".join(errors[:3])))
        return None
    # Postfix delivers them to Dovecot before deskmail starts, so both start on an idle Postfix.
    log = os.path.join(env["MAILENV_DIR"], "log", "postfix.log") if env["MAILENV_DIR"] else ""
    t1 = time.monotonic()
    while log and time.monotonic() - t1 < 120:
        done = postfix_sent(log, ("base-%s-" % run).encode())
        if done is None or done >= sent[0]:
            break
        time.sleep(0.2)
    p("smtp: Postfix delivered the baseline's mails %.1f s after the last was accepted" % (time.monotonic() - t1))
    return rate


def replies(a, env, port, token, tickets, marker, outbox, server, timeout, label, failures, summaries):
    """POSTs one reply per ticket from a.threads threads; returns how many were sent (0 on failure)."""
    lock = threading.Lock()
    queue = list(tickets)
    codes, errors, post_ms = {}, [], []

    def worker():
        api = bl.Api(port, token)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    number = queue.pop()
                body = {"body": "Hello,\n\nthank you for your message. We have looked into it and fixed the "
                                "problem; you should see the change within the hour.\n\n(%s)\n" % marker}
                t = time.monotonic()
                try:
                    status, resp = api.request("POST", "/api/v1/tickets/%d/replies" % number, body)
                except OSError as e:
                    status, resp = "error", repr(e)
                dt = (time.monotonic() - t) * 1000
                with lock:
                    codes[status] = codes.get(status, 0) + 1
                    post_ms.append(dt)
                    if status not in (200, 201) and len(errors) < 3:
                        errors.append("ticket %d: HTTP %s %s" % (number, status, str(resp)[:200]))
        finally:
            api.close()

    cpu0 = server.cpu()
    mcpu = bl.MachineCpu()
    groups = bl.CpuGroups(server.pid, env["MAILENV_DIR"])
    t_first = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in threads:
        t.start()
    t_posted = None
    t_done = None
    deadline = t_first + timeout
    c = {}
    sent_at_posted = 0
    while True:
        if t_posted is None and not any(t.is_alive() for t in threads):
            t_posted = time.monotonic()
            sent_at_posted = outbox.kind("agent_reply").get("sent", 0)
        c = outbox.kind("agent_reply")
        now = time.monotonic()
        ok = codes.get(201, 0) + codes.get(200, 0)
        if t_posted is not None and c.get("sent", 0) + c.get("failed", 0) >= ok:
            t_done = now
            break
        if not server.alive():
            failures.append("deskmail serve exited with %s during the replies" % server.proc.returncode)
            break
        if now > deadline:
            failures.append("agent replies after %.0f s: %s of %d posted" % (now - t_first, fmt_counts(c), ok))
            break
        time.sleep(0.1)
    for t in threads:
        t.join()
    ok = codes.get(201, 0) + codes.get(200, 0)
    if ok != len(tickets):
        failures.append("%d of %d reply POSTs failed (%s): %s" % (
            len(tickets) - ok, len(tickets), codes, "; ".join(errors)))
    if c.get("failed"):
        failures.append("%d reply deliveries failed: %s" % (c["failed"], outbox.errors("agent_reply")))
    busy, iowait = mcpu.busy_pct()
    ds_cpu = server.cpu() - cpu0
    by_group = groups.report()
    if t_posted is None:
        return 0
    post_wall = t_posted - t_first
    s = ("smtp: enqueue: %d reply POSTs (%d threads) in %.2f s = %.0f POST/s; per POST median %.0f / p90 %.0f / max "
         "%.0f ms; %d replies were already sent when the last POST returned (%s)" % (
             ok, a.threads, post_wall, ok / post_wall, bl.pct(post_ms, 50), bl.pct(post_ms, 90), max(post_ms),
             sent_at_posted, label))
    p(s)
    summaries.append(s)
    if t_done is None:
        return 0
    sent = c.get("sent", 0)
    wall = t_done - t_first
    rate = sent / wall
    p("smtp: CPU from the first POST until all sent: deskmail %.2f s (%.0f%% of one core over %.2f s); machine "
      "busy %.0f%%, iowait %.0f%% of %s cores; load %s; retried deliveries: %s" % (
          ds_cpu, 100 * ds_cpu / wall, wall, busy, iowait, bl.machine()["cores"], bl.loadavg(),
          outbox.db.execute("select count(*) from deliveries d join outbound_mails o on o.id = d.outbound_id "
                            "where o.kind = 'agent_reply' and d.attempts > 1").fetchone()[0]))
    p("smtp: CPU by process from the first POST until all sent: %s" % by_group)
    verdict = "" if rate >= DELIVERY_TARGET else "  BELOW TARGET"
    s = ("smtp: delivery: %d agent replies sent (%d failed) in %.2f s from the first POST = %.0f msg/s "
         "(target >= %.0f)%s; the last one %.2f s after the last POST (%s)" % (
             sent, c.get("failed", 0), wall, rate, DELIVERY_TARGET, verdict, t_done - t_posted, label))
    p(s)
    summaries.append(s)
    return sent


def arrival(env, work, customers, marker, run, replies_sent, acks_sent, failures, summaries):
    """Postfix's log and the customers' INBOXes hold the replies."""
    log = os.path.join(env["MAILENV_DIR"], "log", "postfix.log") if env["MAILENV_DIR"] else ""
    want = replies_sent + acks_sent
    t0 = time.monotonic()
    pf = None
    if log and os.path.exists(log):
        while time.monotonic() - t0 < 60:
            pf = postfix_sent(log, ("cust-%s-" % run).encode())
            if pf is not None and pf >= want:
                break
            time.sleep(0.2)
    got = total = 0
    for _ in range(10):
        got, total = count_inboxes(env, customers, marker)
        if got >= replies_sent and total >= want:
            break
        time.sleep(1)
    s = ("smtp: arrival: %d of %d replies (and %d other mails: acknowledgements, %d sent) in the %d customers' "
         "INBOXes; Postfix logged %s deliveries (status=sent) to them" % (
             got, replies_sent, total - got, acks_sent, len(customers), "no" if pf is None else pf))
    p(s)
    summaries.append(s)
    if got != replies_sent:
        failures.append("%d of %d replies arrived in the customers' INBOXes" % (got, replies_sent))
    if total - got != acks_sent:
        failures.append("%d acknowledgements in the INBOXes, %d sent" % (total - got, acks_sent))


if __name__ == "__main__":
    sys.exit(main())
