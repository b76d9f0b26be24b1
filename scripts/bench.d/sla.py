#!/usr/bin/env python3
"""sla.py - `scripts/bench sla`: the SLA clock worker raising due warnings and breaches (issue 16), on SQLite.

    sla.py --bin target/release/deskmail --work DIR [--tickets 10000] [--other 100000] [--window 60]
           [--seed 1] [--phases backlog,flow] [--timeout 600] [--summary FILE]

The database (once): `deskmail migrate` on a fresh SQLite file, then written directly (standard library sqlite3):
20,000 customers, 10 agents, the policy `standard` (conditions {"all": []}, no calendar = 24x7, first response
60 min, resolution 600 min, warning 10 min before) and --other (100,000) closed tickets of the past year without
a clock (a customer mail and an agent reply each, with the events the code writes: ticket_created,
message_received, reply_sent, status_changed new -> pending -> resolved -> closed), so tickets, messages and
ticket_events are of a realistic size. Each phase copies that file and adds --tickets (10,000) new tickets (status
new, one customer mail each, events ticket_created + message_received as ingest writes them) with their
ticket_sla rows as the SLA worker would have stored them, and the same state/due copied into tickets.sla_state /
sla_due; then `deskmail reindex` (it fills the search index; Python's SQLite cannot write that FTS5 table) and
`deskmail serve`.

1. backlog: the tickets were created about 2 h ago (7200-7800 s), state `ok`, first_response_due = created + 3600
   (past), resolution_due = created + 36000, due_at = first_response_due, alert_at = created + 3000 (the warning
   time, past), raised ''. From serve's start (spawn) the driver polls the database read-only every 200 ms
   (`select count(*) from ticket_events where id > <newest before the start> and kind = 'sla_breached'`) until
   all are raised. The warning is superseded by the breach, so exactly one sla_breached per ticket and no
   sla_warning are expected. Prints alerts per minute from the start (target >= 10,000/min), the time to the
   first and to the last, the worker's ticks (/healthz sla_clock: last_duration_ms, last_acted), serve's peak RSS.
2. flow: alerts come due continuously. The tickets' warnings were raised already (state `warning`, raised
   'warning:first_response', an sla_warning event in the history) and their breaches (alert_at = due_at =
   first_response_due = created + 3600) are seeded far in the future. Once serve is up and its clock has
   ticked, one transaction moves each ticket's times so that the breaches come due spread uniformly over the
   next --window (60) s (10,000 over 60 s = 10,000/min). Lag = an event's `at` (the worker's now at its tick,
   whole seconds) - its due (data.due); also as seen by the 200 ms poll (wall time the event was first visible
   - due). Target: p99 lag <= 10 s (both measures).
Checked after each phase (one more tick later, serve stopped): exactly one sla_breached per seeded ticket and none
for any other, no sla_warning, every event's policy/target/due as seeded, every clock `breached` (ticket_sla and
the copy on tickets) with its next alert the resolution warning. A failed check or a dead server fails the run; a
missed target prints BELOW TARGET. Summary lines go to stdout and --summary. Standard library only.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import p  # noqa: E402

RATE_TARGET = 10_000          # alerts per minute
LAG_P99_TARGET = 10.0         # seconds
POLL_S = 0.2
TICK_S = 5                    # the worker's tick (src/automation/sla/worker.rs TICK_SECS)
DAY = 86400
MAILBOX = ("support", "support@example.test")
ADMIN = "bench-admin@example.test"
POLICY = {"name": "standard", "first": 60, "resolution": 600, "warn": 10}
NO_DUE = 9_000_000_000_000_000
FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla", "Lukas",
         "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Vera", "Xenia", "Yusuf", "Zoe", "Priya"]
LAST = ["Meyer", "Schmidt", "Novak", "Rossi", "Garcia", "Smith", "Jones", "Kowalski", "Dubois", "Jensen",
        "Silva", "Tanaka", "Nguyen", "Okafor", "Haddad", "Larsen", "Moreau", "Fischer", "Brown", "Weber"]
DOMAINS = ["mail.example", "post.example", "webmail.example", "inbox.example", "corp.example", "shop.example"]
WORDS = ("order parcel refund invoice delivery account password login broken missing damaged return exchange "
         "payment card charge twice address label tracking warranty repair replace size colour voucher discount "
         "cancel subscription update urgent please help thanks week yesterday today still waiting answer").split()


def jd(v):
    """JSON as serde_json writes an event's data (keys sorted: its default map, compact)."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def text(rng, k):
    return " ".join(rng.choice(WORDS) for _ in range(k))


def rw(dbfile):
    db = sqlite3.connect(dbfile, isolation_level=None, timeout=60)
    db.execute("pragma busy_timeout = 60000")
    return db


def ro(dbfile):
    db = sqlite3.connect("file:%s?mode=ro" % dbfile, uri=True, timeout=30, isolation_level=None)
    db.execute("pragma busy_timeout = 30000")
    return db


# --- seeding ------------------------------------------------------------------------------------------------

def seed_base(dbfile, other, customers, agents, seed, now):
    """Customers, agents, the policy and `other` closed tickets without a clock; returns a summary dict."""
    rng = random.Random(seed)
    db = rw(dbfile)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma synchronous = off")
    db.execute("pragma cache_size = -262144")
    db.execute("pragma foreign_keys = off")
    if db.execute("select count(*) from tickets").fetchone()[0]:
        sys.exit("sla.py: tickets is not empty (seed a freshly migrated database)")
    # Python's SQLite cannot write the FTS5 table (options newer than it knows): its triggers go, `deskmail
    # reindex` fills it and restores them (as seed_web.py does).
    db.execute("drop trigger if exists messages_fts_insert")
    db.execute("drop trigger if exists messages_fts_delete")
    db.execute("begin")
    mb = db.execute("select id from mailboxes where name = ?", (MAILBOX[0],)).fetchone()
    if mb is None:
        mb = (db.execute("insert into mailboxes (name, address, display_name, source, enabled, created_at, updated_at) "
                         "values (?, ?, 'Support Team', 'config', 1, ?, ?)",
                         (MAILBOX[0], MAILBOX[1], now - 400 * DAY, now - 400 * DAY)).lastrowid,)
    cust, seen = [], set()
    while len(cust) < customers:
        fn, ln = rng.choice(FIRST), rng.choice(LAST)
        email = "%s.%s%d@%s" % (fn.lower(), ln.lower(), rng.randint(1, 9999), rng.choice(DOMAINS))
        if email not in seen:
            seen.add(email)
            cust.append((len(cust) + 1, email, "%s %s" % (fn, ln)))
    db.executemany("insert into customers (id, email, name, blocked, created_at) values (?, ?, ?, 0, ?)",
                   [(c[0], c[1], c[2], now - 380 * DAY) for c in cust])
    staff = [(i, "%s.%s@staff.example.test" % (FIRST[i * 5 % len(FIRST)].lower(), LAST[i * 7 % len(LAST)].lower()),
              "%s %s" % (FIRST[i * 5 % len(FIRST)], LAST[i * 7 % len(LAST)])) for i in range(1, agents + 1)]
    db.executemany("insert into users (id, email, name, role, password_hash, active, signature, created_at, updated_at) "
                   "values (?, ?, ?, 'agent', '!', 1, '', ?, ?)",
                   [(u[0], u[1], u[2], now - 400 * DAY, now - 400 * DAY) for u in staff])
    db.execute("insert into sla_policies (name, position, calendar, conditions, first_response_minutes, "
               "next_response_minutes, resolution_minutes, warn_before_minutes, updated_at) "
               "values (?, 0, null, ?, ?, null, ?, ?, ?)",
               (POLICY["name"], jd({"all": []}), POLICY["first"], POLICY["resolution"], POLICY["warn"], now - 30 * DAY))
    created = sorted(now - 10 * DAY - int(rng.random() * 355 * DAY) for _ in range(other))
    tickets, parts, msgs, events = [], [], [], []
    mid = 0
    for i, c in enumerate(created, start=1):
        number = 999 + i
        cu = cust[int(customers * rng.random() ** 1.7)]
        ag = rng.choice(staff)
        subj = text(rng, rng.randint(3, 7)).capitalize()
        replied = c + rng.randint(600, DAY)
        resolved = replied + rng.randint(3600, 3 * DAY)
        closed = resolved + 7 * DAY
        prio = rng.choices(("low", "normal", "high", "urgent"), weights=(10, 70, 15, 5))[0]
        tickets.append((i, number, mb[0], subj, "closed", prio, cu[0], ag[0], 2, c, closed))
        parts.append((i, cu[0], "requester"))
        body = "Hello,\n\n%s.\n\nThanks,\n%s" % (text(rng, rng.randint(15, 60)).capitalize(), cu[2].split()[0])
        mid += 1
        m1 = mid
        msgs.append((m1, i, "customer", mb[0], cu[0], None, cu[1], cu[2], jd([MAILBOX[1]]), subj,
                     "%x.%d@%s" % (c, number, cu[1].split("@", 1)[1]), None, body, body, c, c))
        reply = "Hello %s,\n\n%s." % (cu[2].split()[0], text(rng, rng.randint(10, 40)).capitalize())
        mid += 1
        msgs.append((mid, i, "agent", mb[0], None, ag[0], ag[1], ag[2], jd([cu[1]]), "Re: [#%d] %s" % (number, subj),
                     "dm.%d.%x@example.test" % (number, replied), msgs[-1][10], reply, reply, None, replied))
        events += [
            (i, c, "customer", "ticket_created", "by e-mail to %s" % MAILBOX[1],
             jd({"channel": "mail", "mailbox": MAILBOX[1], "requester": cu[1]})),
            (i, c, "customer", "message_received", "mail from %s" % cu[1],
             jd({"auto": False, "from": cu[1], "message": m1})),
            (i, replied, ag[1], "reply_sent", "replied to %s" % cu[1], jd({"cc": [], "message": mid, "to": [cu[1]]})),
            (i, replied, ag[1], "status_changed", "new → pending", jd({"from": "new", "to": "pending"})),
            (i, resolved, ag[1], "status_changed", "pending → resolved", jd({"from": "pending", "to": "resolved"})),
            (i, closed, "system", "status_changed", "resolved → closed", jd({"from": "resolved", "to": "closed"})),
        ]
    db.executemany("insert into tickets (id, number, mailbox_id, subject, status, priority, requester_id, assignee_id, "
                   "message_count, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tickets)
    db.execute("update counters set value = ? where name = 'ticket_number'", (999 + other,))
    db.executemany("insert into ticket_participants (ticket_id, customer_id, role) values (?, ?, ?)", parts)
    db.executemany(MSG_SQL, msgs)
    # the log in commit order: events by time, as they were written
    events.sort(key=lambda e: e[1])
    db.executemany("insert into ticket_events (ticket_id, at, actor, kind, detail, data) values (?, ?, ?, ?, ?, ?)",
                   events)
    db.execute("commit")
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    return {"customers": customers, "agents": agents, "other": other, "messages": len(msgs), "events": len(events)}


MSG_SQL = ("insert into messages (id, ticket_id, kind, mailbox_id, customer_id, author_id, from_addr, from_name, "
           "to_json, subject, message_id, in_reply_to, visible_text, body_text, sent_at, created_at) "
           "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def add_clocked(dbfile, n, mode, now, window, seed):
    """Adds n new tickets with clocks. backlog: created ~2 h before `now`, warning and breach past.
    flow: breaches at now + U(0, window) (now: a placeholder far ahead, moved later), warnings raised.
    Returns (first id, last id)."""
    rng = random.Random(seed * 7919 + (1 if mode == "backlog" else 2))
    db = rw(dbfile)
    db.execute("pragma synchronous = off")
    db.execute("pragma foreign_keys = off")
    db.execute("drop trigger if exists messages_fts_insert")
    db.execute("drop trigger if exists messages_fts_delete")
    db.execute("begin")
    mb = db.execute("select id from mailboxes where name = ?", (MAILBOX[0],)).fetchone()[0]
    ncust = db.execute("select count(*) from customers").fetchone()[0]
    cust = {r[0]: r for r in db.execute("select id, email, name from customers")}
    first_id = db.execute("select coalesce(max(id), 0) + 1 from tickets").fetchone()[0]
    number0 = db.execute("select value from counters where name = 'ticket_number'").fetchone()[0] + 1
    mid = db.execute("select coalesce(max(id), 0) from messages").fetchone()[0]
    first_s, res_s, warn_s = POLICY["first"] * 60, POLICY["resolution"] * 60, POLICY["warn"] * 60
    if mode == "backlog":
        created = sorted(now - 7200 - rng.randint(0, 600) for _ in range(n))
    else:
        created = sorted(now + int(rng.random() * window) - first_s for _ in range(n))
    tickets, parts, msgs, events, clocks = [], [], [], [], []
    for k, c in enumerate(created):
        tid, number = first_id + k, number0 + k
        cu = cust[1 + int(ncust * rng.random() ** 1.7)]
        subj = text(rng, rng.randint(3, 7)).capitalize()
        fr_due, res_due = c + first_s, c + res_s
        if mode == "backlog":
            state, alert_at, raised = "ok", fr_due - warn_s, ""
        else:
            state, alert_at, raised = "warning", fr_due, "warning:first_response"
        tickets.append((tid, number, mb, subj, "new", "normal", cu[0], 1, c, c, state, fr_due))
        parts.append((tid, cu[0], "requester"))
        mid += 1
        body = "Hello,\n\n%s.\n\nThanks,\n%s" % (text(rng, rng.randint(15, 60)).capitalize(), cu[2].split()[0])
        msgs.append((mid, tid, "customer", mb, cu[0], None, cu[1], cu[2], jd([MAILBOX[1]]), subj,
                     "%x.%d@%s" % (c, number, cu[1].split("@", 1)[1]), None, body, body, c, c))
        events += [
            (tid, c, "customer", "ticket_created", "by e-mail to %s" % MAILBOX[1],
             jd({"channel": "mail", "mailbox": MAILBOX[1], "requester": cu[1]})),
            (tid, c, "customer", "message_received", "mail from %s" % cu[1],
             jd({"auto": False, "from": cu[1], "message": mid})),
        ]
        if mode == "flow":   # the warning the worker raised 10 min before the due time
            events.append((tid, fr_due - warn_s, "system", "sla_warning", "first reply due %s" % hm(fr_due),
                           jd({"due": fr_due, "policy": POLICY["name"], "target": "first_response"})))
        clocks.append((tid, POLICY["name"], state, fr_due, None, None, res_due, None, 0, fr_due, alert_at, raised,
                       c if mode == "backlog" else fr_due - warn_s))
    db.executemany("insert into tickets (id, number, mailbox_id, subject, status, priority, requester_id, "
                   "message_count, created_at, updated_at, sla_state, sla_due) "
                   "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tickets)
    db.execute("update counters set value = ? where name = 'ticket_number'", (number0 + n - 1,))
    db.executemany("insert into ticket_participants (ticket_id, customer_id, role) values (?, ?, ?)", parts)
    db.executemany(MSG_SQL, msgs)
    events.sort(key=lambda e: e[1])
    db.executemany("insert into ticket_events (ticket_id, at, actor, kind, detail, data) values (?, ?, ?, ?, ?, ?)",
                   events)
    db.executemany("insert into ticket_sla (ticket_id, policy, state, first_response_due, first_response_at, "
                   "next_response_due, resolution_due, resolved_at, paused_minutes, due_at, alert_at, raised, "
                   "updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", clocks)
    db.execute("commit")
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    return first_id, first_id + n - 1


def hm(ts):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def shift(dbfile, lo, hi, d):
    """Moves the flow tickets' times by d seconds in one transaction (serve running)."""
    db = rw(dbfile)
    try:
        db.execute("begin immediate")
        db.execute("update tickets set created_at = created_at + ?1, updated_at = updated_at + ?1, "
                   "sla_due = sla_due + ?1 where id between ?2 and ?3", (d, lo, hi))
        db.execute("update ticket_sla set first_response_due = first_response_due + ?1, "
                   "resolution_due = resolution_due + ?1, due_at = due_at + ?1, alert_at = alert_at + ?1, "
                   "updated_at = updated_at + ?1 where ticket_id between ?2 and ?3", (d, lo, hi))
        db.execute("update ticket_events set data = json_set(data, '$.due', json_extract(data, '$.due') + ?1), "
                   "detail = 'first reply due ' || strftime('%Y-%m-%d %H:%M:%S', json_extract(data, '$.due') + ?1, "
                   "'unixepoch') || ' UTC' where ticket_id between ?2 and ?3 and kind = 'sla_warning'", (d, lo, hi))
        db.execute("update ticket_events set at = at + ?1 where ticket_id between ?2 and ?3", (d, lo, hi))
        db.execute("update messages set created_at = created_at + ?1, sent_at = sent_at + ?1 "
                   "where ticket_id between ?2 and ?3", (d, lo, hi))
        db.execute("commit")
    finally:
        db.close()


# --- measuring ------------------------------------------------------------------------------------------------

class Poller(threading.Thread):
    """Polls the database read-only every POLL_S: the SLA events after `after` (by id), first seen when."""

    def __init__(self, dbfile, after):
        super().__init__(daemon=True)
        self.dbfile, self.after = dbfile, after
        self.seen = {}          # event id -> (monotonic first seen, wall first seen, ticket, at, kind, due)
        self.breaches = 0
        self.samples = []       # (monotonic, breaches so far)
        self.error = None
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        db = None
        last = self.after
        while not self.stop_ev.is_set():
            try:
                if db is None:
                    db = ro(self.dbfile)
                rows = db.execute("select id, ticket_id, at, kind, data from ticket_events where id > ? "
                                  "and kind in ('sla_breached', 'sla_warning') order by id", (last,)).fetchall()
                tm, tw = time.monotonic(), time.time()
                with self.lock:
                    for eid, tid, at, kind, data in rows:
                        due = json.loads(data).get("due")
                        self.seen[eid] = (tm, tw, tid, at, kind, due)
                        if kind == "sla_breached":
                            self.breaches += 1
                        last = eid
                    self.samples.append((tm, self.breaches))
            except sqlite3.Error as e:   # serve not up yet (no -shm), or busy
                self.error = str(e)
                if db is not None:
                    db.close()
                    db = None
            self.stop_ev.wait(POLL_S)
        if db is not None:
            db.close()

    def count(self):
        with self.lock:
            return self.breaches

    def stop(self):
        self.stop_ev.set()
        self.join()


def healthz_clock(api):
    try:
        st, j = api.get("/healthz")
    except OSError:
        return None
    if st != 200 or not isinstance(j, dict):
        return None
    return j.get("sla_clock")


class ClockWatch:
    """The worker's ticks as /healthz sla_clock shows them (last_run_at, last_duration_ms, last_acted)."""

    def __init__(self):
        self.ticks = {}

    def sample(self, api):
        c = healthz_clock(api)
        if c and c.get("last_run_at"):
            self.ticks[c["last_run_at"]] = (c.get("last_duration_ms"), c.get("last_acted"))
        return c

    def busy(self):
        """Ticks that raised something: [(run at, ms, alerts)]."""
        return [(k, v[0], v[1]) for k, v in sorted(self.ticks.items()) if v[1]]

    def text(self):
        b = self.busy()
        if not b:
            return "no tick with alerts seen in /healthz"
        longest = max(b, key=lambda x: x[1] or 0)
        return "%d ticks with alerts seen in /healthz (of %d seen; a tick finishing between two samples is missed), " \
               "the longest %s ms for %s alerts" % (len(b), len(self.ticks), longest[1], longest[2])


def pct(values, q):
    return bl.pct(values, q) if values else float("nan")


def newest_event(dbfile):
    db = rw(dbfile)   # a select; read-only would need the -shm file of a running serve
    try:
        return db.execute("select coalesce(max(id), 0) from ticket_events").fetchone()[0]
    finally:
        db.close()


def check_after(dbfile, lo, hi, after, n, failed, what):
    """The counts and clocks after a phase (serve stopped); appends failures."""
    db = rw(dbfile)
    try:
        q = lambda sql, *a: db.execute(sql, a).fetchone()[0]   # noqa: E731
        br = q("select count(*) from ticket_events where id > ? and kind = 'sla_breached'", after)
        wa = q("select count(*) from ticket_events where id > ? and kind = 'sla_warning'", after)
        tickets = q("select count(distinct ticket_id) from ticket_events where id > ? and kind = 'sla_breached'", after)
        outside = q("select count(*) from ticket_events where id > ? and kind = 'sla_breached' "
                    "and ticket_id not between ? and ?", after, lo, hi)
        twice = q("select count(*) from (select ticket_id from ticket_events where id > ? and kind = 'sla_breached' "
                  "group by ticket_id having count(*) > 1)", after)
        wrong = q("select count(*) from ticket_events e join ticket_sla s on s.ticket_id = e.ticket_id "
                  "where e.id > ? and e.kind = 'sla_breached' and (e.actor <> 'system' "
                  "or json_extract(e.data, '$.policy') <> ? or json_extract(e.data, '$.target') <> 'first_response' "
                  "or json_extract(e.data, '$.due') <> s.first_response_due)", after, POLICY["name"])
        late_at = q("select count(*) from ticket_events where id > ? and kind = 'sla_breached' "
                    "and at < json_extract(data, '$.due')", after)
        st = dict(db.execute("select state, count(*) from ticket_sla where ticket_id between ? and ? group by state",
                             (lo, hi)).fetchall())
        copy = q("select count(*) from tickets where id between ? and ? and sla_state = 'breached' "
                 "and sla_due = (select due_at from ticket_sla s where s.ticket_id = tickets.id)", lo, hi)
        keys = q("select count(*) from ticket_sla where ticket_id between ? and ? and "
                 "','||raised||',' like '%,breached:first_response,%' and ','||raised||',' like "
                 "'%,warning:first_response,%'", lo, hi)
        # first response still runs unanswered (the nearest due); the next alert is the resolution's warning
        nxt = q("select count(*) from ticket_sla where ticket_id between ? and ? and due_at = first_response_due "
                "and alert_at = resolution_due - ?", lo, hi, POLICY["warn"] * 60)
    finally:
        db.close()
    p("  check: %d sla_breached for %d tickets (%d outside the seeded ones, %d tickets twice), %d sla_warning; "
      "clocks %s; %d copies on tickets breached; %d with both keys raised; %d with the resolution warning next" % (
          br, tickets, outside, twice, wa, json.dumps(st, sort_keys=True), copy, keys, nxt))
    if br != n or tickets != n or outside or twice:
        failed.append("%s: %d sla_breached events for %d of the %d seeded tickets (%d for other tickets, %d tickets "
                      "with more than one); expected exactly one each" % (what, br, tickets, n, outside, twice))
    if wa:
        failed.append("%s: %d sla_warning events (a warning caught up with after its breach is due is superseded; "
                      "flow: warnings were raised before)" % (what, wa))
    if wrong:
        failed.append("%s: %d sla_breached events with another actor, policy, target or due than seeded" % (what, wrong))
    if late_at:
        failed.append("%s: %d sla_breached events raised before their due time" % (what, late_at))
    if st.get("breached", 0) != n or copy != n or keys != n or nxt != n:
        failed.append("%s: after the run the clocks are %s (ticket copies breached: %d, keys raised: %d, resolution "
                      "warning next: %d), expected %d breached with all three" % (what, json.dumps(st, sort_keys=True), copy, keys,
                                                                  nxt, n))


def serve_errors(log_path):
    try:
        with open(log_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return [x for x in lines if " ERROR " in x or "\"level\":\"ERROR\"" in x or x.startswith("ERROR")]


# --- phases ---------------------------------------------------------------------------------------------------

def prepare(a, base_db, name, mode, now):
    """A copy of the base database in DIR/name with the phase's clocked tickets, reindexed; returns
    (work, config, dbfile, port, lo, hi)."""
    work = os.path.join(a.work, name)
    os.makedirs(os.path.join(work, "storage"), exist_ok=True)
    dbfile = os.path.join(work, "deskmail.db")
    shutil.copyfile(base_db, dbfile)
    port = bl.free_port()
    config = make_config(work, port, dbfile)
    t0 = time.monotonic()
    lo, hi = add_clocked(dbfile, a.tickets, mode, now, a.window, a.seed)
    t1 = time.monotonic()
    bl.cli(a.bin, config, "reindex")
    t2 = time.monotonic()
    mb = sum(os.path.getsize(os.path.join(work, x)) for x in os.listdir(work) if x.startswith("deskmail.db")) / 1e6
    p("  %s: %d clocked tickets (ids %d-%d) added in %.1f s, `deskmail reindex` %.1f s; database %.0f MB" % (
        name, a.tickets, lo, hi, t1 - t0, t2 - t1, mb))
    return work, config, dbfile, port, lo, hi


def make_config(work, port, dbfile):
    config = os.path.join(work, "deskmail.toml")
    bl.write_config(config, {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
        "database": {"url": "sqlite://%s" % dbfile},
        "storage": {"dir": os.path.join(work, "storage")},
        "security": {"secret": secrets.token_hex(32)},
    }, [{"name": MAILBOX[0], "address": MAILBOX[1]}])
    return config


def stop_serve(server, failed, what):
    peak = bl.proc_rss_mb(server.pid)
    cpu = server.cpu()
    alive = server.alive()
    code, _secs = server.stop()
    if not alive:
        failed.append("%s: deskmail serve died (exit %s):\n%s" % (what, code, server.tail()))
    elif code not in (0, None):
        p("  deskmail serve exited with %s after SIGTERM; log tail:\n%s" % (code, server.tail()))
    errs = serve_errors(server.log_path)
    if errs:
        p("  %s: serve logged %d ERROR lines, first: %s" % (what, len(errs), errs[0][:400]))
        failed.append("%s: deskmail serve logged %d ERROR lines (first: %s)" % (what, len(errs), errs[0][:300]))
    return peak, cpu


def phase_backlog(a, base_db, result, failed):
    now = int(time.time())
    work, config, dbfile, port, lo, hi = prepare(a, base_db, "backlog", "backlog", now)
    n = a.tickets
    token = bl.api_token(a.bin, config, ADMIN)
    after = newest_event(dbfile)
    poller = Poller(dbfile, after)
    poller.start()
    server = bl.Server(a.bin, config, os.path.join(work, "serve.log"))
    watch = ClockWatch()
    cpu = None
    try:
        api = bl.Api(port, token, timeout=30)
        t_up = bl.wait_http(api, server)
        p("  deskmail serve up in %.2f s on port %d (pid %d); %d breaches due (all past), polling every %.1f s" % (
            t_up, port, server.pid, n, POLL_S))
        deadline = server.t_spawn + a.timeout
        while poller.count() < n:
            if not server.alive():
                raise RuntimeError("deskmail serve died:\n%s" % server.tail())
            if time.monotonic() > deadline:
                raise RuntimeError("only %d of %d breaches raised within %d s of serve's start" % (
                    poller.count(), n, a.timeout))
            watch.sample(api)
            time.sleep(POLL_S)
        t_done = time.monotonic()
        cpu_done = server.cpu()
        # the tick that raised them records itself right after its last commit
        until = time.monotonic() + 3
        while not watch.busy() and time.monotonic() < until:
            watch.sample(api)
            time.sleep(0.05)
        # one more tick: nothing is raised twice
        time.sleep(TICK_S + 1.5)
        watch.sample(api)
        poller.stop()
        cpu = cpu_done
    except (RuntimeError, OSError) as e:
        failed.append("backlog: %s" % e)
        t_done = None
    finally:
        if poller.is_alive():
            poller.stop()
        peak, cpu_end = stop_serve(server, failed, "backlog")
    seen = sorted(v[0] for v in poller.seen.values() if v[4] == "sla_breached")
    if t_done is None or not seen:
        result("sla backlog: FAILED to raise the breaches (%d of %d seen); serve peak RSS %.0f MB" % (
            len(seen), n, peak))
        return
    t_first, t_last = seen[0] - server.t_spawn, seen[-1] - server.t_spawn
    per_min = 60.0 * n / t_last
    span = seen[-1] - seen[0]
    ats = sorted(v[3] for v in poller.seen.values() if v[4] == "sla_breached")
    p("  breaches first seen %.2f s and all %d seen %.2f s after serve's spawn (events' at spans %d s); %s" % (
        t_first, n, t_last, ats[-1] - ats[0], watch.text()))
    check_after(dbfile, lo, hi, after, n, failed, "backlog")
    result("sla backlog: %d due first-response breaches raised in %.1f s from serve's start: %.0f alerts/min "
           "(target >= %d/min)%s; first after %.2f s, last after %.2f s (%.0f/min between them); deskmail CPU %.1f s" % (
               n, t_last, per_min, RATE_TARGET, "" if per_min >= RATE_TARGET else "  BELOW TARGET",
               t_first, t_last, 60.0 * (n - 1) / span if span > 0 else float("inf"), cpu or cpu_end))
    result("sla backlog: %s; deskmail serve peak RSS %.0f MB (%d clocked + %d other tickets)" % (
        watch.text(), peak, n, a.other))


def phase_flow(a, base_db, result, failed):
    placeholder = int(time.time()) + 30 * DAY   # nothing comes due until moved
    work, config, dbfile, port, lo, hi = prepare(a, base_db, "flow", "flow", placeholder)
    n = a.tickets
    token = bl.api_token(a.bin, config, ADMIN)
    server = bl.Server(a.bin, config, os.path.join(work, "serve.log"))
    watch = ClockWatch()
    poller = None
    t_shift = None
    try:
        api = bl.Api(port, token, timeout=30)
        t_up = bl.wait_http(api, server)
        p("  deskmail serve up in %.2f s on port %d (pid %d)" % (t_up, port, server.pid))
        deadline = time.monotonic() + 60
        while (watch.sample(api) or {}).get("state") in (None, "not_run_yet"):
            if time.monotonic() > deadline:
                raise RuntimeError("the SLA clock did not tick within 60 s of serve's start")
            time.sleep(0.2)
        after = newest_event(dbfile)
        poller = Poller(dbfile, after)
        poller.start()
        start = int(time.time()) + 2
        d = start - placeholder
        t0 = time.monotonic()
        shift(dbfile, lo, hi, d)
        t_shift = time.monotonic()
        p("  moved the %d breaches to come due over the next %d s (from %s; the move took %.2f s)" % (
            n, a.window, hm(start), t_shift - t0))
        deadline = t_shift + a.window + a.timeout
        while poller.count() < n:
            if not server.alive():
                raise RuntimeError("deskmail serve died:\n%s" % server.tail())
            if time.monotonic() > deadline:
                raise RuntimeError("only %d of %d breaches raised within %d s after the last came due" % (
                    poller.count(), n, a.timeout))
            watch.sample(api)
            time.sleep(POLL_S)
        time.sleep(TICK_S + 1.5)
        watch.sample(api)
        poller.stop()
    except (RuntimeError, OSError, sqlite3.Error) as e:
        failed.append("flow: %s" % e)
    finally:
        if poller is not None and poller.is_alive():
            poller.stop()
        peak, cpu = stop_serve(server, failed, "flow")
    if poller is None or t_shift is None:
        result("sla flow: FAILED before the breaches came due; serve peak RSS %.0f MB" % peak)
        return
    br = [v for v in poller.seen.values() if v[4] == "sla_breached" and v[5] is not None]
    if not br:
        result("sla flow: FAILED: no breach raised; serve peak RSS %.0f MB" % peak)
        return
    lag_at = [v[3] - v[5] for v in br]
    lag_seen = [v[1] - v[5] for v in br]
    p50a, p99a, maxa = pct(lag_at, 50), pct(lag_at, 99), max(lag_at)
    p50s, p99s, maxs = pct(lag_seen, 50), pct(lag_seen, 99), max(lag_seen)
    check_after(dbfile, lo, hi, after, n, failed, "flow")
    ok = p99a <= LAG_P99_TARGET and p99s <= LAG_P99_TARGET
    result("sla flow: %d breaches coming due over %d s (%.0f/min): lag due -> event at p50 %.0f s, p99 %.0f s, max "
           "%.0f s; due -> visible to the poll p50 %.1f s, p99 %.1f s, max %.1f s (target p99 <= %.0f s)%s" % (
               n, a.window, 60.0 * n / a.window, p50a, p99a, maxa, p50s, p99s, maxs, LAG_P99_TARGET,
               "" if ok else "  BELOW TARGET"))
    result("sla flow: %s; deskmail CPU %.1f s; deskmail serve peak RSS %.0f MB" % (watch.text(), cpu, peak))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--other", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--phases", default="backlog,flow")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--summary")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    phases = [x for x in a.phases.replace(" ", ",").split(",") if x]
    for ph in phases:
        if ph not in ("backlog", "flow"):
            sys.exit("unknown phase %s (backlog, flow)" % ph)
    if a.tickets < 1 or a.other < 0 or a.window < 1 or a.customers < 1:
        sys.exit("--tickets, --window and --customers must be at least 1, --other at least 0")
    summary, failed = [], []

    def result(line):
        summary.append(line)
        p(line)

    p("machine: %s; load average %s" % (bl.machine_label(), bl.loadavg()))
    try:
        base = os.path.join(a.work, "base")
        os.makedirs(os.path.join(base, "storage"), exist_ok=True)
        base_db = os.path.join(base, "deskmail.db")
        config = make_config(base, bl.free_port(), base_db)
        t0 = time.monotonic()
        bl.cli(a.bin, config, "migrate")
        t1 = time.monotonic()
        info = seed_base(base_db, a.other, a.customers, 10, a.seed, int(time.time()))
        result("sla: base database: migrate %.1f s, seeded in %.1f s: %d customers, %d agents, policy %s (first "
               "response %d min, resolution %d min, warning %d min before, 24x7), %d closed tickets without a clock, "
               "%d messages, %d events" % (t1 - t0, time.monotonic() - t1, info["customers"], info["agents"],
                                          POLICY["name"], POLICY["first"], POLICY["resolution"], POLICY["warn"],
                                          info["other"], info["messages"], info["events"]))
        if "backlog" in phases:
            p("backlog: %d tickets created ~2 h ago, first response (60 min) breached, warning past; serve from cold"
              % a.tickets)
            phase_backlog(a, base_db, result, failed)
        if "flow" in phases:
            p("flow: %d breaches coming due uniformly over %d s while serve runs" % (a.tickets, a.window))
            phase_flow(a, base_db, result, failed)
    except (RuntimeError, OSError, sqlite3.Error, subprocess.SubprocessError) as e:
        failed.append(str(e))
    for f in failed:
        result("sla: FAILED: %s" % f)
    if a.summary:
        with open(a.summary, "w") as f:
            f.write("\n".join(summary) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
