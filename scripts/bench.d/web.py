#!/usr/bin/env python3
"""web.py - `scripts/bench web`: the dashboard's ticket list and the list API under load, on SQLite.

    web.py --bin target/release/deskmail --work DIR [--tickets 100000] [--messages 500000] [--seed 1]
           [--duration 20] [--rate 500] [--search-rate 50] [--connections 32] [--teams 0] [--sla-share 0.7]
           [--summary FILE]

1. Writes a config (SQLite in DIR, two mailboxes, a free loopback port), `deskmail migrate`, then
   seed_web.py fills the database directly (tickets, messages, customers, agents, tags, events; the
   seeding time is printed).
2. `deskmail user add --role admin --password-stdin` and `deskmail token create`; starts
   `deskmail serve`; signs in (POST /login with the form fields and a same-origin Origin header)
   and keeps the `deskmail_session` cookie.
   With --teams N (N >= 1, "teams on"): three mailboxes (support, billing, shipping; 80/10/10 % of
   the tickets), N teams put through the admin API (PUT /api/v1/teams/NAME; see team_layout), and
   the measured user is an agent (--role agent, own API token and session) in some of the teams:
   shipping belongs only to a team without them, so they see support and billing. Admins see every
   mailbox, so measuring as the admin would not exercise the feature. Checked before the load: the
   agent's GET /api/v1/tickets total is below the admin's and equals the tickets of the agent's
   mailboxes counted in the seeded database, and their first page holds no hidden ticket. The search
   words are chosen with the admin's token, so both modes search for the same words.
3. Load with `hey` (each run --duration seconds after a short warm-up, redirects not followed, so a
   lost session counts as an error; per-request times from hey's CSV output):
   * GET /tickets (the default view: new+open+pending, newest activity first) at --rate req/s,
     target p99 <= 50 ms
   * GET /api/v1/tickets (bearer token) at --rate req/s, target p99 <= 25 ms
   * the same two sorted by SLA due time (issue 16): GET /tickets?sort=due at --rate req/s, target p99
     <= 50 ms, and GET /api/v1/tickets?sort=due, target p99 <= 25 ms. seed_web.py gives --sla-share (0.7)
     of the new/open/pending tickets a clock (policy `standard`; ok/warning/breached/paused, due from 2 days
     ago to 5 days ahead, copied into tickets.sla_state/sla_due). Checked before the load: the page answers
     with the list, and the API's first page is in due order (its first ticket's sla.due_at <= its last's,
     every due_at set and none before the previous one); the run fails otherwise
   * full-text search at --search-rate req/s: GET /tickets?status=all&q=WORD and
     GET /api/v1/tickets?q=WORD, WORD varying over medium-selective words (one hey per word, the
     rate split between them), target p99 <= 100 ms
   * the highest throughput with --connections connections, unthrottled, for the page and the API
   A fixed-rate run that reaches less than 95% of its rate says so (hey's workers wait for the
   previous answer: an overloaded server gets fewer requests, and the latencies then flatter it).
4. Samples the server's RSS every 0.25 s; the peak (VmHWM) must stay <= 150 MB.
Prints a table and summary lines (also to --summary). A missed target is printed as BELOW TARGET;
the exit status is 1 only when something failed (errors in the answers, deskmail died, no hey).
Standard library only (plus the `hey` binary).
"""

import argparse
import csv
import datetime
import http.client
import io
import json
import os
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
from benchlib import p  # noqa: E402

PAGE_P99_MS = 50.0
API_P99_MS = 25.0
SEARCH_P99_MS = 100.0
RSS_MB = 150.0
MAILBOXES = [("support", "support@example.test"), ("billing", "billing@example.test")]
MAILBOXES_TEAMS = MAILBOXES + [("shipping", "shipping@example.test")]   # --teams N
ADMIN = "bench-admin@example.test"
AGENT = "bench-agent@example.test"   # the measured user with --teams N
HIDDEN = "shipping"                  # ... who does not see this mailbox (see team_layout)
RATE_OK = 0.95            # a fixed-rate run must reach this share of its rate
WARMUP_S = 4


def vm(pid, key):
    """A /proc/PID/status value in MB (VmRSS, VmHWM), 0.0 when gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return 0.0


class RssSampler(threading.Thread):
    def __init__(self, pid, every=0.25):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0.0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, vm(self.pid, "VmRSS"))
            self.stop_ev.wait(self.every)

    def stop(self):
        self.stop_ev.set()
        self.join()


def hey_run(hey, url, headers, duration, conns, qps=None, csv_out=True):
    """Starts one hey; returns the Popen (stdout: CSV)."""
    cmd = [hey, "-z", "%ds" % duration, "-c", str(conns), "-disable-redirects", "-t", "20"]
    if qps:
        cmd += ["-q", "%g" % qps]
    for h in headers:
        cmd += ["-H", h]
    if csv_out:
        cmd += ["-o", "csv"]
    cmd.append(url)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def parse_csv(text):
    """hey -o csv: response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset."""
    out = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0][:1].isdigit():
            continue
        try:
            out.append((float(row[0]) * 1000.0, int(row[6]), float(row[7])))
        except (ValueError, IndexError):
            continue
    return out


class Result:
    def __init__(self, name, samples, duration, target_rate, p99_target, cpu_s, cores, by_url=None):
        self.name = name
        # URL -> (p50, p99) of its answered requests, when the run spread its rate over several URLs (search words)
        self.by_url = {u: (bl.pct(v, 50), bl.pct(v, 99)) for u, v in (by_url or {}).items() if v}
        self.n = len(samples)
        lat = [s[0] for s in samples if s[1] == 200]
        self.errors = sum(1 for s in samples if s[1] != 200)
        self.statuses = {}
        for s in samples:
            self.statuses[s[1]] = self.statuses.get(s[1], 0) + 1
        self.rate = self.n / duration if duration else 0.0
        self.target_rate = target_rate
        self.p99_target = p99_target
        self.p50 = bl.pct(lat, 50) if lat else float("nan")
        self.p90 = bl.pct(lat, 90) if lat else float("nan")
        self.p99 = bl.pct(lat, 99) if lat else float("nan")
        self.max = max(lat) if lat else float("nan")
        self.cpu_ms = 1000.0 * cpu_s / self.n if self.n else float("nan")
        self.cores = cores   # (deskmail, hey, everything else) in cores busy over the run

    def verdicts(self):
        v = []
        if self.target_rate and self.rate < RATE_OK * self.target_rate:
            v.append("RATE NOT REACHED (%.0f of %d/s)" % (self.rate, self.target_rate))
        if self.p99_target is not None and not (self.p99 <= self.p99_target):
            v.append("BELOW TARGET (p99 %.1f ms > %.0f ms)" % (self.p99, self.p99_target))
        return v

    def row(self):
        tgt = ("p99<=%.0fms" % self.p99_target) if self.p99_target is not None else "max"
        rate = ("%d/s" % self.target_rate) if self.target_rate else "-c"
        return "%-34s %-11s %-6s %8.1f/s %7d %5d %7.1f %7.1f %7.1f %7.1f %7.2f  %4.2f/%4.2f/%4.2f  %s" % (
            self.name, tgt, rate, self.rate, self.n, self.errors, self.p50, self.p90, self.p99, self.max,
            self.cpu_ms, *self.cores, "; ".join(self.verdicts()) or ("ok" if self.p99_target is not None else ""))


HEADER = "%-34s %-11s %-6s %10s %7s %5s %7s %7s %7s %7s %7s  %-14s  %s" % (
    "run", "target", "rate", "achieved", "reqs", "err", "p50ms", "p90ms", "p99ms", "maxms", "cpu/req", "dm/hey/other", "verdict")


def run_load(name, hey, server, urls, headers, duration, conns, qps, target_rate, p99_target):
    """One measured run: one hey per URL in parallel (conns/qps each); returns a Result."""
    cpu0 = server.cpu()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = bl.proc_stat()
    t0 = time.monotonic()
    # hey's workers tick in step: C workers at Q/s send bursts of C requests. Starting the processes
    # (one per URL) spread over one tick, and using few workers, keeps arrivals close to even.
    procs = []
    for i, u in enumerate(urls):
        if i:
            time.sleep(1.0 / (qps * len(urls)))
        procs.append(hey_run(hey, u, headers, duration, conns, qps))
    samples, by_url = [], {}
    for u, pr in zip(urls, procs):
        out, err = pr.communicate()
        if pr.returncode != 0:
            raise RuntimeError("hey exited with %d: %s" % (pr.returncode, err.strip()[-500:]))
        mine = parse_csv(out)
        samples += mine
        by_url[u] = [s[0] for s in mine if s[1] == 200]
    wall = time.monotonic() - t0
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_s = (bl.proc_stat()[0] - busy0[0]) / bl.CLK_TCK
    dm_s = server.cpu() - cpu0
    hey_s = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
    cores = (dm_s / wall, hey_s / wall, max(0.0, busy_s - dm_s - hey_s) / wall)
    r = Result(name, samples, float(duration), target_rate, p99_target, dm_s, cores,
               by_url if len(urls) > 1 else None)
    if r.errors:
        p("  %s: answers by status %s (hey wall %.1f s)" % (name, json.dumps(r.statuses), wall))
    return r


def print_table(results, note=""):
    """The runs' rows under HEADER, and what the columns mean."""
    p("")
    p(HEADER)
    for r in results:
        p(r.row())
    p("(cpu/req: deskmail CPU ms per request; dm/hey/other: cores busy with deskmail, hey and everything else"
      " on the machine (%d cores) during the run%s)" % (os.cpu_count() or 0, note))


def stop_server(server, rss):
    """Stops the RSS sampler (if running) and the server; prints the log's tail when it did not exit cleanly."""
    if rss is not None and rss.is_alive():
        rss.stop()
    code, _secs = server.stop()
    if code not in (0, None):
        p("deskmail serve exited with %s; log tail:\n%s" % (code, server.tail()))


def warmup(hey, urls, headers, seconds, conns=4, qps=25):
    procs = [hey_run(hey, u, headers, seconds, conns, qps, csv_out=False) for u in urls]
    for pr in procs:
        pr.communicate()


def login(port, email, password):
    """POST /login like a browser; returns the deskmail_session cookie value."""
    origin = "http://127.0.0.1:%d" % port
    body = urllib.parse.urlencode({"email": email, "password": password, "next": "/tickets"})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/login", body=body, headers={
        "Origin": origin, "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    cookie = None
    for k, v in r.getheaders():
        if k.lower() == "set-cookie" and v.startswith("deskmail_session="):
            cookie = v.split(";", 1)[0].split("=", 1)[1]
    c.close()
    if r.status not in (302, 303) or not cookie:
        raise RuntimeError("login answered %d without a session cookie" % r.status)
    return cookie


def team_layout(n, staff):
    """--teams N: [(name, members, mailboxes)]. team-1 holds shipping without the bench agent (so shipping is
    hidden from them), team-2 support+billing and team-3 billing with the agent; teams 4.. one mailbox each,
    seeded agents only. The agent sees support and billing whatever N is (with N = 1 through no team of theirs)."""
    out = []
    for i in range(1, n + 1):
        if i == 1:
            members, boxes = staff[2:4], [HIDDEN]
        elif i == 2:
            members, boxes = [AGENT] + staff[:1], ["support", "billing"]
        elif i == 3:
            members, boxes = [AGENT] + staff[1:2], ["billing"]
        else:
            members, boxes = [staff[i % len(staff)]], [MAILBOXES_TEAMS[i % 3][0]]
        out.append(("team-%d" % i, members, boxes))
    return out


def db_counts(dbfile, mailboxes):
    """(all, active) tickets of these mailboxes (by name), counted in the seeded database."""
    db = sqlite3.connect("file:%s?mode=ro" % dbfile, uri=True)
    try:
        marks = ", ".join("?" * len(mailboxes))
        return db.execute("select count(*), coalesce(sum(t.status in ('new', 'open', 'pending')), 0) from tickets t "
                          "join mailboxes b on b.id = t.mailbox_id where b.name in (%s)" % marks,
                          mailboxes).fetchone()
    finally:
        db.close()


def staff_emails(dbfile):
    """The seeded agents' e-mails (they cannot sign in; team members only)."""
    db = sqlite3.connect("file:%s?mode=ro" % dbfile, uri=True)
    try:
        return [r[0] for r in db.execute("select email from users where role = 'agent' and password_hash = '!' "
                                         "order by id")]
    finally:
        db.close()


def due_times(tickets):
    """Each ticket's sla.due_at as Unix seconds (None when it has no clock or no running target)."""
    out = []
    for t in tickets:
        v = (t.get("sla") or {}).get("due_at")
        out.append(datetime.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() if v else None)
    return out


def bl_time(ts):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts)) if ts is not None else "none"


def search_words(port, headers, seed, k, fixed=None, capped=None):
    """Up to k medium-selective words among seed_web's candidates: each found in 0.3-5 % of the tickets (as the
    API's total counts them with these headers) or more than a search reads (`total_capped`: the total is the
    tickets of the newest matches only), spread over that range; [(word, tickets)]. `fixed`: these words, as
    chosen for a smaller database of the same seed (a larger one caps them all). `capped` (a dict), when given,
    gets each word looked at: whether its search was capped."""
    words = []
    for w in fixed or seed["search_words"]:
        st, body = get(port, "/api/v1/tickets?per_page=1&q=" + w, headers)
        j = json.loads(body) if st == 200 else {}
        n = j.get("total", 0)
        if capped is not None:
            capped[w] = bool(j.get("total_capped"))
        if fixed or j.get("total_capped") or 0.003 * seed["tickets"] <= n <= 0.05 * seed["tickets"]:
            words.append((w, n))
    if len(words) > k:   # spread over the selectivity range
        step = (len(words) - 1) / (k - 1) if k > 1 else 0
        words = [words[round(i * step)] for i in range(k)]
    if not words:
        raise RuntimeError("no medium-selective search words among %s" % seed["search_words"])
    return words


def get(port, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers=dict(h.split(": ", 1) for h in headers))
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--search-rate", type=int, default=50)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--words", type=int, default=5)
    ap.add_argument("--teams", type=int, default=0)
    ap.add_argument("--sla-share", type=float, default=0.7)
    ap.add_argument("--summary")
    a = ap.parse_args()
    hey = shutil.which("hey")
    if not hey:
        sys.exit("hey not found (apt-get install hey)")
    summary = []
    failed = []
    mailboxes = MAILBOXES_TEAMS if a.teams > 0 else MAILBOXES

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
    }, [{"name": n, "address": ad} for n, ad in mailboxes])

    # 1. schema + seed
    seed = bl.seed_sqlite(a.bin, config, dbfile, a.tickets, a.messages, a.seed, mailboxes, a.sla_share)
    result("web: seeded %d tickets + %d messages in %.1f s (migrate %.1f s; database %.0f MB; status %s; SLA clocks %s)" % (
        seed["tickets"], seed["messages"], seed["t_seed"] + seed["t_reindex"], seed["t_migrate"], seed["db_mb"],
        json.dumps(seed["status"], sort_keys=True), json.dumps(seed.get("sla", {}), sort_keys=True)))

    # 2. admin (with --teams also the measured agent), tokens, server, teams, login
    def add_user(email, name, role):
        return bl.user_with_token(a.bin, config, email, name, role)

    password, token = add_user(ADMIN, "Bench Admin", "admin")
    user, user_password, user_token = ADMIN, password, token   # the measured user
    if a.teams > 0:
        user = AGENT
        user_password, user_token = add_user(AGENT, "Bench Agent", "agent")
        seen = [m for m, _ in MAILBOXES_TEAMS if m != HIDDEN]
        want_all, want_active = db_counts(dbfile, seen)
        layout = team_layout(a.teams, staff_emails(dbfile))
    server = bl.Server(a.bin, config, os.path.join(work, "serve.log"))
    rss = None
    try:
        api = bl.Api(port, token)
        t_up = bl.wait_http(api, server)
        p("deskmail serve up in %.2f s on port %d; RSS %.1f MB" % (t_up, port, vm(server.pid, "VmRSS")))
        rss = RssSampler(server.pid)
        rss.start()
        if a.teams > 0:   # through the admin API, as an admin would
            for name, members, boxes in layout:
                st, j = api.request("PUT", "/api/v1/teams/" + name, {"members": members, "mailboxes": boxes})
                if st != 200:
                    raise RuntimeError("PUT /api/v1/teams/%s answered %d: %s" % (name, st, str(j)[:300]))
            st, j = api.get("/api/v1/teams")
            if st != 200 or len(j.get("teams", [])) != a.teams:
                raise RuntimeError("GET /api/v1/teams answered %d: %s" % (st, str(j)[:300]))
            p("teams: %s" % "; ".join("%s: %s (%s)" % (n, "+".join(b), ", ".join(m)) for n, m, b in layout))
        cookie = login(port, user, user_password)
        base = "http://127.0.0.1:%d" % port
        page_h = ["Cookie: deskmail_session=%s" % cookie, "Accept: text/html"]
        api_h = ["Authorization: Bearer %s" % user_token, "Accept: application/json"]
        admin_h = ["Authorization: Bearer %s" % token, "Accept: application/json"]
        # sanity: the page is the list (not the login form), the API answers with tickets
        st, body = get(port, "/tickets", page_h)
        if st != 200 or b"/tickets/" not in body:
            raise RuntimeError("GET /tickets with the session answered %d (%d bytes), not the list" % (st, len(body)))
        st, body = get(port, "/api/v1/tickets", admin_h)
        j = json.loads(body) if st == 200 else {}
        if st != 200 or len(j.get("tickets", [])) != 50 or j.get("total") != seed["tickets"]:
            raise RuntimeError("GET /api/v1/tickets answered %d: %s" % (st, body[:300]))
        active = sum(seed["status"].get(s, 0) for s in ("new", "open", "pending"))
        if a.teams > 0:
            # the agent's lists: fewer tickets than the admin's, exactly those of the agent's mailboxes
            st, body = get(port, "/api/v1/tickets", api_h)
            j = json.loads(body) if st == 200 else {}
            if st != 200 or len(j.get("tickets", [])) != 50:
                raise RuntimeError("GET /api/v1/tickets as %s answered %d: %s" % (AGENT, st, body[:300]))
            total = j.get("total")
            if not (total == want_all and want_all < seed["tickets"]):
                raise RuntimeError("teams on: %s's GET /api/v1/tickets totals %s, not the %d tickets of %s in the "
                                   "database (the admin's: %d)" % (AGENT, total, want_all, "+".join(seen),
                                                                   seed["tickets"]))
            stray = sorted({t["mailbox"] for t in j["tickets"]} - set(seen))
            if stray:
                raise RuntimeError("teams on: %s's first page holds tickets of %s" % (AGENT, ", ".join(stray)))
            st, b2 = get(port, "/api/v1/tickets?per_page=1&status=new,open,pending", api_h)
            n_active = json.loads(b2).get("total") if st == 200 else None
            if n_active != want_active:
                raise RuntimeError("teams on: %s's active tickets total %s, not the %d in the database" % (
                    AGENT, n_active, want_active))
            result("web: teams on: %d teams; %s (agent) sees %d of %d mailboxes (%s); default list GET /api/v1/tickets "
                   "totals %d tickets vs the admin's %d; active (the page's default view) %d vs %d" % (
                       a.teams, AGENT, len(seen), len(mailboxes), ", ".join(seen), total, seed["tickets"],
                       want_active, active))
            active = want_active
        p("page /tickets: %d bytes, %d active tickets; API: %d bytes per page of 50" % (
            len(get(port, "/tickets", page_h)[1]), active, len(body)))
        # sort=due: the page is the list; the API's first page is in due order
        st, body = get(port, "/tickets?sort=due", page_h)
        if st != 200 or b"/tickets/" not in body:
            raise RuntimeError("GET /tickets?sort=due answered %d (%d bytes), not the list" % (st, len(body)))
        st, body = get(port, "/api/v1/tickets?sort=due", api_h)
        j = json.loads(body) if st == 200 else {}
        if st != 200 or not j.get("tickets"):
            raise RuntimeError("GET /api/v1/tickets?sort=due answered %d: %s" % (st, body[:300]))
        dues = due_times(j["tickets"])
        back = [k for k in range(1, len(dues)) if dues[k] is None or dues[k] < dues[k - 1]]
        if a.sla_share <= 0:
            result("web: sort=due: no clocks seeded (--sla-share 0): the due order is not checked")
        elif not (dues[0] is not None and dues[-1] is not None and dues[0] <= dues[-1]):
            raise RuntimeError("GET /api/v1/tickets?sort=due: the first page is not in due order (first ticket's "
                               "sla.due_at %s, last's %s)" % (bl_time(dues[0]), bl_time(dues[-1])))
        elif back:
            raise RuntimeError("GET /api/v1/tickets?sort=due: ticket %d of the first page is due %s, before or without "
                               "the previous one's %s" % (back[0] + 1, bl_time(dues[back[0]]),
                                                          bl_time(dues[back[0] - 1])))
        else:
            result("web: sort=due: the API's first page of %d is in due order, from %s to %s" % (
                len(dues), bl_time(dues[0]), bl_time(dues[-1])))
        # teams on or off: the same words, as the admin counts them
        words = search_words(port, admin_h, seed, a.words)
        if a.teams > 0:
            mine = []
            for w, n in words:
                st, body = get(port, "/api/v1/tickets?per_page=1&q=" + w, api_h)
                m = json.loads(body).get("total") if st == 200 else None
                if m is None or m > n:
                    raise RuntimeError("teams on: %s's search for %s totals %s, the admin's %d" % (AGENT, w, m, n))
                mine.append(m)
            p("search words: %s" % ", ".join("%s (%d tickets, %d for %s)" % (w, n, m, AGENT)
                                             for (w, n), m in zip(words, mine)))
        else:
            p("search words: %s" % ", ".join("%s (%d tickets)" % w for w in words))
        words = [w for w, _ in words]
        page_url = base + "/tickets"
        api_url = base + "/api/v1/tickets"
        page_due_url = base + "/tickets?sort=due"
        api_due_url = base + "/api/v1/tickets?sort=due"
        page_search = [base + "/tickets?status=all&q=" + w for w in words]
        api_search = [base + "/api/v1/tickets?q=" + w for w in words]
        for u in page_search:
            st, body = get(port, u[len(base):], page_h)
            if st != 200:
                raise RuntimeError("%s answered %d" % (u, st))

        # 3. load
        p("warm-up: %d s of the page, the API and the searches at low rate" % WARMUP_S)
        warmup(hey, [page_url, page_due_url] + page_search[:2], page_h, WARMUP_S)
        warmup(hey, [api_url, api_due_url] + api_search[:2], api_h, WARMUP_S)
        results = []
        d = a.duration
        # fixed rate: hey -c C -q Q gives C*Q req/s. Its workers tick in step, so C requests arrive at
        # once every 1/Q s: 50 workers at 10/s would be bursts of 50 every 100 ms, not 500/s. A worker
        # waits for its answer, so Q must leave room for the answer: 10 ms between requests per worker.
        c_fixed = max(1, a.rate // 100)
        q_fixed = a.rate / c_fixed
        p("run: GET /tickets at %d/s for %d s (hey -c %d -q %g)" % (a.rate, d, c_fixed, q_fixed))
        results.append(run_load("list page /tickets", hey, server, [page_url], page_h, d, c_fixed, q_fixed,
                                a.rate, PAGE_P99_MS))
        p("run: GET /api/v1/tickets at %d/s for %d s" % (a.rate, d))
        results.append(run_load("list API /api/v1/tickets", hey, server, [api_url], api_h, d, c_fixed, q_fixed,
                                a.rate, API_P99_MS))
        p("run: GET /tickets?sort=due at %d/s for %d s" % (a.rate, d))
        results.append(run_load("list page /tickets?sort=due", hey, server, [page_due_url], page_h, d, c_fixed,
                                q_fixed, a.rate, PAGE_P99_MS))
        p("run: GET /api/v1/tickets?sort=due at %d/s for %d s" % (a.rate, d))
        results.append(run_load("list API /api/v1/tickets?sort=due", hey, server, [api_due_url], api_h, d, c_fixed,
                                q_fixed, a.rate, API_P99_MS))
        per_word = a.search_rate / len(words)
        c_s = 1   # one worker per word; the words' processes start spread over a tick (see run_load)
        q_s = per_word / c_s
        p("run: search at %d/s over %d words for %d s (per word hey -c %d -q %g)" % (
            a.search_rate, len(words), d, c_s, q_s))
        results.append(run_load("search page ?status=all&q=", hey, server, page_search, page_h, d, c_s, q_s,
                                a.search_rate, SEARCH_P99_MS))
        results.append(run_load("search API ?q=", hey, server, api_search, api_h, d, c_s, q_s,
                                a.search_rate, SEARCH_P99_MS))
        p("run: highest throughput, %d connections, unthrottled, %d s each" % (a.connections, d))
        results.append(run_load("max page /tickets", hey, server, [page_url], page_h, d, a.connections, None,
                                0, None))
        results.append(run_load("max API /api/v1/tickets", hey, server, [api_url], api_h, d, a.connections, None,
                                0, None))
        time.sleep(1)
        rss_after = vm(server.pid, "VmRSS")
        hwm = vm(server.pid, "VmHWM")
        rss.stop()
        if not server.alive():
            raise RuntimeError("deskmail serve died:\n%s" % server.tail())

        # 4. report
        print_table(results)
        p("")
        for r in results:
            if r.errors:
                failed.append("%s: %d of %d answers were not 200 (%s)" % (r.name, r.errors, r.n,
                                                                          json.dumps(r.statuses)))
            if r.p99_target is not None:
                result("web %s @%d/s: %.1f/s achieved, p50 %.1f ms, p99 %.1f ms (target <= %.0f ms)%s" % (
                    r.name, r.target_rate, r.rate, r.p50, r.p99, r.p99_target,
                    "".join("  " + v for v in r.verdicts())))
            else:
                result("web %s: %.0f req/s with %d connections (p50 %.1f ms, p99 %.1f ms, %.2f ms CPU/req)" % (
                    r.name, r.rate, a.connections, r.p50, r.p99, r.cpu_ms))
        peak = max(hwm, rss.peak)
        result("web: deskmail RSS peak %.1f MB (VmHWM; target <= %.0f MB), %.1f MB after the runs%s" % (
            peak, RSS_MB, rss_after, "" if peak <= RSS_MB else "  BELOW TARGET"))
        result("web: search words %s; %d active tickets in the default view%s" % (
            ", ".join(words), active, " (%s's, teams on)" % AGENT if a.teams > 0 else ""))
    except RuntimeError as e:
        failed.append(str(e))
    finally:
        stop_server(server, rss)
    for f in failed:
        result("web: FAILED: %s" % f)
    if a.summary:
        with open(a.summary, "w") as f:
            f.write("\n".join(summary) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
