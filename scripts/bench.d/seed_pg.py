#!/usr/bin/env python3
"""seed_pg.py - copies a database seeded by seed_web.py (SQLite) into a migrated, empty PostgreSQL database.

    seed_pg.py --sqlite FILE --url postgres://... [--jobs 2] [--json FILE]

Used by `scripts/bench scale`: seed_web.py writes the SQLite file (fast, in-process), this streams its tables into
PostgreSQL with COPY (text format, through `psql ... -c "\\copy TABLE (COLUMNS) from pstdin"`), so both stores
hold the same data. Both databases must have been migrated by `deskmail migrate` with the same [[mailbox]] list
(same mailbox ids; checked).

* tables: every SQLite table with rows whose PostgreSQL twin is empty (columns: those of both, without
  PostgreSQL's generated ones such as messages.search, which COPY computes). Of the tables `deskmail migrate`
  fills on both sides, `mailboxes` must agree (id and name), `counters` take SQLite's values, `ticket_counts`
  and `ticket_mailbox_counts` are recomputed (below); any other table with rows on both sides is an error.
* around the load: the loaded tables' foreign keys and secondary indexes (all but primary keys and unique
  constraints) are dropped and recreated afterwards (building an index once is much faster than updating it
  row by row; adding a foreign key checks all rows in one join), and their user triggers are disabled
  (the per-status counts on tickets). The counts are then recomputed from the tickets as the triggers would
  have kept them (`ticket_counts`: its status rows, `ticket_mailbox_counts`: a row per mailbox and status),
  and compared with the counts SQLite's triggers kept while seed_web.py loaded: they must be equal.
* large tables (> 200,000 rows) are copied in --jobs parallel streams (rowid ranges)
* identity sequences are set past the loaded ids (setval), then VACUUM ANALYZE of the loaded tables, so
  the planner has statistics and index-only scans see an all-visible map, as on a database in service.

Prints one line per step with the time (rows and seconds per table, each index, the foreign keys, the vacuum)
and with --json writes {"tables": {name: {"rows", "seconds"}}, "steps": {step: seconds}, "seconds"}.
Needs psql; standard library only.
"""

import argparse
import json
import multiprocessing
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True

PARALLEL_ROWS = 200_000      # tables above this are copied in several streams
MIGRATE_FILLED = {"mailboxes", "counters", "ticket_counts", "ticket_mailbox_counts"}
SKIP = ("sqlite_", "messages_fts", "_sqlx_")    # SQLite's own tables, its search index, the migration log


def p(s=""):
    print(s, flush=True)


def psql(url, sql, rows=True):
    """Runs SQL (one statement or several) with psql; returns the result rows as lists of strings."""
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-F", "\t", url, "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("psql failed on %s: %s" % (sql[:200], r.stderr.strip()))
    return [line.split("\t") for line in r.stdout.splitlines() if line] if rows else []


def text_field(v):
    """One value in COPY's text format."""
    if v is None:
        return "\\N"
    if isinstance(v, str):
        return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(v, bytes):
        return "\\\\x" + v.hex()
    return str(v)


def copy_range(sqlite_file, url, table, cols, lo, hi):
    """Streams rows lo <= rowid <= hi of one table into PostgreSQL (a process of its own: the encoding is CPU)."""
    src = sqlite3.connect("file:%s?mode=ro" % sqlite_file, uri=True)
    names = ", ".join('"%s"' % c for c in cols)
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", "\\copy %s (%s) from pstdin" % (table, names)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cur = src.execute("select %s from %s where rowid between ? and ? order by rowid" % (names, table), (lo, hi))
    try:
        while True:
            batch = cur.fetchmany(5000)
            if not batch:
                break
            proc.stdin.write("".join("\t".join(map(text_field, row)) + "\n" for row in batch).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.wait() != 0:
        sys.exit("COPY into %s failed: %s" % (table, err.strip()))
    src.close()


def pg_columns(url, table):
    """The table's columns PostgreSQL does not generate."""
    return [r[0] for r in psql(url, "select column_name from information_schema.columns where table_schema = "
                                    "current_schema() and table_name = '%s' and is_generated = 'NEVER' "
                                    "and identity_generation is distinct from 'ALWAYS' order by ordinal_position"
                               % table)]


def plan(src, url):
    """(tables to load [(name, rows)], tables filled on both sides), checking that nothing else overlaps."""
    names = [r[0] for r in src.execute("select name from sqlite_master where type = 'table' order by name")
             if not r[0].startswith(SKIP)]
    in_pg = {r[0] for r in psql(url, "select table_name from information_schema.tables "
                                     "where table_schema = current_schema()")}
    load, both = [], []
    for t in names:
        n = src.execute("select count(*) from %s" % t).fetchone()[0]
        if n == 0:
            continue
        if t not in in_pg:
            raise RuntimeError("table %s has rows in SQLite but does not exist in PostgreSQL" % t)
        if int(psql(url, "select count(*) from %s" % t)[0][0]) == 0:
            load.append((t, n))
        elif t in MIGRATE_FILLED:
            both.append(t)
        else:
            raise RuntimeError("table %s has rows in SQLite and in PostgreSQL (seed a freshly migrated database)" % t)
    return load, both


def check_mailboxes(src, url):
    lite = sorted((str(i), n) for i, n in src.execute("select id, name from mailboxes"))
    pg = sorted(tuple(r) for r in psql(url, "select id, name from mailboxes"))
    if lite != pg:
        raise RuntimeError("the mailboxes differ (migrate both with the same config): SQLite %s, PostgreSQL %s"
                           % (lite, pg))


def secondary(url, tables):
    """(indexes [(name, definition)] that are no constraint, foreign keys [(table, name, definition)])."""
    arr = "array[%s]" % ", ".join("'%s'" % t for t in tables)
    idx = psql(url, "select indexname, indexdef from pg_indexes where schemaname = current_schema() and "
                    "tablename = any(%s) and indexname not in (select conname from pg_constraint) order by indexname"
               % arr)
    fks = psql(url, "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint where "
                    "contype = 'f' and conrelid::regclass::text = any(%s) order by 1, 2" % arr)
    return idx, fks


def copy_table(sqlite_file, src, url, table, rows, jobs):
    lite_cols = [r[1] for r in src.execute("pragma table_info(%s)" % table)]
    pg_cols = set(pg_columns(url, table))
    cols = [c for c in lite_cols if c in pg_cols]
    lo, hi = src.execute("select min(rowid), max(rowid) from %s" % table).fetchone()
    n = jobs if rows > PARALLEL_ROWS else 1
    step = (hi - lo) // n + 1
    procs = [multiprocessing.Process(target=copy_range, args=(sqlite_file, url, table, cols, lo + i * step,
                                                              min(hi, lo + (i + 1) * step - 1)))
             for i in range(n)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join()
    if any(pr.exitcode != 0 for pr in procs):
        raise RuntimeError("copying %s failed" % table)
    got = int(psql(url, "select count(*) from %s" % table)[0][0])
    if got != rows:
        raise RuntimeError("%s: %d rows in PostgreSQL, %d in SQLite" % (table, got, rows))


def recount(src, url):
    """The per-status counts as the triggers keep them, compared with SQLite's (kept by its triggers)."""
    psql(url, "update ticket_counts c set count = case when c.slot = 0 then "
              "(select count(*) from tickets t where t.status = c.status) else 0 end; "
              "delete from ticket_mailbox_counts; insert into ticket_mailbox_counts (mailbox_id, status, count) "
              "select mailbox_id, status, count(*) from tickets group by mailbox_id, status", rows=False)
    for table, key in (("ticket_counts", "status"), ("ticket_mailbox_counts", "mailbox_id, status")):
        sql = "select %s, count from %s where count <> 0 order by %s" % (key, table, key)
        lite = [[str(v) for v in r] for r in src.execute(sql)]
        pg = psql(url, sql)
        if lite != pg:
            raise RuntimeError("%s differs from what SQLite's triggers kept: %s vs %s" % (table, pg, lite))


def set_sequences(url, tables):
    """Identity sequences past the loaded ids, so the next insert does not collide."""
    arr = "array[%s]" % ", ".join("'%s'" % t for t in tables)
    for t, c in psql(url, "select table_name, column_name from information_schema.columns where table_schema = "
                          "current_schema() and is_identity = 'YES' and table_name = any(%s)" % arr):
        psql(url, "select setval(pg_get_serial_sequence('%s', '%s'), max(%s)) from %s having max(%s) is not null"
             % (t, c, c, t, c))


def copy_counters(src, url):
    for name, value in src.execute("select name, value from counters"):
        psql(url, "update counters set value = %d where name = '%s'" % (value, name.replace("'", "''")), rows=False)
        if name == "ticket_number" and value >= 1000:
            # PostgreSQL draws ticket numbers from a sequence (migration 0028), continuing from here.
            psql(url, "select setval('ticket_number_seq', %d)" % value, rows=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    t_start = time.monotonic()
    src = sqlite3.connect("file:%s?mode=ro" % a.sqlite, uri=True)
    steps, tables = {}, {}

    def step(name, t0):
        steps[name] = time.monotonic() - t0
        p("seed_pg: %s %.1f s" % (name, steps[name]))

    load, both = plan(src, a.url)
    if "mailboxes" in both:
        check_mailboxes(src, a.url)
    names = [t for t, _ in load]
    idx, fks = secondary(a.url, names)
    t0 = time.monotonic()
    script = ["alter table %s drop constraint %s" % (t, c) for t, c, _ in fks]
    script += ["drop index %s" % i for i, _ in idx]
    script += ["alter table %s disable trigger user" % t for t in names]
    psql(a.url, "; ".join(script), rows=False)
    step("drop indexes and foreign keys", t0)
    p("seed_pg:   %d indexes and %d foreign keys of %s dropped for the load" % (len(idx), len(fks), ", ".join(names)))
    for t, n in load:
        t0 = time.monotonic()
        copy_table(a.sqlite, src, a.url, t, n, a.jobs)
        tables[t] = {"rows": n, "seconds": round(time.monotonic() - t0, 2)}
        p("seed_pg: %s %d rows in %.1f s" % (t, n, tables[t]["seconds"]))
    t_idx, built = time.monotonic(), {}
    for name, definition in idx:
        t0 = time.monotonic()
        psql(a.url, "set maintenance_work_mem = '1GB'; %s" % definition, rows=False)
        built[name] = time.monotonic() - t0
    slow = sorted(built.items(), key=lambda x: -x[1])[:4]
    step("indexes", t_idx)
    p("seed_pg:   %d indexes built, the slowest: %s" % (len(built), ", ".join("%s %.1f s" % x for x in slow)))
    t0 = time.monotonic()
    psql(a.url, "; ".join("alter table %s add constraint %s %s" % tuple(f) for f in fks) or "select 1", rows=False)
    step("foreign keys", t0)
    t0 = time.monotonic()
    psql(a.url, "; ".join("alter table %s enable trigger user" % t for t in names), rows=False)
    if "ticket_counts" in both or "tickets" in names:
        recount(src, a.url)
    if "counters" in both:
        copy_counters(src, a.url)
    set_sequences(a.url, names)
    step("counts, counters, sequences", t0)
    t0 = time.monotonic()
    for t in names:
        psql(a.url, "vacuum (analyze) %s" % t, rows=False)
    step("vacuum analyze", t0)
    secs = time.monotonic() - t_start
    p("seed_pg: %d tables, %d rows in %.1f s" % (len(load), sum(n for _, n in load), secs))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"tables": tables, "steps": {k: round(v, 2) for k, v in steps.items()},
                       "indexes": {k: round(v, 2) for k, v in built.items()},
                       "seconds": round(secs, 1)}, f)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        sys.exit("seed_pg.py: %s" % e)
