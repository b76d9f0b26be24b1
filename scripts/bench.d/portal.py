#!/usr/bin/env python3
"""portal.py - `scripts/bench portal`: the customer portal's ticket list and ticket page under load, on SQLite.

    portal.py --bin target/release/deskmail --work DIR [--tickets 100000] [--messages 500000] [--seed 1]
              [--duration 20] [--rate 200] [--connections 32] [--customer-tickets 20] [--pages 5]
              [--summary FILE]

1. Writes a config (SQLite in DIR, two mailboxes, a free loopback port), `deskmail migrate`, then
   seed_web.py fills the database directly (the data of `scripts/bench web`) and `deskmail reindex`
   builds the search index. Attachment rows (metadata only: the pages list them, only a download
   reads the blob) go to 5% of the customer mails.
2. The customer: the one whose number of tickets (requester or participant) is closest to
   --customer-tickets (ties: the lowest id), printed with the spread over all customers. When the
   seed gives nobody half that many, the chosen customer becomes a `cc` participant of random other
   tickets up to --customer-tickets, and the run says so. The ticket pages measured: --pages of the
   customer's tickets with a few (3-8) messages a customer sees, statuses mixed, each with an
   attachment.
3. A single-use sign-in token (43 characters like deskmail's, stored as the sha256 hex of it) goes
   straight into portal_login_tokens; `deskmail serve`; GET /portal/login/{token} must answer 303 to
   /portal/tickets with the `deskmail_portal` cookie. Sanity: the list shows the customer's tickets,
   each ticket page their messages.
4. Load with `hey` (web.py's runner: each run --duration seconds after a short warm-up, redirects not
   followed, so a lost session (303 to /portal) counts as an error and fails the run):
   * GET /portal/tickets at --rate req/s, target p99 <= 25 ms
   * GET /portal/tickets/{n} over the --pages tickets (one hey per ticket, the rate split between
     them) at --rate req/s in all, target p99 <= 25 ms
   * the highest throughput with --connections connections, unthrottled, the list and one ticket page
   and the server's peak RSS (reported, no target).
Prints a table and summary lines (also to --summary). A missed target is printed as BELOW TARGET;
the exit status is 1 only when something failed (errors in the answers, deskmail died, no hey).
SQLite only; PostgreSQL is not covered. Standard library only (plus the `hey` binary).
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
import web as wb  # noqa: E402  (the load runner, hey's CSV, the result rows)
from benchlib import p  # noqa: E402

LIST_P99_MS = 25.0
TICKET_P99_MS = 25.0
MAILBOXES = wb.MAILBOXES
COOKIE = "deskmail_portal"
TOKEN_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"   # platform::password::random_string
LIST_LIMIT = 200            # src/web/portal/view.rs LIST_LIMIT
ATTACH_SHARE = 0.05         # of the customer mails get an attachment row
VISIBLE = ("customer", "agent")


def seed_db(a, config, dbfile, result):
    """migrate + seed_web.py + reindex, timed like web.py; returns seed_web's JSON."""
    seed = bl.seed_sqlite(a.bin, config, dbfile, a.tickets, a.messages, a.seed, MAILBOXES)
    result("portal: seeded %d tickets + %d messages in %.1f s (migrate %.1f s; database %.0f MB)" % (
        seed["tickets"], seed["messages"], seed["t_seed"] + seed["t_reindex"], seed["t_migrate"], seed["db_mb"]))
    return seed


def add_attachments(db, rng):
    """Attachment rows for ATTACH_SHARE of the customer mails (no blobs: the pages only list them)."""
    rows = []
    for mid, at in db.execute("select id, created_at from messages where kind = 'customer' order by id"):
        if rng.random() < ATTACH_SHARE:
            rows.append(attachment_row(rng, mid, at))
    db.execute("begin")
    db.executemany("insert into attachments (message_id, filename, content_type, size, sha256, content_id, inline, "
                   "created_at) values (?, ?, ?, ?, ?, null, 0, ?)", rows)
    db.execute("commit")
    return len(rows)


def attachment_row(rng, mid, at):
    kind = rng.choice((("photo-%d.jpg", "image/jpeg"), ("invoice-%d.pdf", "application/pdf"),
                       ("screenshot-%d.png", "image/png"), ("log-%d.txt", "text/plain")))
    return (mid, kind[0] % mid, kind[1], rng.randint(8_000, 3_000_000), "%064x" % rng.getrandbits(256), at)


def spread(counts):
    s = sorted(counts)
    return "median %d, p90 %d, p99 %d, max %d" % (bl.pct(s, 50), bl.pct(s, 90), bl.pct(s, 99), s[-1])


def pick_customer(db, want, rng):
    """(customer id, email, tickets, extra rows added, spread text)."""
    per = db.execute("select p.customer_id, count(*) from ticket_participants p group by p.customer_id").fetchall()
    if not per:
        raise RuntimeError("the seed wrote no ticket participants")
    text = "%d customers with tickets: %s tickets each" % (len(per), spread([n for _, n in per]))
    cid, n = min(per, key=lambda r: (abs(r[1] - want), r[0]))
    extra = 0
    if n < max(1, want // 2):
        # nobody has that many: make the chosen customer a cc of random tickets of others
        mine = {r[0] for r in db.execute("select ticket_id from ticket_participants where customer_id = ?", (cid,))}
        ids = [r[0] for r in db.execute("select id from tickets")]
        add = [t for t in rng.sample(ids, min(len(ids), 4 * want)) if t not in mine][:want - n]
        db.execute("begin")
        db.executemany("insert into ticket_participants (ticket_id, customer_id, role) values (?, ?, 'cc')",
                       [(t, cid) for t in add])
        db.execute("commit")
        extra, n = len(add), n + len(add)
    email = db.execute("select email from customers where id = ?", (cid,)).fetchone()[0]
    return cid, email, n, extra, text


def customer_tickets(db, cid):
    """The customer's tickets as the list shows them (newest activity first), with the message and
    attachment counts a customer sees: [(number, id, status, visible messages, attachments, role)]."""
    return db.execute(
        "select t.number, t.id, t.status, "
        " (select count(*) from messages m where m.ticket_id = t.id and m.kind in ('customer', 'agent')), "
        " (select count(*) from attachments a join messages m on m.id = a.message_id "
        "   where m.ticket_id = t.id and m.kind in ('customer', 'agent')), p.role "
        "from ticket_participants p join tickets t on t.id = p.ticket_id where p.customer_id = ? "
        "order by t.updated_at desc, t.id desc", (cid,)).fetchall()


def pick_pages(db, rng, mine, k):
    """k of the customer's tickets with 3-8 visible messages (else the closest), statuses mixed; each
    gets an attachment on its first customer mail when it has none. Returns their rows."""
    def key(r):
        return (0 if 3 <= r[3] <= 8 else min(abs(r[3] - 3), abs(r[3] - 8)), r[1])
    ranked = sorted(mine, key=key)
    chosen, statuses = [], set()
    for r in ranked:   # first one per status, then fill up
        if len(chosen) < k and r[2] not in statuses and key(r)[0] == 0:
            chosen.append(r)
            statuses.add(r[2])
    for r in ranked:
        if len(chosen) < k and r not in chosen:
            chosen.append(r)
    db.execute("begin")
    for r in chosen:
        if r[4] == 0:
            m = db.execute("select id, created_at from messages where ticket_id = ? and kind = 'customer' "
                           "order by id limit 1", (r[1],)).fetchone()
            if m:
                db.execute("insert into attachments (message_id, filename, content_type, size, sha256, content_id, "
                           "inline, created_at) values (?, ?, ?, ?, ?, null, 0, ?)", attachment_row(rng, *m))
    db.execute("commit")
    return customer_tickets_by_number(db, {r[0] for r in chosen})


def customer_tickets_by_number(db, nums):
    out = []
    for n in sorted(nums):
        out.append(db.execute(
            "select t.number, t.id, t.status, "
            " (select count(*) from messages m where m.ticket_id = t.id and m.kind in ('customer', 'agent')), "
            " (select count(*) from attachments a join messages m on m.id = a.message_id "
            "   where m.ticket_id = t.id and m.kind in ('customer', 'agent')) "
            "from tickets t where t.number = ?", (n,)).fetchone())
    return out


def sign_in_token(db, email):
    """A single-use sign-in link's token, stored like deskmail stores it (sha256 hex of the trimmed token)."""
    token = "".join(secrets.choice(TOKEN_CHARS) for _ in range(43))
    now = int(time.time())
    db.execute("insert into portal_login_tokens (token_hash, email, created_at, expires_at) values (?, ?, ?, ?)",
               (hashlib.sha256(token.strip().encode()).hexdigest(), email, now, now + 1800))
    return token


def follow_link(port, token):
    """GET /portal/login/{token}: must answer 303 to /portal/tickets with the portal cookie; returns it."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/portal/login/" + token, headers={"Accept": "text/html"})
    r = c.getresponse()
    r.read()
    cookie = None
    for k, v in r.getheaders():
        if k.lower() == "set-cookie" and v.startswith(COOKIE + "="):
            cookie = v.split(";", 1)[0].split("=", 1)[1]
    location = r.getheader("Location", "")
    c.close()
    if r.status != 303 or location != "/portal/tickets" or not cookie:
        raise RuntimeError("GET /portal/login/{token} answered %d (Location %r) %s the %s cookie" % (
            r.status, location, "with" if cookie else "without", COOKIE))
    return cookie


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--customer-tickets", type=int, default=20)
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--summary")
    a = ap.parse_args()
    hey = shutil.which("hey")
    if not hey:
        sys.exit("hey not found (apt-get install hey)")
    summary = []
    failed = []

    def result(line):
        summary.append(line)
        p(line)

    work = a.work
    os.makedirs(os.path.join(work, "storage"), exist_ok=True)
    port = bl.free_port()
    config = os.path.join(work, "deskmail.toml")
    dbfile = os.path.join(work, "deskmail.db")
    bl.write_config(config, {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
        "database": {"url": "sqlite://%s" % dbfile},
        "storage": {"dir": os.path.join(work, "storage")},
        "security": {"secret": secrets.token_hex(32)},
    }, [{"name": n, "address": ad} for n, ad in MAILBOXES])

    # 1. schema + seed (+ attachments)
    seed_db(a, config, dbfile, result)
    rng = random.Random(a.seed * 7919 + 11)
    db = sqlite3.connect(dbfile, isolation_level=None)
    db.execute("pragma busy_timeout = 10000")
    n_att = add_attachments(db, rng)

    # 2. the customer and their tickets
    cid, email, n_mine, extra, dist = pick_customer(db, a.customer_tickets, rng)
    mine = customer_tickets(db, cid)
    pages = pick_pages(db, rng, mine, a.pages)
    if not pages:
        raise SystemExit("customer %s has no tickets" % email)
    shown = min(len(mine), LIST_LIMIT)
    roles = {}
    for r in mine:
        roles[r[5]] = roles.get(r[5], 0) + 1
    result("portal: customer %s (id %d) has %d tickets (%s; the list shows %d); %s" % (
        email, cid, n_mine, ", ".join("%d as %s" % (v, k) for k, v in sorted(roles.items())), shown, dist))
    if extra:
        result("portal: NOTE the seed gives no customer %d+ tickets: %d extra cc participant rows were added for"
               " this customer" % (a.customer_tickets // 2, extra))
    result("portal: ticket pages: %s; %d attachment rows in the database (no blobs)" % (
        ", ".join("#%d (%s, %d messages, %d attachments)" % (r[0], r[2], r[3], r[4]) for r in pages), n_att))
    token = sign_in_token(db, email)
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()

    # 3. server, sign-in, sanity
    server = bl.Server(a.bin, config, os.path.join(work, "serve.log"))
    rss = None
    try:
        t_up = bl.wait_http(bl.Api(port), server)
        p("deskmail serve up in %.2f s on port %d; RSS %.1f MB" % (t_up, port, wb.vm(server.pid, "VmRSS")))
        rss = wb.RssSampler(server.pid)
        rss.start()
        cookie = follow_link(port, token)
        p("followed the sign-in link: 303 to /portal/tickets with the %s cookie" % COOKIE)
        base = "http://127.0.0.1:%d" % port
        hdr = ["Cookie: %s=%s" % (COOKIE, cookie), "Accept: text/html"]
        st, body = wb.get(port, "/portal/tickets", hdr)
        links = set(re.findall(rb'href="/portal/tickets/(\d+)"', body))
        if st != 200 or len(links) != shown:
            raise RuntimeError("GET /portal/tickets answered %d (%d bytes) with %d ticket links, not the %d tickets "
                               "of %s" % (st, len(body), len(links), shown, email))
        p("page /portal/tickets: %d bytes, %d tickets" % (len(body), len(links)))
        sizes = []
        for r in pages:
            st, body = wb.get(port, "/portal/tickets/%d" % r[0], hdr)
            msgs = len(re.findall(rb'<li class="msg ', body))
            if st != 200 or msgs != r[3]:
                raise RuntimeError("GET /portal/tickets/%d answered %d (%d bytes) with %d messages, not %d" % (
                    r[0], st, len(body), msgs, r[3]))
            sizes.append(len(body))
        p("ticket pages: %s bytes" % ", ".join(str(s) for s in sizes))
        list_url = base + "/portal/tickets"
        page_urls = [base + "/portal/tickets/%d" % r[0] for r in pages]

        # 4. load
        p("warm-up: %d s of the list and the ticket pages at low rate" % wb.WARMUP_S)
        wb.warmup(hey, [list_url] + page_urls, hdr, wb.WARMUP_S)
        results = []
        d = a.duration
        # fixed rate as in web.py: C workers at Q/s each, C*Q = rate, at most 100/s per worker
        c_list = max(1, a.rate // 100)
        q_list = a.rate / c_list
        p("run: GET /portal/tickets at %d/s for %d s (hey -c %d -q %g)" % (a.rate, d, c_list, q_list))
        results.append(wb.run_load("portal list /portal/tickets", hey, server, [list_url], hdr, d, c_list, q_list,
                                   a.rate, LIST_P99_MS))
        per_page = a.rate / len(page_urls)
        c_page = max(1, int(per_page // 100))
        q_page = per_page / c_page
        p("run: GET /portal/tickets/{n} at %d/s over %d tickets for %d s (per ticket hey -c %d -q %g)" % (
            a.rate, len(page_urls), d, c_page, q_page))
        results.append(wb.run_load("portal ticket /portal/tickets/N", hey, server, page_urls, hdr, d, c_page, q_page,
                                   a.rate, TICKET_P99_MS))
        p("run: highest throughput, %d connections, unthrottled, %d s each" % (a.connections, d))
        results.append(wb.run_load("max portal list", hey, server, [list_url], hdr, d, a.connections, None, 0, None))
        results[-1].conns = a.connections
        # unthrottled runs take one URL (web.run_load spreads several over a rate): the middle ticket
        results.append(wb.run_load("max portal ticket #%d" % pages[len(pages) // 2][0], hey, server,
                                   [page_urls[len(pages) // 2]], hdr, d, a.connections, None, 0, None))
        results[-1].conns = a.connections
        time.sleep(1)
        rss_after = wb.vm(server.pid, "VmRSS")
        hwm = wb.vm(server.pid, "VmHWM")
        rss.stop()
        if not server.alive():
            raise RuntimeError("deskmail serve died:\n%s" % server.tail())

        # 5. report
        wb.print_table(results)
        p("")
        for r in results:
            if r.errors:
                redirects = sum(v for k, v in r.statuses.items() if 300 <= k < 400)
                failed.append("%s: %d of %d answers were not 200 (%s)%s" % (
                    r.name, r.errors, r.n, json.dumps(r.statuses),
                    " - redirects: the portal cookie was not accepted" if redirects else ""))
            if r.p99_target is not None:
                result("%s @%d/s: %.1f/s achieved, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms "
                       "(target p99 <= %.0f ms), %.2f ms deskmail CPU/req%s" % (
                           r.name, r.target_rate, r.rate, r.p50, r.p90, r.p99, r.max, r.p99_target, r.cpu_ms,
                           "".join("  " + v for v in r.verdicts())))
            else:
                result("%s: %.0f req/s with %d connections (p50 %.1f ms, p99 %.1f ms, %.2f ms CPU/req)" % (
                    r.name, r.rate, r.conns, r.p50, r.p99, r.cpu_ms))
        result("portal: deskmail RSS peak %.1f MB (VmHWM; no target), %.1f MB after the runs" % (
            max(hwm, rss.peak), rss_after))
    except RuntimeError as e:
        failed.append(str(e))
    finally:
        wb.stop_server(server, rss)
    for f in failed:
        result("portal: FAILED: %s" % f)
    if a.summary:
        with open(a.summary, "w") as f:
            f.write("\n".join(summary) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
