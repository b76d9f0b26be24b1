#!/usr/bin/env python3
"""seed_web.py - fills a migrated, empty deskmail SQLite database with a realistic support history.

    seed_web.py --db PATH [--tickets 100000] [--messages 500000] [--customers 20000] [--agents 10]
                [--mailboxes support=support@example.test,billing=billing@example.test] [--seed 1]
                [--now UNIX] [--sla-share 0.0] [--json FILE]

Used by `scripts/bench web`: `deskmail migrate` first, then this writes rows straight into the schema
(not through the mail pipeline): mailboxes (source 'config', matched by name when `deskmail serve`
starts with the same [[mailbox]] names), customers, agents, tickets (numbers from 1000, the
`ticket_number` counter set to the highest), messages (customer mails, agent replies, notes; about
five per ticket, interleaved in time like real traffic), participants, tags and history events.

The data:
* tickets over one year (ids in creation order); a ticket is active (new/open/pending) with a
  probability that falls with its age (0.1 + 0.9 e^(-age/20 days): ~15% overall); an inactive
  ticket whose last activity is within the auto-close window (7 days) is `resolved`, else `closed`
  (so `deskmail serve`'s hourly auto-close has nothing to do); priorities low/normal/high/urgent
  10/70/15/5%; about half assigned to one of the agents; 80% in the first of --mailboxes, the rest
  shared evenly by the others (`scripts/bench web` with DM_BENCH_TEAMS: support/billing/shipping 80/10/10)
* subjects and bodies from a generated vocabulary of --vocabulary (8000) words drawn with a Zipf
  law, so there are common, medium and rare words for full-text search
* with --sla-share F (web.py: 0.7): the SLA policy `standard` (conditions {"all": []}, 24x7, first response
  240 min, resolution 1440 min, warning 60 min before) and a clock for a share F of the new/open/pending
  tickets: ticket_sla rows and their copy on tickets (sla_state, sla_due). new/open tickets are `breached`
  (20 %, due 1 min to 2 days ago), `warning` (8 %, due within the hour) or `ok` (72 %, due in 1 h to 5 days;
  the running target: first response while no agent replied, else resolution); pending ones are `paused`
  (85 %) or `breached` (15 %), with no running target (sla_due 9e15, last in sort=due). Drawn from their
  own random stream: the rest of the data is the same with or without clocks
* `ticket_counts` is what the schema's triggers make; the search index (`messages_fts`, an FTS5
  table with options newer than Python's SQLite understands) is not touched: its triggers are
  dropped here and `deskmail reindex` fills it and restores them afterwards

Loading runs with PRAGMA synchronous = off in one transaction per table; the file is left in WAL
mode (as deskmail uses it), checkpointed. Prints timings; with --json writes
{"tickets", "messages", "status": {...}, "sla": {state: count}, "search_words": [word, ...], "seconds"}
where search_words are candidates across the frequency range (web.py keeps the medium-selective ones).
Standard library only.
"""

import argparse
import bisect
import itertools
import json
import math
import random
import sqlite3
import sys
import time

sys.dont_write_bytecode = True

DAY = 86400
AUTO_CLOSE_DAYS = 7
STATUS_ACTIVE = ("new", "open", "pending")
PRIORITIES = (("low", 10), ("normal", 70), ("high", 15), ("urgent", 5))
TAGS = ["billing", "shipping", "refund", "vip", "bug", "feature-request", "invoice", "warranty", "login",
        "damaged", "wholesale", "returns", "urgent-followup", "press", "partner"]
FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla", "Lukas",
         "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara", "Ugo", "Vera", "Willi", "Xenia",
         "Yusuf", "Zoe", "Marta", "Pedro", "Aiko", "Chen", "Fatima", "Igor", "Lena", "Omar", "Priya", "Sara"]
LAST = ["Meyer", "Schmidt", "Novak", "Rossi", "Garcia", "Smith", "Jones", "Kowalski", "Dubois", "Jensen",
        "Silva", "Tanaka", "Nguyen", "Okafor", "Haddad", "Larsen", "Moreau", "Fischer", "Brown", "Weber",
        "Horvat", "Costa", "Popescu", "Ivanova", "Berg", "Keller", "Lopez", "Wagner", "Bauer", "Kim"]
DOMAINS = ["mail.example", "post.example", "webmail.example", "inbox.example", "corp.example", "shop.example",
           "uni.example", "family.example", "agency.example", "studio.example", "gmx.example", "online.example"]


def make_vocabulary(rng, n):
    """n distinct pronounceable words (2-4 syllables), shuffled; rank 0 is the most common."""
    onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
              "br", "cl", "dr", "fl", "gr", "kr", "pl", "pr", "sk", "sl", "sp", "st", "tr"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
    codas = ["", "", "", "n", "r", "s", "l", "m", "t", "x", "nd", "st"]
    words, seen = [], set()
    while len(words) < n:
        w = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.choice((2, 2, 3, 3, 4))))
        w += rng.choice(codas)
        if w not in seen and 4 <= len(w) <= 14:
            seen.add(w)
            words.append(w)
    return words


class Text:
    """Zipf-distributed words: weight of rank r is 1 / (r + 8)."""

    def __init__(self, rng, vocab):
        self.rng = rng
        self.vocab = vocab
        self.cum = list(itertools.accumulate(1.0 / (r + 8) for r in range(len(vocab))))

    def words(self, k):
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def sentence_block(self, k):
        ws = self.words(k)
        out, i = [], 0
        while i < len(ws):
            n = self.rng.randint(6, 14)
            s = " ".join(ws[i:i + n])
            out.append(s[:1].upper() + s[1:] + ".")
            i += n
        return " ".join(out)

    def subject(self):
        s = " ".join(self.words(self.rng.randint(3, 7)))
        return s[:1].upper() + s[1:]


def weighted(rng, pairs):
    names = [p[0] for p in pairs]
    return rng.choices(names, weights=[p[1] for p in pairs])[0]


NO_DUE = 9_000_000_000_000_000   # tickets.sla_due without a running target (src/db/sla.rs)
SLA_POLICY = {"name": "standard", "first": 240, "resolution": 1440, "warn": 60}


def seed_clocks(db, share, rng, now, tickets, skeleton):
    """The SLA policy and clocks for `share` of the active tickets (see the module doc); returns {state: count}."""
    first_reply = {}
    for at, i, _j, kind in skeleton:   # sorted by time
        if kind == "agent":
            first_reply.setdefault(i, at)
    first_s, res_s, warn_s = SLA_POLICY["first"] * 60, SLA_POLICY["resolution"] * 60, SLA_POLICY["warn"] * 60
    clocks, copies, states = [], [], {}
    for i, t in enumerate(tickets):
        tid, st, created = t[0], t[4], t[9]
        if st not in STATUS_ACTIVE or rng.random() >= share:
            continue
        answered = first_reply.get(i)
        fr_due, fr_at, res_due, paused, raised = created + first_s, answered, None, 0, ""
        if st == "pending":
            state = "paused" if rng.random() < 0.85 else "breached"
            due = alert = None
            paused = rng.randint(10, 3 * 24 * 60)
            raised = "breached:resolution,warning:resolution" if state == "breached" else ""
        else:
            target = "first_response" if answered is None else "resolution"
            state = weighted(rng, (("breached", 20), ("warning", 8), ("ok", 72)))
            if state == "breached":
                due, alert = now - rng.randint(60, 2 * DAY), None
                raised = "breached:%s,warning:%s" % (target, target)
            elif state == "warning":
                due = now + rng.randint(60, warn_s)
                alert, raised = due, "warning:%s" % target
            else:
                due = now + rng.randint(warn_s + 60, 5 * DAY)
                alert = due - warn_s
            if target == "first_response":
                fr_due, res_due = due, due + res_s - first_s
            else:
                res_due = due
        clocks.append((tid, SLA_POLICY["name"], state, fr_due, fr_at, None, res_due, None, paused, due, alert, raised,
                       now - rng.randint(60, 3600)))
        copies.append((state, NO_DUE if due is None else due, tid))
        states[state] = states.get(state, 0) + 1
    db.execute("begin")
    db.execute("insert into sla_policies (name, position, calendar, conditions, first_response_minutes, "
               "next_response_minutes, resolution_minutes, warn_before_minutes, updated_at) "
               "values (?, 0, null, '{\"all\":[]}', ?, null, ?, ?, ?)",
               (SLA_POLICY["name"], SLA_POLICY["first"], SLA_POLICY["resolution"], SLA_POLICY["warn"], now - 30 * DAY))
    db.executemany("insert into ticket_sla (ticket_id, policy, state, first_response_due, first_response_at, "
                   "next_response_due, resolution_due, resolved_at, paused_minutes, due_at, alert_at, raised, "
                   "updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", clocks)
    db.executemany("update tickets set sla_state = ?, sla_due = ? where id = ?", copies)
    db.execute("commit")
    return states


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--vocabulary", type=int, default=8000)
    ap.add_argument("--mailboxes", default="support=support@example.test,billing=billing@example.test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", type=int, default=0)
    ap.add_argument("--sla-share", type=float, default=0.0)
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.messages < a.tickets:
        sys.exit("--messages must be at least --tickets (every ticket holds its first mail)")
    t_start = time.monotonic()
    rng = random.Random(a.seed)
    now = a.now or int(time.time())
    text = Text(rng, make_vocabulary(rng, a.vocabulary))

    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma synchronous = off")
    db.execute("pragma cache_size = -262144")   # 256 MB while loading
    db.execute("pragma temp_store = memory")
    db.execute("pragma foreign_keys = off")
    for table in ("tickets", "messages", "customers"):
        if db.execute("select count(*) from %s" % table).fetchone()[0]:
            sys.exit("seed_web.py: %s is not empty (seed a freshly migrated database)" % table)
    timings = []

    def step(name, t0):
        timings.append("%s %.1f s" % (name, time.monotonic() - t0))

    # --- mailboxes, customers, agents -------------------------------------------------------------
    t0 = time.monotonic()
    db.execute("begin")
    mailboxes = []
    for spec in a.mailboxes.split(","):
        name, addr = spec.split("=", 1)
        row = db.execute("select id, address from mailboxes where name = ?", (name,)).fetchone()
        if row is None:   # `deskmail migrate` creates the config's mailboxes; add the others
            cur = db.execute("insert into mailboxes (name, address, display_name, source, enabled, created_at, "
                             "updated_at) values (?, ?, ?, 'config', 1, ?, ?)",
                             (name, addr, name.capitalize() + " Team", now - 400 * DAY, now - 400 * DAY))
            row = (cur.lastrowid, addr)
        mailboxes.append((row[0], name, row[1]))
    mb_addr = {m[0]: m[2] for m in mailboxes}
    mb_weights = [80] + [20 // max(1, len(mailboxes) - 1)] * (len(mailboxes) - 1)

    customers = []  # (id, email, name)
    seen = set()
    for cid in range(1, a.customers + 1):
        while True:
            fn, ln = rng.choice(FIRST), rng.choice(LAST)
            email = "%s.%s%d@%s" % (fn.lower(), ln.lower(), rng.randint(1, 999), rng.choice(DOMAINS))
            if email not in seen:
                seen.add(email)
                break
        customers.append((cid, email, "%s %s" % (fn, ln)))
    db.executemany("insert into customers (id, email, name, blocked, created_at) values (?, ?, ?, 0, ?)",
                   [(c[0], c[1], c[2], now - 380 * DAY) for c in customers])
    agents = []  # (id, email, name)
    for uid in range(1, a.agents + 1):
        fn, ln = FIRST[(uid * 7) % len(FIRST)], LAST[(uid * 11) % len(LAST)]
        agents.append((uid, "%s.%s@staff.example.test" % (fn.lower(), ln.lower()), "%s %s" % (fn, ln)))
    # password_hash '!': not an argon2 hash, so these seeded agents can never sign in
    db.executemany("insert into users (id, email, name, role, password_hash, active, signature, created_at, updated_at) "
                   "values (?, ?, ?, 'agent', '!', 1, ?, ?, ?)",
                   [(u[0], u[1], u[2], "-- \n%s\nSupport" % u[2], now - 400 * DAY, now - 400 * DAY) for u in agents])
    db.execute("commit")
    step("customers+agents", t0)

    # --- tickets and the shape of their threads ---------------------------------------------------------
    t0 = time.monotonic()
    n = a.tickets
    created = sorted(now - int(rng.random() * 365 * DAY) - 600 for _ in range(n))
    counts = []
    statuses_active = []
    for c in created:
        age_days = (now - c) / DAY
        active = rng.random() < 0.1 + 0.9 * math.exp(-age_days / 20.0)
        st = weighted(rng, (("new", 20), ("open", 40), ("pending", 40))) if active else None
        statuses_active.append(st)
        if st == "new":
            counts.append(rng.choice((1, 1, 1, 2)))
        else:
            counts.append(max(2, min(30, int(rng.expovariate(1 / 4.2)) + 2)))
    # make the message total exact
    diff = a.messages - sum(counts)
    flexible = [i for i, st in enumerate(statuses_active) if st != "new"] or list(range(n))
    while diff != 0:
        i = rng.choice(flexible)
        if diff > 0 and counts[i] < 40:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 1:
            counts[i] -= 1
            diff += 1

    tickets = []   # (id, number, mailbox_id, subject, status, priority, requester, assignee, count, created, updated)
    skeleton = []  # (time, ticket index, position, kind)
    status_n = {}
    for i in range(n):
        c, st, k = created[i], statuses_active[i], counts[i]
        times = [c]
        kinds = ["customer"]
        for j in range(1, k):
            times.append(min(now - 60, times[-1] + int(rng.expovariate(1 / (18 * 3600.0))) + 120))
            if st == "new":
                kinds.append("customer")
            else:
                kinds.append(weighted(rng, (("agent", 45), ("customer", 40), ("note", 15))))
        if st == "pending" and k > 1:
            kinds[-1] = "agent"
        if st is None and k > 1 and kinds[-1] == "note":
            kinds[-1] = "agent"
        last = times[-1]
        if st is None:
            closed_at = min(now - 30, last + rng.randint(600, 5 * DAY))
            if now - closed_at < AUTO_CLOSE_DAYS * DAY - 3600:
                st, updated = "resolved", closed_at
            else:
                st, updated = "closed", min(now - 30, closed_at + AUTO_CLOSE_DAYS * DAY)
                if now - updated < 3600:
                    updated = closed_at
        else:
            updated = last
        status_n[st] = status_n.get(st, 0) + 1
        prio = weighted(rng, PRIORITIES)
        assigned = rng.random() < (0.1 if st == "new" else 0.58)
        assignee = rng.randint(1, a.agents) if assigned and a.agents else None
        requester = 1 + int(a.customers * rng.random() ** 1.7)
        mb = rng.choices(mailboxes, weights=mb_weights)[0][0]
        tickets.append([i + 1, 1000 + i, mb, text.subject(), st, prio, requester, assignee, k, c, updated])
        for j in range(k):
            skeleton.append((times[j], i, j, kinds[j]))
    db.execute("begin")
    db.executemany("insert into tickets (id, number, mailbox_id, subject, status, priority, requester_id, assignee_id, "
                   "message_count, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tickets)
    db.execute("update counters set value = ? where name = 'ticket_number'", (1000 + n - 1,))

    parts, tags, events = [], [], []
    for t in tickets:
        tid, _num, _mb, _subj, st, _prio, req, assignee, _k, c, updated = t
        parts.append((tid, req, "requester"))
        if rng.random() < 0.1:
            cc = rng.randint(1, a.customers)
            if cc != req:
                parts.append((tid, cc, "cc"))
        if rng.random() < 0.15:
            for tag in set(rng.sample(TAGS, rng.choice((1, 1, 2)))):
                tags.append((tid, tag))
        events.append((tid, c, customers[req - 1][1], "created", "by e-mail to %s" % mb_addr[_mb]))
        if assignee:
            events.append((tid, c + 300, agents[0][1], "assignee", "→ %s" % agents[assignee - 1][1]))
        if st in ("resolved", "closed"):
            events.append((tid, updated, agents[(assignee or 1) - 1][1] if st == "resolved" else "system", "status",
                           "open → resolved" if st == "resolved" else
                           "resolved → closed after %d days without activity" % AUTO_CLOSE_DAYS))
    db.executemany("insert into ticket_participants (ticket_id, customer_id, role) values (?, ?, ?)", parts)
    db.executemany("insert into ticket_tags (ticket_id, tag) values (?, ?)", tags)
    db.executemany("insert into ticket_events (ticket_id, at, actor, kind, detail) values (?, ?, ?, ?, ?)", events)
    db.execute("commit")
    step("tickets+participants+tags+events", t0)

    # --- messages, in time order (ids interleave across tickets as real traffic does) -----------------------
    t0 = time.monotonic()
    skeleton.sort()
    # The search index (FTS5 with options newer than Python's SQLite) is filled by `deskmail reindex`
    # afterwards; its triggers are dropped here and recreated there.
    db.execute("drop trigger if exists messages_fts_insert")
    db.execute("drop trigger if exists messages_fts_delete")
    thread_ids = {}   # ticket index -> list of message-ids so far
    greet = ["Hello", "Hi", "Dear support", "Good morning", "Hallo", "Hi there"]
    sign = ["Thanks", "Best regards", "Kind regards", "Cheers", "Thank you"]

    def rows():
        for mid, (at, i, j, kind) in enumerate(skeleton, start=1):
            t = tickets[i]
            number, subj, req, assignee = t[1], t[3], t[6], t[7]
            cust = customers[req - 1]
            prev = thread_ids.setdefault(i, [])
            if kind == "customer":
                fn = cust[2].split()[0]
                body = "%s,\n\n%s\n\n%s,\n%s" % (rng.choice(greet), text.sentence_block(rng.randint(15, 110)),
                                                  rng.choice(sign), fn)
                msgid = "%x.%d.%d@%s" % (at, number, j, cust[1].split("@", 1)[1])
                row = (mid, t[0], "customer", t[2], cust[0], None, cust[1], cust[2],
                       json.dumps([mb_addr[t[2]]]), "[]", subj if j == 0 else "Re: " + subj,
                       msgid, body, body)
            else:
                agent = agents[(assignee or (1 + i % len(agents))) - 1]
                words = text.sentence_block(rng.randint(10, 70) if kind == "agent" else rng.randint(5, 35))
                if kind == "agent":
                    visible = "Hello %s,\n\n%s" % (cust[2].split()[0], words)
                    body = visible + "\n\n-- \n%s\nSupport" % agent[2]
                    subject = "Re: [#%d] %s" % (number, subj)
                    to = json.dumps([cust[1]])
                    msgid = "dm.%d.%d.%x@%s" % (number, j, at, mb_addr[t[2]].split("@", 1)[1])
                else:
                    visible = body = words
                    subject, to, msgid = "", "[]", None
                row = (mid, t[0], kind, t[2], None, agent[0], agent[1], agent[2], to, "[]", subject,
                       msgid, visible, body)
            in_reply_to = prev[-1] if prev and row[11] else None
            refs = " ".join(prev[-5:]) if row[11] else ""
            if row[11]:
                prev.append(row[11])
            yield row + (in_reply_to, refs, at if kind == "customer" else None, at)

    sql = ("insert into messages (id, ticket_id, kind, mailbox_id, customer_id, author_id, from_addr, from_name, "
           "to_json, cc_json, subject, message_id, visible_text, body_text, in_reply_to, refs, sent_at, created_at) "
           "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    db.execute("begin")
    it = rows()
    while True:
        chunk = list(itertools.islice(it, 20000))
        if not chunk:
            break
        db.executemany(sql, chunk)
    db.execute("commit")
    step("messages", t0)
    sla_states = {}
    if a.sla_share > 0:
        t0 = time.monotonic()
        sla_states = seed_clocks(db, a.sla_share, random.Random(a.seed * 1_000_003 + 16), now, tickets, skeleton)
        step("sla clocks", t0)
    # --- checks and search words --------------------------------------------------------------------------------
    t0 = time.monotonic()
    got = dict(db.execute("select status, count from ticket_counts").fetchall())
    real = dict(db.execute("select status, count(*) from tickets group by status").fetchall())
    for s in set(got) | set(real):
        if got.get(s, 0) != real.get(s, 0):
            sys.exit("seed_web.py: ticket_counts %r != tickets by status %r" % (got, real))
    n_msgs = db.execute("select count(*) from messages").fetchone()[0]
    # Candidate search words across the vocabulary's frequency range; web.py keeps the medium-selective ones.
    words = [text.vocab[r] for r in (800, 1200, 1700, 2300, 3000, 4000, 5000, 6500) if r < len(text.vocab)]
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    step("checks", t0)
    secs = time.monotonic() - t_start
    out = {"tickets": n, "messages": n_msgs, "customers": a.customers, "agents": a.agents,
           "mailboxes": [m[1] for m in mailboxes], "status": real, "tags": len(tags), "participants": len(parts),
           "events": len(events), "sla": sla_states, "search_words": words, "seconds": round(secs, 1),
           "steps": timings}
    print("seeded %d tickets, %d messages in %.1f s (%s); status %s;%s candidate search words %s" % (
        n, n_msgs, secs, ", ".join(timings), json.dumps(real, sort_keys=True),
        " SLA clocks %s;" % json.dumps(sla_states, sort_keys=True) if sla_states else "", ", ".join(words)), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
