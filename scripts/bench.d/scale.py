#!/usr/bin/env python3
"""scale.py - `scripts/bench scale`: the web pages and ingest at 100,000 and at 1,000,000 tickets, SQLite and PostgreSQL.

    scale.py --bin target/release/deskmail --work DIR --mail DIR [--stores sqlite,postgres]
             [--sizes 100000/500000,1000000/5000000] [--pg-url URL] [--seed 1] [--duration 20] [--rate 500]
             [--search-rate 50] [--ticket-rate 200] [--pages 10] [--words 5] [--jobs 2] [--keep] [--summary FILE]

Per size (tickets/messages; the first is the base the others are compared with):
1. seed_web.py writes the data of `scripts/bench web` (SLA clocks on 70 % of the active tickets) into a migrated
   SQLite file, once per size; the time per table is printed.
2. Per store: SQLite: a copy of that file and `deskmail reindex` (the search index). PostgreSQL: a new database,
   `deskmail migrate`, seed_pg.py copies the file's tables in (COPY; indexes and foreign keys rebuilt after the
   load, counts recomputed and checked, sequences set, VACUUM ANALYZE), `deskmail reindex` without the search
   index, then `deskmail migrate` again (nothing to migrate; it builds the search index's ranges of message ids).
   The database's size per ticket is printed (SQLite: the file and its WAL; PostgreSQL: pg_database_size).
3. `deskmail serve` and, with hey (web.py's runner: --duration s per run after a warm-up, fixed rates, redirects
   not followed), signed in as an admin:
     GET /tickets (the default view)                                 at --rate req/s
     GET /api/v1/tickets                                             at --rate req/s
     search: GET /tickets?status=all&q=WORD and GET /api/v1/tickets?q=WORD over --words medium-selective
       words (web.py's choice: 0.3-5 % of the tickets), one hey per word   at --search-rate req/s each
     GET /tickets/{number} over --pages tickets spread over the whole number range (the same relative places
       at every size: ticket i of k at 1000 + (i + u_i) / k of the range), one hey per ticket   at --ticket-rate
   and the server's peak RSS (VmHWM, sampled). p50/p99 per endpoint and size.
4. The server stopped, `deskmail ingest` (ingest.py) of the generated mails in --mail into the seeded database,
   and into a new, migrated, empty database of the same store: both rates and their ratio. The storage dir of
   the empty one's run gives the blob bytes per ticket created (the seeded tickets have no blobs).
Then per store and endpoint: p99 at the base size and at the largest, and the growth factor (target <= 1.5);
per search word its p99 at both sizes, its growth and whether each size capped its search (a word under the cap at
the base size does less work there than where it is capped, so its growth is the cap's as much as the database's),
the RSS at the largest size (target <= 150 MB), ingest into the largest database vs an empty one (target
>= 80 %). A missed target prints BELOW TARGET; the exit status is 1 only when something failed (errors in
the answers, a dead server, a failed load or ingest). Summary lines also go to --summary as they come.
--reuse-pg 100k=DB,1M=DB (PostgreSQL only, with --fixed-words): measure databases seeded by an earlier run and kept
(DM_BENCH_KEEP=1, then renamed out of dm_bench_%, which every run drops) instead of seeding: `deskmail migrate`
(new migrations) and VACUUM ANALYZE, then step 3 with a new admin; not step 4 (the first run's ingest left the mail
set in it); never dropped. For comparing binaries without the ~40 minutes of seeding a million tickets.
Standard library only (plus hey and, for PostgreSQL, psql).
"""

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
import web as wb  # noqa: E402  (the load runner, hey's CSV, the result rows, sign-in, search words)
from benchlib import p  # noqa: E402

GROWTH_MAX = 1.5          # p99 at the largest size / p99 at the base size
RSS_MB = 150.0
INGEST_RATIO_MIN = 0.80   # ingest rate into the largest database / into an empty one
ADMIN = "bench-admin@example.test"
MAILBOXES = wb.MAILBOXES
SLA_SHARE = 0.7           # as `scripts/bench web`
SEARCH_CAP = 2000         # db::ticket_filter::SEARCH_CAP: the matching messages a search reads
CHOSEN_WORDS = {}         # store -> the search words chosen at the first (smallest) size


class Run:
    """One store at one size: where it lives and what was measured."""

    def __init__(self, store, tickets, messages):
        self.store, self.tickets, self.messages = store, tickets, messages
        self.results = {}      # endpoint name -> web.Result
        self.rss = None        # peak MB
        self.db_mb = None
        self.ingest = {}       # "seeded"/"empty" -> ingest.py's result JSON
        self.blob_bytes = None  # per ticket created by the ingest
        self.seed_s = {}       # step -> seconds
        self.words = {}        # search word -> (tickets the search counts, capped)


def size_label(n):
    return "%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else "%dk" % (n // 1000) if n % 1000 == 0 else str(n)


def config_for(path, work, url, port):
    bl.write_config(path, {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
        "database": {"url": url},
        "storage": {"dir": os.path.join(work, "storage")},
        "security": {"secret": secrets.token_hex(32)},
    }, [{"name": n, "address": ad} for n, ad in MAILBOXES])


class Pg:
    """Databases dm_bench_<random> on the server of --pg-url, dropped by drop_all."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        self.made = []

    def create(self):
        name = "dm_bench_" + secrets.token_hex(6)
        self.sql("create database \"%s\"" % name)
        self.made.append(name)
        return name, self.url(name)

    def url(self, name):
        """The URL of database `name` on this server."""
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def sql(self, sql, url=None):
        r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", url or self.admin_url, "-c", sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s: %s" % (sql[:120], r.stderr.strip()))
        return r.stdout.strip()

    def size_mb(self, name):
        return int(self.sql("select pg_database_size('%s')" % name)) / 1e6

    def drop(self, name):
        if name in self.made:
            self.made.remove(name)
            try:
                self.sql("drop database if exists \"%s\"" % name)
            except RuntimeError as e:
                p("scale: could not drop %s: %s" % (name, e))

    def drop_all(self):
        for name in list(self.made):
            self.drop(name)


def seed_source(a, work, tickets, messages):
    """The seeded SQLite file of one size (not reindexed: each store's copy is)."""
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "deskmail.toml")
    dbfile = os.path.join(work, "deskmail.db")
    config_for(config, work, "sqlite://%s" % dbfile, bl.free_port())
    seed = bl.seed_sqlite(a.bin, config, dbfile, tickets, messages, a.seed, MAILBOXES, SLA_SHARE, reindex=False)
    seed["file"] = dbfile
    return seed


def prepare_sqlite(a, run, work, seed, config):
    dbfile = os.path.join(work, "deskmail.db")
    t0 = time.monotonic()
    shutil.copyfile(seed["file"], dbfile)
    run.seed_s["copy of the seeded file"] = time.monotonic() - t0
    run.seed_s["reindex (search index)"] = bl.reindex_search(a.bin, config)
    run.db_mb = bl.sqlite_mb(dbfile)


def prepare_postgres(a, run, pg, seed, config, db):
    t0 = time.monotonic()
    bl.cli(a.bin, config, "migrate")
    run.seed_s["migrate"] = time.monotonic() - t0
    out = os.path.join(os.path.dirname(config), "seed_pg.json")
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, os.path.join(HERE, "seed_pg.py"), "--sqlite", seed["file"], "--url",
                        db[1], "--jobs", str(a.jobs), "--json", out], capture_output=True, text=True)
    p(r.stdout.rstrip())
    if r.returncode != 0:
        raise RuntimeError("seed_pg.py failed: %s" % r.stderr.strip()[-2000:])
    run.seed_s["seed_pg.py (copy, indexes, vacuum)"] = time.monotonic() - t0
    with open(out) as f:
        loaded = json.load(f)
    run.seed_s.update(("  " + k, v["seconds"]) for k, v in loaded["tables"].items())
    run.seed_s.update(("  " + k, v) for k, v in loaded["steps"].items())
    # The documents are written into a table without its search index, which is built afterwards, and the table
    # vacuumed: a database that grew by ingest has neither five million dead rows nor a GIN pending list to work
    # off (which made the ingest into the 1M database run at 31 % of an empty one's).
    search = pg.sql("select string_agg(indexname, ',') from pg_indexes where tablename = 'messages' "
                    "and indexname ~ '^messages_search(_[0-9]+)?$'", db[1])
    for name in filter(None, search.split(",")):
        pg.sql("drop index %s" % name, db[1])
    run.seed_s["reindex"] = bl.reindex_search(a.bin, config)
    t0 = time.monotonic()
    # Nothing left to migrate; `migrate` builds the search index's ranges of message ids (db/search_buckets.rs).
    bl.cli(a.bin, config, "migrate")
    run.seed_s["migrate again (search index ranges)"] = time.monotonic() - t0
    t0 = time.monotonic()
    pg.sql("vacuum (analyze) messages", db[1])
    run.seed_s["vacuum"] = time.monotonic() - t0
    run.db_mb = pg.size_mb(db[0])


def reuse_postgres(a, run, pg, config, db):
    """A kept database of an earlier run: new migrations applied and statistics fresh."""
    t0 = time.monotonic()
    bl.cli(a.bin, config, "migrate")
    run.seed_s["migrate (reused database %s)" % db[0]] = time.monotonic() - t0
    t0 = time.monotonic()
    pg.sql("vacuum (analyze)", db[1])
    run.seed_s["vacuum"] = time.monotonic() - t0
    run.db_mb = pg.size_mb(db[0])


def reused(a):
    """--reuse-pg as {size label: database name}."""
    return dict(kv.split("=", 1) for kv in a.reuse_pg.split(",") if "=" in kv)


def ticket_numbers(seed, k, rng):
    """k ticket numbers spread over the whole range, at the same relative places for every size."""
    n = seed["tickets"]
    return [1000 + min(n - 1, int(n * (i + rng.random()) / k)) for i in range(k)]


def check_page(port, path, headers, needle):
    st, body = wb.get(port, path, headers)
    if st != 200 or needle not in body:
        raise RuntimeError("GET %s answered %d (%d bytes) without %r" % (path, st, len(body), needle))
    return body


def measure_web(a, run, config, port, seed, work):
    """The fixed-rate runs against `deskmail serve`; fills run.results and run.rss."""
    # A reused database has the admin of its first run: each run adds its own.
    admin = ADMIN if not a.reuse_pg else "bench-admin-%s@example.test" % secrets.token_hex(4)
    password, token = bl.user_with_token(a.bin, config, admin, "Bench Admin", "admin")
    server = bl.Server(a.bin, config, os.path.join(work, "serve.log"))
    rss = None
    try:
        t_up = bl.wait_http(bl.Api(port, token), server)
        p("deskmail serve up in %.2f s on port %d; RSS %.1f MB" % (t_up, port, wb.vm(server.pid, "VmRSS")))
        rss = wb.RssSampler(server.pid)
        rss.start()
        cookie = wb.login(port, admin, password)
        base = "http://127.0.0.1:%d" % port
        page_h = ["Cookie: deskmail_session=%s" % cookie, "Accept: text/html"]
        api_h = ["Authorization: Bearer %s" % token, "Accept: application/json"]
        check_page(port, "/tickets", page_h, b"/tickets/")
        j = json.loads(check_page(port, "/api/v1/tickets", api_h, b'"tickets"'))
        # A reused database also holds the tickets of its earlier runs' ingest.
        total_ok = (j.get("total") or 0) >= seed["tickets"] if a.reuse_pg else j.get("total") == seed["tickets"]
        if len(j.get("tickets", [])) != 50 or not total_ok:
            raise RuntimeError("GET /api/v1/tickets: %d tickets, total %s (seeded %d)" % (
                len(j.get("tickets", [])), j.get("total"), seed["tickets"]))
        # The words chosen at the first size, for every size: at a million every candidate's search is capped.
        capped = {}
        words = wb.search_words(port, api_h, seed, a.words, CHOSEN_WORDS.get(run.store), capped)
        CHOSEN_WORDS.setdefault(run.store, [w for w, _ in words])
        p("search words: %s (a total of a capped search counts the tickets of the newest %d matching messages)"
          % (", ".join("%s (%d tickets)" % w for w in words), SEARCH_CAP))
        run.words = {w: (n, capped[w]) for w, n in words}
        numbers = ticket_numbers(seed, a.pages, random.Random(a.seed))
        for n in numbers:
            check_page(port, "/tickets/%d" % n, page_h, b"#%d" % n)
        p("ticket pages: %s" % ", ".join("#%d" % n for n in numbers))
        page_search = [base + "/tickets?status=all&q=" + w for w, _ in words]
        api_search = [base + "/api/v1/tickets?q=" + w for w, _ in words]
        ticket_urls = [base + "/tickets/%d" % n for n in numbers]
        # Every URL a run measures is warmed, at a low rate per URL: a word first searched inside its run would put
        # the database's first reads of its matches (from disk at 1,000,000 tickets) into that run's p99.
        p("warm-up: %d s of every measured URL at a low rate" % wb.WARMUP_S)
        wb.warmup(wb_hey(), [base + "/tickets"], page_h, wb.WARMUP_S)
        wb.warmup(wb_hey(), [base + "/api/v1/tickets"], api_h, wb.WARMUP_S)
        wb.warmup(wb_hey(), page_search + ticket_urls, page_h, wb.WARMUP_S, conns=1, qps=5)
        wb.warmup(wb_hey(), api_search, api_h, wb.WARMUP_S, conns=1, qps=5)
        for name, urls, headers, rate in (
                ("list page /tickets", [base + "/tickets"], page_h, a.rate),
                ("list API /api/v1/tickets", [base + "/api/v1/tickets"], api_h, a.rate),
                ("search page ?status=all&q=", page_search, page_h, a.search_rate),
                ("search API ?q=", api_search, api_h, a.search_rate),
                ("ticket page /tickets/N", ticket_urls, page_h, a.ticket_rate)):
            run.results[name] = load(name, server, urls, headers, rate, a.duration)
        time.sleep(1)
        run.rss = max(wb.vm(server.pid, "VmHWM"), rss.peak)
        if not server.alive():
            raise RuntimeError("deskmail serve died:\n%s" % server.tail())
    finally:
        wb.stop_server(server, rss)
    wb.print_table(run.results.values(), "; other includes PostgreSQL")


def wb_hey():
    return shutil.which("hey")


def load(name, server, urls, headers, rate, duration):
    """One fixed-rate run over the URLs (one hey each), as web.py paces them: at most 100/s per worker."""
    per_url = rate / len(urls)
    conns = max(1, int(per_url // 100))
    p("run: %s at %d/s over %d URL(s) for %d s (per URL hey -c %d -q %g)" % (
        name, rate, len(urls), duration, conns, per_url / conns))
    return wb.run_load(name, wb_hey(), server, urls, headers, duration, conns, per_url / conns, rate, None)


def dir_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def ingest(a, label, config, work):
    """ingest.py over the generated mails; returns its result JSON."""
    os.sync()   # earlier writes must not land in deskmail's syncfs calls
    out = os.path.join(work, "ingest-%s.json" % label.replace(" ", "-"))
    r = subprocess.run([sys.executable, os.path.join(HERE, "ingest.py"), "--bin", a.bin, "--config", config,
                        "--mail", a.mail, "--store", label, "--result", out,
                        "--log", os.path.join(work, "ingest-%s.log" % label.replace(" ", "-"))],
                       capture_output=True, text=True)
    p(r.stdout.rstrip())
    if r.returncode != 0 or not os.path.exists(out):
        raise RuntimeError("ingest %s failed: %s" % (label, (r.stdout + r.stderr).strip()[-1500:]))
    with open(out) as f:
        return json.load(f)


def measure_ingest(a, run, pg, config, work):
    """The mails into the seeded database, then into a new empty one of the same store."""
    name = "%s %s" % (run.store, size_label(run.tickets))
    run.ingest["seeded"] = ingest(a, name + " seeded", config, work)
    empty = work + "-empty"
    os.makedirs(empty, exist_ok=True)
    db = None
    try:
        if run.store == "postgres":
            db = pg.create()
            url = db[1]
        else:
            url = "sqlite://%s" % os.path.join(empty, "deskmail.db")
        cfg = os.path.join(empty, "deskmail.toml")
        config_for(cfg, empty, url, bl.free_port())
        bl.cli(a.bin, cfg, "migrate")
        run.ingest["empty"] = ingest(a, name + " empty", cfg, empty)
        created = run.ingest["empty"]["outcomes"].get("created", 0)
        run.blob_bytes = dir_bytes(os.path.join(empty, "storage")) / created if created else None
    finally:
        if db:
            pg.drop(db[0])
        if not a.keep:
            shutil.rmtree(empty, ignore_errors=True)


def one_run(a, pg, store, seed, result):
    """Prepare, measure the web, measure ingest: one store at one size."""
    run = Run(store, seed["tickets"], seed["messages"])
    label = "%s %s" % (store, size_label(run.tickets))
    work = os.path.join(a.work, "%s-%s" % (store, size_label(run.tickets)))
    os.makedirs(work, exist_ok=True)
    port = bl.free_port()
    config = os.path.join(work, "deskmail.toml")
    db = None
    try:
        p("")
        p("==== %s: %d tickets, %d messages ====" % (label, run.tickets, run.messages))
        keep_db = reused(a).get(size_label(run.tickets)) if store == "postgres" else None
        if store == "sqlite":
            config_for(config, work, "sqlite://%s" % os.path.join(work, "deskmail.db"), port)
            prepare_sqlite(a, run, work, seed, config)
        elif keep_db:
            config_for(config, work, pg.url(keep_db), port)
            reuse_postgres(a, run, pg, config, (keep_db, pg.url(keep_db)))
        else:
            db = pg.create()
            config_for(config, work, db[1], port)
            prepare_postgres(a, run, pg, seed, config, db)
        result("scale %s: database ready in %.1f s (%s); %.0f MB = %.1f KB per ticket" % (
            label, sum(v for k, v in run.seed_s.items() if not k.startswith("  ")),
            "; ".join("%s %.1f s" % (k.strip(), v) for k, v in run.seed_s.items()), run.db_mb,
            1000.0 * run.db_mb / run.tickets))
        measure_web(a, run, config, port, seed, work)
        for r in run.results.values():
            if r.errors:
                raise RuntimeError("%s: %d of %d answers were not 200 (%s)" % (r.name, r.errors, r.n,
                                                                               json.dumps(r.statuses)))
            result("scale %s %s @%d/s: %.1f/s achieved, p50 %.1f ms, p99 %.1f ms%s" % (
                label, r.name, r.target_rate, r.rate, r.p50, r.p99, "".join("  " + v for v in r.verdicts())))
        result("scale %s: deskmail RSS peak %.1f MB under the web load (VmHWM)" % (label, run.rss))
        if keep_db:
            # Its earlier runs ingested these very mails: they would come back as duplicates, at another rate.
            result("scale %s: ingest not measured (the reused database holds the mail set already)" % label)
            return run
        measure_ingest(a, run, pg, config, work)
        s, e = run.ingest["seeded"], run.ingest["empty"]
        result("scale %s: ingest of %d mails: %.0f msg/s into the seeded database, %.0f msg/s into an empty one = "
               "%.0f %%; blobs %.1f KB per ticket created (%d tickets from the empty run's storage dir; the seeded "
               "tickets have none)" % (label, s["messages"], s["msg_per_s"], e["msg_per_s"],
                                       100.0 * s["msg_per_s"] / e["msg_per_s"], (run.blob_bytes or 0) / 1000.0,
                                       e["outcomes"].get("created", 0)))
        return run
    finally:
        if not a.keep:
            if db:
                pg.drop(db[0])
            shutil.rmtree(work, ignore_errors=True)


def report(runs, result):
    """Per store: p99 at the base size and the largest, growth, RSS, ingest ratio, sizes."""
    for store in sorted({r.store for r in runs}, key=lambda s: (s != "sqlite", s)):
        mine = sorted((r for r in runs if r.store == store), key=lambda r: r.tickets)
        if not mine:
            continue
        base, top = mine[0], mine[-1]
        b, t = size_label(base.tickets), size_label(top.tickets)
        p("")
        p("%s: %-28s %9s %9s %9s %9s %7s" % (store, "endpoint", "p50 " + b, "p99 " + b, "p50 " + t, "p99 " + t,
                                            "growth"))
        for name, r0 in base.results.items():
            r1 = top.results.get(name)
            if r1 is None or top is base:
                continue
            growth = r1.p99 / r0.p99 if r0.p99 else float("nan")
            verdict = "" if growth <= GROWTH_MAX else "  BELOW TARGET (growth %.2fx > %.1fx)" % (growth, GROWTH_MAX)
            p("%-36s %9.1f %9.1f %9.1f %9.1f %6.2fx%s" % (name, r0.p50, r0.p99, r1.p50, r1.p99, growth, verdict))
            result("scale %s %s: p99 %.1f ms at %s tickets, %.1f ms at %s: growth %.2fx (target <= %.1fx); p50 %.1f / "
                   "%.1f ms%s" % (store, name, r0.p99, b, r1.p99, t, growth, GROWTH_MAX, r0.p50, r1.p50, verdict))
            word_growth(store, name, base, top, result)
        if top.rss is not None:
            result("scale %s: RSS peak under the web load %s (target <= %.0f MB at %s)%s" % (
                store, ", ".join("%.1f MB at %s" % (r.rss, size_label(r.tickets)) for r in mine if r.rss),
                RSS_MB, t, "" if top.rss <= RSS_MB else "  BELOW TARGET"))
        if "empty" in top.ingest:
            s, e = top.ingest["seeded"]["msg_per_s"], top.ingest["empty"]["msg_per_s"]
            result("scale %s: ingest into the %s database %.0f msg/s vs %.0f msg/s into an empty one: %.0f %% "
                   "(target >= %.0f %%)%s" % (store, t, s, e, 100.0 * s / e, 100 * INGEST_RATIO_MIN,
                                             "" if s >= INGEST_RATIO_MIN * e else "  BELOW TARGET"))
        result("scale %s: per ticket: database %s; blobs %s (from the ingest runs)" % (
            store, ", ".join("%.1f KB at %s" % (1000.0 * r.db_mb / r.tickets, size_label(r.tickets))
                             for r in mine if r.db_mb),
            ", ".join("%.1f KB" % (r.blob_bytes / 1000.0) for r in mine[-1:] if r.blob_bytes) or "?"))


def word_growth(store, name, base, top, result):
    """Per search word of a run over several words: p99 at both sizes, its growth, and whether the search was capped
    (it reads at most SEARCH_CAP matches): a word under the cap at the base size does less work there than at a size
    that caps it, so its growth is not the database's alone."""
    # The URLs differ between sizes (each size's server has its own port): matched by their word.
    p99_0, p99_1 = ({url.rsplit("q=", 1)[-1]: p99 for url, (_, p99) in r.results[name].by_url.items()}
                    for r in (base, top))
    b, t = size_label(base.tickets), size_label(top.tickets)
    for word in (w for w in p99_0 if w in p99_1 and w in base.words and w in top.words):
        (n0, c0), (n1, c1) = base.words[word], top.words[word]
        result("scale %s %s %s: p99 %.1f ms at %s (%d tickets%s), %.1f ms at %s (%d tickets%s): growth %.2fx" % (
            store, name, word, p99_0[word], b, n0, ", capped" if c0 else "", p99_1[word], t, n1,
            ", capped" if c1 else "", p99_1[word] / p99_0[word] if p99_0[word] else float("nan")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mail", required=True, help="the mail set of gen_mail.py for the ingest runs")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--sizes", default="100000/500000,1000000/5000000")
    ap.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    for name, default in (("seed", 1), ("duration", 20), ("rate", 500), ("search-rate", 50), ("ticket-rate", 200),
                          ("pages", 10), ("words", 5), ("jobs", 2)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse-pg", default="", help="100k=DB,1M=DB: kept PostgreSQL databases measured unseeded")
    ap.add_argument("--fixed-words", default="", help="the search words (comma list) instead of choosing them")
    ap.add_argument("--summary")
    a = ap.parse_args()
    if not wb_hey():
        sys.exit("hey not found (apt-get install hey)")
    stores = [s for s in a.stores.split(",") if s]
    sizes = [tuple(int(x) for x in s.split("/")) for s in a.sizes.split(",") if s]
    if "postgres" in stores and not a.pg_url:
        sys.exit("--pg-url (TEST_DATABASE_URL) is needed for PostgreSQL")
    summary = open(a.summary, "a") if a.summary else None
    failed, runs = [], []

    def result(line):
        p(line)
        if summary:
            summary.write(line + "\n")
            summary.flush()

    if a.fixed_words:
        CHOSEN_WORDS["postgres"] = CHOSEN_WORDS["sqlite"] = [w for w in a.fixed_words.split(",") if w]
    if a.reuse_pg and (stores != ["postgres"] or not a.fixed_words):
        sys.exit("--reuse-pg needs --stores postgres and --fixed-words")
    pg = Pg(a.pg_url)
    try:
        for tickets, messages in sizes:
            src = os.path.join(a.work, "seed-%s" % size_label(tickets))
            if stores == ["postgres"] and size_label(tickets) in reused(a):
                seed = {"tickets": tickets, "messages": messages, "search_words": CHOSEN_WORDS["postgres"]}
            else:
                p("")
                p("==== seeding %d tickets, %d messages (seed_web.py, SQLite) ====" % (tickets, messages))
                seed = seed_source(a, src, tickets, messages)
                result("scale %s: seed_web.py %.1f s (%s; migrate %.1f s)" % (
                    size_label(tickets), seed["t_seed"], ", ".join(seed["steps"]), seed["t_migrate"]))
            for store in stores:
                try:
                    runs.append(one_run(a, pg, store, seed, result))
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    failed.append("%s %s: %s" % (store, size_label(tickets), e))
                    result("scale %s %s: FAILED: %s" % (store, size_label(tickets), str(e)[:2000]))
            if not a.keep:
                shutil.rmtree(src, ignore_errors=True)
        p("")
        report(runs, result)
    finally:
        if a.keep:
            for name in pg.made:
                p("scale: kept the PostgreSQL database %s" % name)
        else:
            pg.drop_all()
        if summary:
            summary.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
