#!/usr/bin/env python3
"""twins.py - `scripts/bench twins`: one vs two `deskmail serve` on one PostgreSQL, mail arriving over SMTP.

    twins.py --bin target/release/deskmail --work DIR --db-url URL (five times: one per phase)
             [--count 10000] [--customers 20] [--kill-every 20] [--phases arrival,staged,kills] [--summary FILE]

Needs the mail system's MAILENV_* (scripts/lib.sh dm_mailenv_start), `psql`, and five empty databases.

Every phase has its own database, storage dir and four fresh mailboxes twin-<run>-<phase>-<k>@<wildcard
domain> (imap: IDLE, import_existing = "all"; smtp: submission, STARTTLS + AUTH; [imap] lease_secs = 5,
[outbound] lease_secs = 20, ack_limit_per_hour high), and --count mails from --customers customers, round
robin over the four mailboxes, handed to Postfix (port 25 style, 8 sessions) as fast as it takes them.

0. RSS idle: phase 1's instance after start-up and the first sync of its four mailboxes (/healthz: every
   mailbox synced and idle), VmRSS (target <= 25 MB).
1. One instance: throughput = mails / (last ticket - first SMTP accept), tickets counted through the API
   every 50 ms. Also printed: when the last mail was in its INBOX (IMAP STATUS every 250 ms: Postfix and
   Dovecot's part) and when the last acknowledgement was sent.
2. Two instances (separate processes and ports, one database, one storage dir): the same; the ratio to
   phase 1 (target >= 1.6) and who held which mailbox leases.
2a/2b (staged). The same mails APPENDed to each mailbox's Staging folder before the instances start, then moved
   into the four INBOXes at once (UID MOVE) while one instance, then two (leases split 2+2 first), wait in IDLE;
   acknowledgements off (ack_limit_per_hour = 0): msg/s from the move to the last ticket and the ratio, so the
   rate is deskmail's own rather than the arrival's or the mail system's delivering acknowledgements.
3. Two instances, the one holding the most mailbox leases SIGKILLed and restarted at once every
   --kill-every s while tickets are still missing. Checks (psql and IMAP): every Message-ID exactly one
   customer message and one ticket, one acknowledgement in the outbox per ticket, sent; every customer's
   INBOX (after a marker mail shows Postfix has delivered what it took before) holds one acknowledgement per
   mail, a second copy only of a delivery the killed instance held claimed at the kill (at-least-once SMTP).

Exit status 1 when a check fails; a missed target is only printed as BELOW TARGET. Standard library only.
"""

import argparse
import imaplib
import os
import re
import secrets
import smtplib
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
from benchlib import p  # noqa: E402

RATIO_TARGET = 1.6
RSS_TARGET_MB = 25.0
MAILBOXES = 4
SMTP_SESSIONS = 8
STAGING = "Staging"


def psql(url, sql):
    r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError("psql: %s" % r.stderr.strip())
    return [line for line in r.stdout.splitlines() if line]


def psql_int(url, sql):
    rows = psql(url, sql)
    return int(rows[0]) if rows else 0


def rss_mb(pid, field="VmRSS:"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return 0.0


def imap_connect(env, user):
    m = imaplib.IMAP4_SSL(env["MAILENV_HOST"], int(env["MAILENV_IMAPS_PORT"]),
                          ssl_context=bl.tls_context(env["MAILENV_CA_CERT"]), timeout=120)
    m.login(user, env["MAILENV_WILDCARD_PASSWORD"])
    return m


def customer_mail(msgid, sender, to, i):
    return ("From: Customer %d <%s>\r\nTo: Support <%s>\r\nSubject: Order %d has not arrived\r\n"
            "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nmy order %d has not arrived yet, "
            "the tracking page still says 'label created'. Could you check?\r\n\r\nThanks\r\n" % (
                i % 1000, sender, to, 10000 + i, msgid, 10000 + i)).encode()


def in_parallel(fn, items):
    """fn(item) for every item, each on its own thread; returns when all have."""
    threads = [threading.Thread(target=fn, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Phase:
    """One phase's mailboxes, config files (one per instance: its own port), database and servers."""

    def __init__(self, a, env, run, name, url, instances, acks=True):
        self.a, self.env, self.url, self.name, self.acks = a, env, url, name, acks
        wild = env["MAILENV_WILDCARD_DOMAIN"]
        self.supports = ["twin-%s-%s-%d@%s" % (run, name, k, wild) for k in range(MAILBOXES)]
        self.customers = ["twc-%s-%s-%02d@%s" % (run, name, c, wild) for c in range(a.customers)]
        self.mails = []
        for i in range(a.count):
            msgid = "tw-%s-%s-%d@customer.test" % (run, name, i)
            sender, to = self.customers[i % a.customers], self.supports[i % MAILBOXES]
            self.mails.append((msgid, sender, to, customer_mail(msgid, sender, to, i)))
        self.dir = os.path.join(os.path.abspath(a.work), name)
        os.makedirs(os.path.join(self.dir, "storage"), exist_ok=True)
        self.ports = [bl.free_port() for _ in range(instances)]
        self.configs = []
        secret = secrets.token_hex(32)
        account = lambda addr: {"host": env["MAILENV_HOST"], "username": addr,  # noqa: E731
                                "password": env["MAILENV_WILDCARD_PASSWORD"], "ca_file": env["MAILENV_CA_CERT"]}
        mailboxes = [{
            "name": "twin%d" % k, "address": addr,
            "imap": dict(account(addr), port=int(env["MAILENV_IMAPS_PORT"]), tls="implicit",
                         import_existing="all", idle=True),
            "smtp": dict(account(addr), port=int(env["MAILENV_SUBMISSION_PORT"]), tls="starttls"),
        } for k, addr in enumerate(self.supports)]
        for k, port in enumerate(self.ports):
            cfg = os.path.join(self.dir, "deskmail-%d.toml" % k)
            bl.write_config(cfg, {
                "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
                "database": {"url": url, "max_connections": 8},
                "storage": {"dir": os.path.join(self.dir, "storage")},
                "security": {"secret": secret},
                "imap": {"lease_secs": 5},
                "outbound": {"lease_secs": 20, "retry_initial_secs": 1, "retry_cap_secs": 5,
                             "ack_limit_per_hour": 1000000 if acks else 0},
            }, mailboxes)
            self.configs.append(cfg)
        self.token = bl.api_token(a.bin, self.configs[0])
        self.servers = [None] * instances
        self.starts = [0] * instances

    def start(self, k):
        self.starts[k] += 1
        log = os.path.join(self.dir, "serve-%d-%d.log" % (k, self.starts[k]))
        self.servers[k] = bl.Server(self.a.bin, self.configs[k], log)
        bl.wait_http(bl.Api(self.ports[k]), self.servers[k])

    def kill(self, k):
        s = self.servers[k]
        s.proc.kill()
        s.proc.wait()
        s.log.close()
        return s.pid

    def stop_all(self):
        for s in self.servers:
            if s is not None and s.alive():
                s.stop()

    def tickets(self):
        """Tickets through the API of a live instance."""
        for k, s in enumerate(self.servers):
            if s is None or not s.alive():
                continue
            try:
                status, body = bl.Api(self.ports[k], self.token, timeout=10).get("/api/v1/tickets", per_page=1)
                if status == 200:
                    return body["total"]
            except OSError:
                continue
        return None

    def acks_sent(self):
        return psql_int(self.url, "select count(*) from deliveries d join outbound_mails o on o.id = d.outbound_id "
                                  "where o.kind = 'ack' and d.status = 'sent'")

    def leases(self):
        """{pid: mailbox leases held}."""
        held = {}
        for owner in psql(self.url, "select owner from mailbox_leases where expires_at >= "
                                    "extract(epoch from now())::bigint"):
            parts = owner.split(":")
            if len(parts) >= 2 and parts[1].isdigit():
                held[int(parts[1])] = held.get(int(parts[1]), 0) + 1
        return held


class Source(threading.Thread):
    """Where a phase's mails come from: records when the first and the last of them were handed over, and errors."""

    def __init__(self):
        super().__init__(daemon=True)
        self.first = self.last = None
        self.errors = []
        self.lock = threading.Lock()

    def handed(self, start, end):
        """Mails handed over between start and end (monotonic seconds), from any of the source's threads."""
        with self.lock:
            self.first = start if self.first is None else min(self.first, start)
            self.last = end if self.last is None else max(self.last, end)


class Sending(Source):
    """Hands every mail to Postfix over SMTP_SESSIONS sessions; records the first and last accept."""

    def __init__(self, env, mails):
        super().__init__()
        self.env, self.mails = env, mails

    def run(self):
        in_parallel(self.session, [self.mails[k::SMTP_SESSIONS] for k in range(SMTP_SESSIONS)])

    def session(self, part):
        try:
            smtp = smtplib.SMTP(self.env["MAILENV_HOST"], int(self.env["MAILENV_SMTP_PORT"]), timeout=60)
            for _, sender, to, raw in part:
                smtp.sendmail(sender, [to], raw)
                now = time.monotonic()
                self.handed(now, now)
            smtp.quit()
        except Exception as e:  # noqa: BLE001 - reported as a failure
            self.errors.append(repr(e))


class Moving(Source):
    """The staged phases' source: every mail already in each support mailbox's STAGING folder is moved into its
    INBOX with one UID MOVE per mailbox, all four at once; records when the first and the last move answered."""

    def __init__(self, env, supports):
        super().__init__()
        self.conns = []
        for s in supports:
            m = imap_connect(env, s)
            m.select(STAGING)
            self.conns.append(m)

    def run(self):
        in_parallel(self.move, self.conns)

    def move(self, m):
        try:
            t0 = time.monotonic()
            typ, data = m.uid("MOVE", "1:*", "INBOX")
            if typ != "OK":
                raise RuntimeError("UID MOVE: %s %s" % (typ, data))
            self.handed(t0, time.monotonic())
            m.logout()
        except Exception as e:  # noqa: BLE001 - reported as a failure
            self.errors.append(repr(e))


def stage(phase):
    """APPENDs the phase's mails to each support mailbox's STAGING folder (four sessions at once); seconds."""
    t0, errors = time.monotonic(), []

    def fill(k):
        try:
            m = imap_connect(phase.env, phase.supports[k])
            m.create(STAGING)
            for msgid, _, to, raw in phase.mails:
                if to == phase.supports[k]:
                    typ, data = m.append(STAGING, None, None, raw)
                    if typ != "OK":
                        raise RuntimeError("APPEND: %s %s" % (typ, data))
            m.logout()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    in_parallel(fill, range(MAILBOXES))
    if errors:
        raise RuntimeError("staging the mails failed: %s" % errors[0])
    return time.monotonic() - t0


def wait_split(phase, timeout=60):
    """Until the live instances hold the four mailbox leases evenly (2+2), three samples in a row; returns
    (seconds waited, the last split)."""
    t0, settled, split = time.monotonic(), 0, ()
    while time.monotonic() < t0 + timeout and settled < 3:
        held = phase.leases()
        split = tuple(sorted((held.get(srv.pid, 0) for srv in phase.servers), reverse=True))
        settled = settled + 1 if split == (2, 2) else 0
        time.sleep(0.5)
    return time.monotonic() - t0, split


class Delivered(threading.Thread):
    """Polls IMAP STATUS of the four INBOXes every 250 ms: when the last mail was in its folder."""

    def __init__(self, env, supports, n):
        super().__init__(daemon=True)
        self.conns = [imap_connect(env, s) for s in supports]
        self.n, self.done_at, self.stop = n, None, False

    def run(self):
        while not self.stop and self.done_at is None:
            total = 0
            for m in self.conns:
                typ, data = m.status("INBOX", "(MESSAGES)")
                total += int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
            if total >= self.n:
                self.done_at = time.monotonic()
            time.sleep(0.25)
        for m in self.conns:
            try:
                m.logout()
            except Exception:  # noqa: BLE001
                pass


def wait_synced(phase, k, timeout=60):
    """Until /healthz shows every mailbox synced once and idle; returns seconds waited."""
    t0 = time.monotonic()
    api = bl.Api(phase.ports[k])
    while time.monotonic() < t0 + timeout:
        _, body = api.get("/healthz")
        mbs = body.get("mailboxes", []) if isinstance(body, dict) else []
        if len(mbs) == MAILBOXES and all(m.get("last_sync_at") and m.get("state") == "idle" for m in mbs):
            return time.monotonic() - t0
        time.sleep(0.1)
    raise RuntimeError("the mailboxes were not all synced and idle within %d s: %s" % (timeout, body))


def run_load(phase, failures, kill_every=0, staged=False):
    """Sends the phase's mails (staged: moves them in from STAGING) and waits for every ticket and
    acknowledgement; kills as asked. Returns (throughput msg/s, details dict)."""
    n = len(phase.mails)
    delivered = Delivered(phase.env, phase.supports, n)
    sending = Moving(phase.env, phase.supports) if staged else Sending(phase.env, phase.mails)
    cpu = bl.MachineCpu()
    groups = bl.CpuGroups(phase.servers[0].pid, phase.env["MAILENV_DIR"])
    pg0 = bl.cpu_by_comm({"postgres"})
    ds0 = sum(srv.cpu() for srv in phase.servers)
    delivered.start()
    sending.start()
    kills, claimed = [], set()
    next_kill = time.monotonic() + kill_every if kill_every else None
    t_tickets = t_first = None
    splits, next_sample = {}, 0.0
    deadline = time.monotonic() + 300 + n * 0.1
    last = (0, time.monotonic())
    while time.monotonic() < deadline:
        total = phase.tickets()
        now = time.monotonic()
        if total is not None and total != last[0]:
            last = (total, now)
        if total and t_first is None:
            t_first = now
        if total is not None and total >= n:
            t_tickets = now
            break
        if now >= next_sample and len(phase.servers) > 1:
            held = phase.leases()
            split = tuple(sorted((held.get(srv.pid, 0) for srv in phase.servers), reverse=True))
            splits[split] = splits.get(split, 0) + 1
            next_sample = now + 1.0
        if sending.errors:
            failures.append("%s: %s failed: %s" % (phase.name, "UID MOVE" if staged else "SMTP sending",
                                                     sending.errors[0]))
            break
        if next_kill is not None and now >= next_kill:
            held = phase.leases()
            pids = [s.pid for s in phase.servers]
            k = max(range(len(pids)), key=lambda i: held.get(pids[i], 0))
            pid = phase.kill(k)
            ids = psql(phase.url, "select m.message_id from deliveries d join outbound_mails o on o.id = d.outbound_id "
                                  "join messages m on m.ticket_id = o.ticket_id and m.kind = 'customer' "
                                  "where o.kind = 'ack' and d.status = 'sending' and d.lease_owner like 'sender:%d:%%'"
                       % pid)
            claimed.update(ids)
            kills.append("%.0f s: instance %d (%d leases, %d acks claimed, %s tickets)" % (
                now - (sending.first or now), k, held.get(pid, 0), len(ids), total))
            phase.start(k)
            next_kill = time.monotonic() + kill_every
        time.sleep(0.05)
    busy, _ = cpu.busy_pct()
    by_group = groups.report()
    cpu_note = "deskmail (the instances alive at the end) %.1f s, postgres %.1f s; by process tree (deskmail = instance 0): %s" % (
        sum(srv.cpu() for srv in phase.servers) - ds0, bl.cpu_by_comm({"postgres"}) - pg0, by_group)
    sending.join(60)
    if t_tickets is None:
        failures.append("%s: only %s of %d tickets (no progress for %.0f s)" % (
            phase.name, last[0], n, time.monotonic() - last[1]))
        delivered.stop = True
        return 0.0, {"kills": kills, "claimed": claimed, "leases": ""}
    samples = sum(splits.values())
    lease_split = ", ".join("%s in %.0f%%" % ("+".join(map(str, k)), 100.0 * v / samples)
                            for k, v in sorted(splits.items(), key=lambda kv: -kv[1]))
    t_acks = None
    ack_deadline = time.monotonic() + 120 + n * 0.05
    while phase.acks and time.monotonic() < ack_deadline:
        if phase.acks_sent() >= n:
            t_acks = time.monotonic()
            break
        time.sleep(0.5)
    if t_acks is None and phase.acks:
        failures.append("%s: only %d of %d acknowledgements sent" % (phase.name, phase.acks_sent(), n))
    delivered.stop = True
    delivered.join(5)
    first = sending.first
    rate = n / (t_tickets - first)
    how = "moved from %s to INBOX (UID MOVE, 4 at once)" % STAGING if staged else "handed to Postfix"
    p("twins: %s: %d mails %s in %.1f s; in their INBOXes after %s; first ticket after %.1f s, last after %.1f s = "
      "%.0f msg/s; acknowledgements all sent after %s; machine busy %.0f%% during the import" % (
          phase.name, n, how, sending.last - first, 
          "%.1f s" % (delivered.done_at - first) if delivered.done_at else "?", (t_first or t_tickets) - first,
          t_tickets - first, rate,
          "%.1f s" % (t_acks - first) if t_acks else ("-" if phase.acks else "(none: off)"), busy))
    p("twins: %s: CPU during the import: %s" % (phase.name, cpu_note))
    return rate, {"kills": kills, "claimed": claimed, "leases": lease_split}


def check_exactly_once(phase, claimed, failures):
    """Phase 3's checks; returns a one-line verdict."""
    url, n = phase.url, len(phase.mails)
    bad = psql_int(url, "select count(*) from (select message_id from messages where kind = 'customer' "
                        "group by message_id having count(*) <> 1 or count(distinct ticket_id) <> 1) x")
    ids = psql_int(url, "select count(distinct message_id) from messages where kind = 'customer'")
    tickets = psql_int(url, "select count(*) from tickets")
    acks_bad = psql_int(url, "select count(*) from (select ticket_id from outbound_mails where kind = 'ack' "
                             "group by ticket_id having count(*) <> 1) x")
    acks = psql_int(url, "select count(*) from outbound_mails where kind = 'ack'")
    sent = phase.acks_sent()
    if (bad, ids, tickets) != (0, n, n):
        failures.append("%s: %d Message-IDs, %d tickets, %d Message-IDs not exactly one message/ticket" % (
            phase.name, ids, tickets, bad))
    if (acks_bad, acks, sent) != (0, n, n):
        failures.append("%s: %d acknowledgements in the outbox (%d sent), %d tickets without exactly one" % (
            phase.name, acks, sent, acks_bad))
    # The INBOXes: a marker sent now comes after everything Postfix took before it.
    marker = "marker-%s" % secrets.token_hex(6)
    smtp = smtplib.SMTP(phase.env["MAILENV_HOST"], int(phase.env["MAILENV_SMTP_PORT"]), timeout=60)
    for c in phase.customers:
        smtp.sendmail("marker@customer.test", [c], ("From: marker@customer.test\r\nTo: %s\r\nSubject: %s\r\n"
                                                     "Message-ID: <%s-%s>\r\n\r\nmarker\r\n" % (c, marker, marker, c))
                      .encode())
    smtp.quit()
    arrived = {}
    for c in phase.customers:
        m = imap_connect(phase.env, c)
        deadline = time.monotonic() + 60
        while True:
            m.select("INBOX", readonly=True)
            typ, data = m.uid("SEARCH", None, "SUBJECT", '"%s"' % marker)
            if data[0].split() or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO SUBJECT)])")
        for item in data:
            if isinstance(item, tuple):
                head = item[1].decode("utf-8", "replace")
                if marker in head:
                    continue
                mm = re.search(r"In-Reply-To:\s*<([^>]+)>", head, re.I)
                key = mm.group(1) if mm else "?"
                arrived[key] = arrived.get(key, 0) + 1
        m.logout()
    expected = {mail[0] for mail in phase.mails}
    missing = len(expected - set(arrived))
    twice = [k for k, v in arrived.items() if v > 1]
    unexplained = [k for k in twice if k not in claimed]
    if missing or set(arrived) - expected:
        failures.append("%s: %d acknowledgements missing in the INBOXes, %d unexpected mails" % (
            phase.name, missing, len(set(arrived) - expected)))
    if unexplained:
        failures.append("%s: %d acknowledgements arrived twice that no killed instance held: %s" % (
            phase.name, len(unexplained), unexplained[:5]))
    return ("every mail one ticket (%d Message-IDs, %d tickets), one acknowledgement each in the outbox (%d sent), "
            "%d arrived (%d twice, each claimed by a killed instance; %d unexplained)" % (
                ids, tickets, sent, len(arrived), len(twice), len(unexplained)))


def staged_phases(a, env, run, urls, failures, phases, label):
    """Phases 2a/2b: one instance, then two with the leases split 2+2, import the mails moved into the four
    INBOXes at once, acknowledgements off (ack_limit_per_hour = 0), so the rate is deskmail's own rather than
    the arrival's or the mail system's delivering the acknowledgements; returns the summary line."""
    rates, notes = {}, {}
    for name, url, instances in (("staged-one", urls[0], 1), ("staged-two", urls[1], 2)):
        ph = Phase(a, env, run, name, url, instances, acks=False)
        phases.append(ph)
        took = stage(ph)
        p("twins: %s: %d mails APPENDed to the four %s folders in %.1f s" % (name, a.count, STAGING, took))
        for k in range(instances):
            ph.start(k)
        if instances == 1:
            wait_synced(ph, 0)
        else:
            waited, split = wait_split(ph)
            notes[name] = "leases %s after %.1f s" % ("+".join(map(str, split)), waited)
            p("twins: %s: mailbox leases %s" % (name, notes[name]))
            time.sleep(2.0)  # a mailbox handed over is synced (its INBOX still empty) and idle again
        rates[name], _ = run_load(ph, failures, staged=True)
        ph.stop_all()
    one, two = rates["staged-one"], rates["staged-two"]
    if not (one and two):
        return "twins: staged: FAILED (see above)"
    ratio = two / one
    verdict = "" if ratio >= RATIO_TARGET else "  BELOW TARGET"
    return ("twins: %d mails already in the server, moved into the 4 INBOXes at once, no acknowledgements, move -> last ticket: one "
            "instance %.0f msg/s, two instances (%s) %.0f msg/s = %.2fx (target >= %.1fx)%s (%s)" % (
                a.count, one, notes.get("staged-two", "?"), two, ratio, RATIO_TARGET, verdict, label))


def arrival_phases(a, env, run, urls, failures, phases, label):
    """RSS idle, then phases 1 and 2: one instance, then two, importing mail as Postfix delivers it; summary lines."""
    summaries, rates = [], {}
    one = Phase(a, env, run, "one", urls[0], 1)
    phases.append(one)
    one.start(0)
    waited = wait_synced(one, 0)
    time.sleep(2.0)   # the first IDLE entered, start-up allocations settled
    rss, hwm = rss_mb(one.servers[0].pid), rss_mb(one.servers[0].pid, "VmHWM:")
    verdict = "" if rss <= RSS_TARGET_MB else "  BELOW TARGET"
    s = ("twins: RSS idle (deskmail serve, 4 IMAP+SMTP mailboxes on PostgreSQL, after start-up and the first "
         "sync, %.1f s): %.1f MB (peak so far %.1f MB; target <= %.0f MB)%s" % (waited, rss, hwm, RSS_TARGET_MB,
                                                                               verdict))
    p(s)
    summaries.append(s)
    rates["one"], _ = run_load(one, failures)
    p("twins: one: peak RSS %.1f MB" % rss_mb(one.servers[0].pid, "VmHWM:"))
    one.stop_all()

    two = Phase(a, env, run, "two", urls[1], 2)
    phases.append(two)
    two.start(0)
    two.start(1)
    rates["two"], details = run_load(two, failures)
    split = details["leases"]
    p("twins: two: mailbox leases held by the two instances (sampled every second): %s; peak RSS %s MB" % (
        split or "none", " / ".join("%.1f" % rss_mb(s.pid, "VmHWM:") for s in two.servers)))
    two.stop_all()
    if rates["one"] and rates["two"]:
        ratio = rates["two"] / rates["one"]
        verdict = "" if ratio >= RATIO_TARGET else "  BELOW TARGET"
        s = ("twins: %d mails over 4 mailboxes, first SMTP accept -> last ticket: one instance %.0f msg/s, two "
             "instances %.0f msg/s = %.2fx (target >= %.1fx)%s; mailbox leases per instance in phase 2: %s (%s)" % (
                 a.count, rates["one"], rates["two"], ratio, RATIO_TARGET, verdict, split or "?", label))
        p(s)
        summaries.append(s)
    return summaries


def kill_phase(a, env, run, url, failures, phases):
    """Phase 3: two instances, one killed every --kill-every s; the summary line."""
    three = Phase(a, env, run, "kills", url, 2)
    phases.append(three)
    three.start(0)
    three.start(1)
    rate3, details = run_load(three, failures, kill_every=a.kill_every)
    for k in details["kills"]:
        p("twins: kills: SIGKILL at %s" % k)
    three.stop_all()
    verdict = check_exactly_once(three, details["claimed"], failures)
    s = ("twins: two instances, one SIGKILLed and restarted every %d s (%d kills): %.0f msg/s; %s" % (
        a.kill_every, len(details["kills"]), rate3, verdict))
    p(s)
    return s


PHASES = ("arrival", "staged", "kills")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--db-url", action="append", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--customers", type=int, default=20)
    ap.add_argument("--kill-every", type=int, default=20)
    ap.add_argument("--phases", default=",".join(PHASES), help="which of %s to run" % ", ".join(PHASES))
    ap.add_argument("--summary")
    a = ap.parse_args()
    if len(a.db_url) != 5:
        sys.exit("twins.py needs five --db-url (one per phase)")
    chosen = [x for x in a.phases.split(",") if x]
    if not chosen or set(chosen) - set(PHASES):
        sys.exit("--phases takes a comma list of %s (got '%s')" % (", ".join(PHASES), a.phases))
    env = bl.mailenv()
    label = bl.machine_label()
    run = secrets.token_hex(3)
    failures, summaries, phases = [], [], []
    try:
        if "arrival" in chosen:
            summaries += arrival_phases(a, env, run, a.db_url[0:2], failures, phases, label)
        if "staged" in chosen:
            summaries.append(staged_phases(a, env, run, a.db_url[2:4], failures, phases, label))
        if "kills" in chosen:
            summaries.append(kill_phase(a, env, run, a.db_url[4], failures, phases))
    except Exception as e:  # noqa: BLE001 - reported as a failure, servers stopped below
        failures.append("%s: %s" % (type(e).__name__, e))
    finally:
        for ph in phases:
            ph.stop_all()
    for f in failures:
        p("twins: FAILED: %s" % f)
    if failures:
        for ph in phases:
            for s in ph.servers:
                if s is not None:
                    p("twins: %s log %s (tail):\n%s" % (ph.name, s.log_path, s.tail(1500)))
        summaries.append("twins: FAILED: %s" % "; ".join(failures))
    if a.summary:
        with open(a.summary, "a") as f:
            f.write("\n".join(summaries) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
