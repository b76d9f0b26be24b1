#!/usr/bin/env python3
"""rules.py - `scripts/bench rules`: the rules engine's cost (issue 15), on SQLite.

    rules.py --bin target/release/deskmail --work DIR --mail MAILDIR [--rules 100] [--rounds 2]
             [--tickets 100000] [--messages 500000] [--seed 1] [--phases ingest,schedule] [--summary FILE]

1. Ingest with event rules. Per variant (no rules, then --rules enabled event rules) a fresh SQLite
   database and storage dir, `deskmail migrate`, an admin and an API token, `deskmail serve` (so the
   rules consumer is live, reading the event log after commit), the rules put through
   POST /api/v1/rules, then ingest.py runs `deskmail ingest --mailbox support --json` over the mail set in
   MAILDIR (same config: same database and storage as serve) and measures it as a whole process.
   Afterwards the database file is polled read-only (every 20 ms) until the `rules` row of
   event_consumers stands at the newest event of ticket_events: the catch-up time after ingest returned.
   The rule mix (event_rules): triggers ticket_created / message_received / ticket_updated; conditions
   on message.subject (contains, matches), customer.domain is, ticket.priority is; actions add_tag,
   set_priority, add_note. Five rules match some of the generated mails (refund and invoice subjects,
   one sender domain, outage subjects, and a note on tickets a rule made high priority); the others
   match nothing. Checked: with rules, rule-actor events exist (`rule:{id}`), and only the five
   matching rules acted; without rules there are none. Target: msg/s with rules >= 80 % of without.
   The pair runs --rounds times (order alternating: no rules first, then rules first ...) and the medians
   (with 2 rounds: the means) are compared.
2. Schedule pass. `deskmail migrate`, seed_web.py writes --tickets tickets / --messages messages
   (the web bench's data: one year, ~15 % active), `deskmail reindex`, serve. Then, one at a time, a time
   rule is created through the API, the driver waits for /healthz rules_scheduler.last_run_at to show
   the pass that followed the save (the API makes the scheduler due at its next 10 s tick), reads
   last_duration_ms and last_acted, times the rule's dry run (POST /api/v1/rules/{id}/preview), and
   deletes the rule. Rule A has `ticket.status is pending` first (the scan reads pending tickets
   only), rule B only `ticket.idle_minutes gte 999999999` (every ticket is read); neither matches.
   Target: last_duration_ms <= 2,000 ms each.
The serve processes' peak RSS (VmHWM) is printed per phase. Summary lines go to stdout and --summary;
a missed target prints BELOW TARGET; the exit status is 1 only when something failed (an error, a
check that shows the figure is not what it claims).
Standard library only.
"""

import argparse
import datetime
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import p  # noqa: E402

RATIO_TARGET = 0.80
PASS_MS_TARGET = 2000
ADMIN = "bench-admin@example.test"
SCHEDULE_RULES = [
    ("with status prefilter", {
        "name": "Close idle pending", "trigger": "schedule",
        "conditions": {"all": [{"field": "ticket.status", "op": "is", "value": "pending"},
                               {"field": "ticket.idle_minutes", "op": "gte", "value": 999999999}]},
        "actions": [{"type": "add_tag", "value": "idle"}]}),
    ("without prefilter", {
        "name": "Tag idle tickets", "trigger": "schedule",
        "conditions": {"all": [{"field": "ticket.idle_minutes", "op": "gte", "value": 999999999}]},
        "actions": [{"type": "add_tag", "value": "idle"}]}),
]


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


def event_rules(n):
    """n event rules: the first five match some of gen_mail.py's mails, the rest nothing. Returns [(rule, matches)]."""
    matching = [
        {"name": "Refunds are high priority", "trigger": "ticket_created",
         "conditions": {"all": [cond("message.subject", "matches", r"refund|money back|r(ü|ue)ckerstattung")]},
         "actions": [{"type": "set_priority", "value": "high"}, {"type": "add_tag", "value": "refund"}]},
        {"name": "Tag ACME", "trigger": "message_received",
         "conditions": {"all": [cond("customer.domain", "is", "acme-corp.test")]},
         "actions": [{"type": "add_tag", "value": "acme"}]},
        {"name": "Invoices", "trigger": "ticket_created",
         "conditions": {"any": [cond("message.subject", "contains", "invoice"),
                                cond("message.subject", "contains", "rechnung")]},
         "actions": [{"type": "add_tag", "value": "invoice"}]},
        {"name": "Outages are urgent", "trigger": "message_received",
         "conditions": {"all": [cond("message.subject", "matches", r"\burgent\b.*\b500\b"),
                                cond("ticket.priority", "is", "normal")]},
         "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tag", "value": "outage"}]},
        {"name": "Note on high priority", "trigger": "ticket_updated",
         "conditions": {"all": [cond("ticket.priority", "is", "high")]},
         "actions": [{"type": "add_note", "body": "High priority (set by a rule): answer within 4 hours."}]},
    ]
    out = [(r, True) for r in matching[:n]]
    i = 0
    while len(out) < n:
        i += 1
        k = i % 5
        if k == 0:
            r = {"trigger": "ticket_created",
                 "conditions": {"all": [cond("message.subject", "contains", "order-zq%04d" % i)]},
                 "actions": [{"type": "add_tag", "value": "zq-%d" % i}]}
        elif k == 1:
            r = {"trigger": "message_received",
                 "conditions": {"all": [cond("customer.domain", "is", "nomatch-%d.example" % i)]},
                 "actions": [{"type": "set_priority", "value": "low"}, {"type": "add_tag", "value": "nm-%d" % i}]}
        elif k == 2:
            r = {"trigger": "ticket_updated",
                 "conditions": {"all": [cond("ticket.priority", "is", "urgent"),
                                        cond("message.subject", "matches", r"^never-%d-(alpha|beta)$" % i)]},
                 "actions": [{"type": "add_note", "body": "never %d" % i}]}
        elif k == 3:
            r = {"trigger": "message_received",
                 "conditions": {"all": [cond("message.subject", "matches", r"(invoice|rechnung|order) #?ZZ%d\b" % i),
                                        cond("ticket.priority", "is", "normal")]},
                 "actions": [{"type": "add_tag", "value": "zz-%d" % i}]}
        else:
            r = {"trigger": "ticket_created",
                 "conditions": {"any": [cond("customer.domain", "is", "x%d.invalid" % i),
                                        cond("message.subject", "contains", "zz-never-%d" % i)]},
                 "actions": [{"type": "add_note", "body": "never %d" % i},
                             {"type": "set_priority", "value": "low"}]}
        r["name"] = "Bench rule %03d (matches nothing)" % i
        out.append((r, False))
    return out


def parse_ts(s):
    """An RFC 3339 time from /healthz as Unix seconds (None when absent)."""
    if not s:
        return None
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return 0.0


def ro(dbfile):
    db = sqlite3.connect("file:%s?mode=ro" % dbfile, uri=True, timeout=30)
    db.execute("pragma busy_timeout = 30000")
    return db


def consumer_lag(db):
    """(cursor id or None, newest event id, events after the cursor) of the rules consumer."""
    row = db.execute("select last_txid, last_id from event_consumers where name = 'rules'").fetchone()
    newest = db.execute("select coalesce(max(id), 0) from ticket_events").fetchone()[0]
    if row is None:
        return None, newest, None
    behind = db.execute("select count(*) from ticket_events where txid > ? or (txid = ? and id > ?)",
                        (row[0], row[0], row[1])).fetchone()[0]
    return row[1], newest, behind


def serve_errors(log_path):
    try:
        with open(log_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return [x for x in lines if " ERROR " in x or "\"level\":\"ERROR\"" in x or x.startswith("ERROR")]


def make_config(work, port, mailboxes):
    os.makedirs(os.path.join(work, "storage"), exist_ok=True)
    config = os.path.join(work, "deskmail.toml")
    bl.write_config(config, {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port},
        "database": {"url": "sqlite://%s" % os.path.join(work, "deskmail.db")},
        "storage": {"dir": os.path.join(work, "storage")},
        "security": {"secret": secrets.token_hex(32)},
    }, [{"name": n, "address": ad} for n, ad in mailboxes])
    return config


def start_serve(a, work, config, port):
    """Admin + token, then serve; returns (server, api)."""
    token = bl.api_token(a.bin, config, ADMIN)
    server = bl.Server(a.bin, config, os.path.join(work, "serve.log"))
    api = bl.Api(port, token, timeout=120)
    t_up = bl.wait_http(api, server)
    p("  deskmail serve up in %.2f s on port %d (pid %d)" % (t_up, port, server.pid))
    return server, api


def stop_serve(server, failed, what):
    peak = hwm(server.pid)
    alive = server.alive()
    code, secs = server.stop()
    if not alive:
        failed.append("%s: deskmail serve died (exit %s):\n%s" % (what, code, server.tail()))
    elif code not in (0, None):
        p("  deskmail serve exited with %s after SIGTERM; log tail:\n%s" % (code, server.tail()))
    errs = serve_errors(server.log_path)
    if errs:
        p("  %s: serve logged %d ERROR lines, first: %s" % (what, len(errs), errs[0][:300]))
    return peak, errs


# --- 1. ingest with and without event rules -------------------------------------------------------------

def ingest_variant(a, label, n_rules, round_no, failed):
    """One fresh database, serve, n_rules rules, one ingest; returns a dict of figures (None on failure)."""
    work = os.path.join(a.work, "ingest-r%d-%d" % (round_no, n_rules))
    port = bl.free_port()
    config = make_config(work, port, [("support", "support@example.test")])
    dbfile = os.path.join(work, "deskmail.db")
    bl.cli(a.bin, config, "migrate")
    server, api = start_serve(a, work, config, port)
    out = None
    try:
        rules = event_rules(n_rules)
        names = {}
        t0 = time.monotonic()
        for r, matches in rules:
            st, j = api.request("POST", "/api/v1/rules", r)
            if st != 201:
                raise RuntimeError("POST /api/v1/rules (%s) answered %d: %s" % (r["name"], st, str(j)[:400]))
            names[j["id"]] = (r["name"], matches)
        if n_rules:
            st, j = api.get("/api/v1/rules")
            enabled = sum(1 for r in j.get("rules", []) if r.get("enabled")) if st == 200 else -1
            if enabled != n_rules:
                raise RuntimeError("GET /api/v1/rules: %s enabled rules, not %d" % (enabled, n_rules))
            p("  %d rules created through the API in %.2f s (%d match some mails)" % (
                n_rules, time.monotonic() - t0, sum(1 for _, m in rules if m)))
        # the consumer claims its cursor (at the end of the empty log) when serve starts
        db = ro(dbfile)
        deadline = time.monotonic() + 30
        while consumer_lag(db)[0] is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the rules consumer has no row in event_consumers 30 s after serve started")
            time.sleep(0.1)
        os.sync()   # the generated files' dirty pages must not land in deskmail's syncfs calls
        cpu0 = server.cpu()
        res_path = os.path.join(work, "ingest.json")
        t_start = time.monotonic()
        r = subprocess.run([sys.executable, os.path.join(HERE, "ingest.py"), "--bin", a.bin, "--config", config,
                            "--mail", a.mail, "--store", "sqlite, %s" % label, "--result", res_path,
                            "--log", os.path.join(work, "ingest.log")], capture_output=True, text=True)
        t_ret = time.monotonic()
        _, newest0, behind0 = consumer_lag(db)
        for line in r.stdout.strip().splitlines():
            p("  " + line)
        if r.returncode != 0 and not os.path.exists(res_path):
            raise RuntimeError("ingest.py failed (exit %d): %s" % (r.returncode, r.stderr[-1500:]))
        with open(res_path) as f:
            res = json.load(f)
        if r.returncode != 0:
            # keep measuring (the rate and the catch-up are still figures), but the run fails
            why = [x.strip() for x in r.stdout.splitlines() if "unexpected:" in x][:1]
            failed.append("%s (round %d): deskmail ingest: %s%s" % (
                label, round_no, "; ".join(res.get("failures") or ["ingest.py exit %d" % r.returncode]),
                " (%s)" % why[0].split("unexpected:", 1)[1].strip() if why else ""))
        # catch-up: the consumer's cursor at the newest event, and no new event (rule-made ones included)
        deadline = t_ret + a.catchup_timeout
        t_caught = None
        while time.monotonic() < deadline:
            cur, newest, behind = consumer_lag(db)
            if behind == 0:
                t_caught = time.monotonic()
                break
            time.sleep(0.02)
        if t_caught is None:
            raise RuntimeError("the rules consumer did not catch up within %d s after the ingest (%s events behind)" % (
                a.catchup_timeout, behind))
        serve_cpu = server.cpu() - cpu0
        acted = db.execute("select actor, count(*), count(distinct ticket_id) from ticket_events "
                           "where actor like 'rule:%' group by actor").fetchall()
        n_events = db.execute("select count(*) from ticket_events").fetchone()[0]
        n_tickets = db.execute("select count(*) from tickets").fetchone()[0]
        rule_tickets = db.execute("select count(distinct ticket_id) from ticket_events where actor like 'rule:%'"
                                  ).fetchone()[0]
        kinds = db.execute("select kind, count(*) from ticket_events where actor like 'rule:%' group by kind "
                           "order by 2 desc").fetchall()
        runs = db.execute("select count(*) from rule_runs").fetchone()[0] if n_rules else 0
        disabled = db.execute("select name, disabled_reason from rules where disabled_reason is not null").fetchall() \
            if n_rules else []
        db.close()
        by_rule = {}
        for actor, c, t in acted:
            try:
                rid = int(actor.split(":", 1)[1])
            except ValueError:
                rid = -1
            by_rule[rid] = (c, t)
        rule_events = sum(c for c, _ in by_rule.values())
        tail_rate = behind0 / (t_caught - t_ret) if behind0 and t_caught > t_ret else float("nan")
        p("  %s: the rules consumer caught up %.0f ms after ingest returned (%s events behind then: %.0f events/s "
          "after the ingest; %d events in the log, %d tickets); serve CPU during ingest + catch-up %.2f s "
          "(%.2f ms per event)" % (
              label, 1000 * (t_caught - t_ret), behind0, tail_rate, n_events, n_tickets, serve_cpu,
              1000 * serve_cpu / max(1, n_events)))
        if n_rules:
            p("  %s: %d rule runs, %d rule events (%s) on %d tickets by %d of %d rules:" % (
                label, runs, rule_events, ", ".join("%s %d" % k for k in kinds), rule_tickets, len(by_rule), n_rules))
            for rid, (c, t) in sorted(by_rule.items(), key=lambda x: -x[1][0]):
                p("    rule %d %s: %d events on %d tickets" % (rid, names.get(rid, ("?", None))[0], c, t))
            wrong = [names.get(rid, ("rule %d" % rid, False))[0] for rid in by_rule if not names.get(rid, (0, False))[1]]
            if wrong:
                failed.append("%s: rules meant to match nothing acted: %s" % (label, ", ".join(wrong[:5])))
            if rule_events == 0:
                failed.append("%s: no rule acted (no event with actor rule:*): the figure would not measure rules "
                              "at work" % label)
            for name, why in disabled:
                p("  %s: WARNING: rule %s was switched off: %s" % (label, name, why))
        elif rule_events:
            failed.append("%s: %d rule events without rules" % (label, rule_events))
        out = {"label": label, "rules": n_rules, "rate": res["msg_per_s"], "wall": res["wall_s"],
               "messages": res["messages"], "catchup_ms": 1000 * (t_caught - t_ret), "behind": behind0,
               "errors": res.get("outcomes", {}).get("error", 0), "rule_events": rule_events, "rules_acted": len(by_rule), "rule_tickets": rule_tickets,
               "tickets": n_tickets, "tail_rate": tail_rate, "cpu_per_event_ms": 1000 * serve_cpu / max(1, n_events), "summary": res["summary"], "newest_at_return": newest0}
    except (RuntimeError, OSError, sqlite3.Error, ValueError, KeyError) as e:
        failed.append("%s: %s" % (label, e))
    finally:
        peak, errs = stop_serve(server, failed, label)
        if out is not None:
            out["rss"] = peak
            out["serve_errors"] = len(errs)
    return out


def phase_ingest(a, result, failed):
    variants = [("no rules", 0), ("%d rules" % a.rules, a.rules)]
    runs = {0: [], a.rules: []}
    for rnd in range(1, a.rounds + 1):
        order = variants if rnd % 2 == 1 else list(reversed(variants))
        for label, n in order:
            p("ingest%s: %s: fresh SQLite database, serve, %s" % (
                " round %d" % rnd if a.rounds > 1 else "", label, "no rules" if n == 0 else "%d event rules" % n))
            r = ingest_variant(a, label, n, rnd, failed)
            if r is None:
                return
            runs[n].append(r)
    base, with_rules = runs[0], runs[a.rules]
    r0 = statistics.median(r["rate"] for r in base)
    r1 = statistics.median(r["rate"] for r in with_rules)
    ratio = r1 / r0 if r0 else 0.0
    med = " (median of %d rounds)" % a.rounds if a.rounds > 1 else ""
    n = base[0]["messages"]
    if a.rounds > 1:
        result("rules ingest: rounds, msg/s: no rules %s; %d rules %s" % (
            " / ".join("%.0f" % r["rate"] for r in base), a.rules, " / ".join("%.0f" % r["rate"] for r in with_rules)))
    errs = sum(r["errors"] for r in base + with_rules)
    result("rules ingest: %d mails, SQLite, serve running: no rules %.0f msg/s, %d event rules %.0f msg/s%s = %.0f %% "
           "(target >= %.0f %%)%s%s" % (
               n, r0, a.rules, r1, med, 100 * ratio, 100 * RATIO_TARGET,
               "" if ratio >= RATIO_TARGET else "  BELOW TARGET",
               "  [%d mails ended in error: see FAILED]" % errs if errs else ""))
    last = with_rules[-1]
    result("rules ingest: %d rules: %d rule events on %d of %d tickets by %d rules; the rules consumer caught up "
           "%s ms after the ingest returned (no rules: %s ms)" % (
               a.rules, last["rule_events"], last["rule_tickets"], last["tickets"], last["rules_acted"],
               " / ".join("%.0f" % r["catchup_ms"] for r in with_rules),
               " / ".join("%.0f" % r["catchup_ms"] for r in base)))
    result("rules ingest: the rules consumer after the ingest: %s events/s with %d rules (serve CPU %s ms per event), "
           "%s events/s without (%s ms)" % (
               " / ".join("%.0f" % r["tail_rate"] for r in with_rules), a.rules,
               " / ".join("%.2f" % r["cpu_per_event_ms"] for r in with_rules),
               " / ".join("%.0f" % r["tail_rate"] for r in base),
               " / ".join("%.2f" % r["cpu_per_event_ms"] for r in base)))
    result("rules ingest: deskmail serve peak RSS %.0f MB with %d rules, %.0f MB without" % (
        max(r["rss"] for r in with_rules), a.rules, max(r["rss"] for r in base)))


# --- 2. time rules over many tickets ----------------------------------------------------------------------

def healthz_scheduler(api):
    st, j = api.get("/healthz")
    if st != 200 or not isinstance(j, dict):
        raise RuntimeError("/healthz answered %d: %s" % (st, str(j)[:300]))
    return j.get("rules_scheduler") or {}


def phase_schedule(a, result, failed):
    work = os.path.join(a.work, "schedule")
    os.makedirs(work, exist_ok=True)
    mailboxes = [("support", "support@example.test"), ("billing", "billing@example.test")]
    port = bl.free_port()
    config = make_config(work, port, mailboxes)
    dbfile = os.path.join(work, "deskmail.db")
    t0 = time.monotonic()
    bl.cli(a.bin, config, "migrate")
    seed_json = os.path.join(work, "seed.json")
    r = subprocess.run([sys.executable, os.path.join(HERE, "seed_web.py"), "--db", dbfile,
                        "--tickets", str(a.tickets), "--messages", str(a.messages), "--seed", str(a.seed),
                        "--json", seed_json, "--mailboxes", ",".join("%s=%s" % m for m in mailboxes)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        failed.append("seed_web.py failed:\n%s%s" % (r.stdout, r.stderr))
        return
    p("  " + r.stdout.strip())
    t1 = time.monotonic()
    bl.cli(a.bin, config, "reindex")
    p("  search index built by `deskmail reindex` in %.1f s; seeding in all %.1f s" % (
        time.monotonic() - t1, time.monotonic() - t0))
    db = ro(dbfile)
    n_tickets = db.execute("select count(*) from tickets").fetchone()[0]
    by_status = dict(db.execute("select status, count(*) from tickets group by status").fetchall())
    db.close()
    p("  %d tickets: %s" % (n_tickets, json.dumps(by_status, sort_keys=True)))
    server, api = start_serve(a, work, config, port)
    try:
        # the pass serve runs at start (no rules yet), so the first measured pass is the one after a save
        deadline = time.monotonic() + 60
        while healthz_scheduler(api).get("state") == "not_run_yet":
            if time.monotonic() > deadline:
                raise RuntimeError("the rules scheduler did not run within 60 s of serve's start")
            time.sleep(0.2)
        s = healthz_scheduler(api)
        p("  scheduler's first pass (no rules): %s" % json.dumps(s, sort_keys=True))
        for what, rule in SCHEDULE_RULES:
            before = s.get("last_run_at")
            t_save = time.time()
            tm = time.monotonic()
            st, j = api.request("POST", "/api/v1/rules", rule)
            if st != 201:
                raise RuntimeError("POST /api/v1/rules (%s) answered %d: %s" % (rule["name"], st, str(j)[:400]))
            rid = j["id"]
            deadline = tm + a.pass_timeout
            while True:
                s = healthz_scheduler(api)
                at = parse_ts(s.get("last_run_at"))
                # the pass that started after the save (a pass records its start second as last_run_at)
                if at is not None and s.get("last_run_at") != before and at >= int(t_save):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("no scheduler pass within %d s after saving rule %s (healthz: %s)" % (
                        a.pass_timeout, rule["name"], json.dumps(s)))
                if not server.alive():
                    raise RuntimeError("deskmail serve died:\n%s" % server.tail())
                time.sleep(0.1)
            seen_after = time.monotonic() - tm
            ms = s.get("last_duration_ms")
            acted = s.get("last_acted")
            tp = time.monotonic()
            st, pv = api.request("POST", "/api/v1/rules/%d/preview" % rid)
            preview_ms = 1000 * (time.monotonic() - tp)
            if st != 200:
                raise RuntimeError("POST /api/v1/rules/%d/preview answered %d: %s" % (rid, st, str(pv)[:300]))
            scanned = by_status.get("pending", 0) if what == "with status prefilter" else \
                n_tickets - by_status.get("merged", 0)
            p("  rule %d %r (%s): pass seen %.1f s after the save; healthz %s; dry run %.0f ms, %s matches" % (
                rid, rule["name"], what, seen_after, json.dumps(s, sort_keys=True), preview_ms, pv.get("matches")))
            if acted:
                failed.append("schedule: rule %s acted on %s tickets (it should match none)" % (rule["name"], acted))
            if ms is None:
                failed.append("schedule: /healthz shows no last_duration_ms after rule %s" % rule["name"])
                ms = float("nan")
            result("rules schedule: %d tickets, one time rule %s (reads ~%d tickets), matching none: pass "
                   "last_duration_ms %s ms (target <= %d ms)%s; its dry run %.0f ms" % (
                       n_tickets, what, scanned, ms, PASS_MS_TARGET,
                       "" if ms <= PASS_MS_TARGET else "  BELOW TARGET", preview_ms))
            st, j = api.request("DELETE", "/api/v1/rules/%d" % rid)
            if st != 200:
                raise RuntimeError("DELETE /api/v1/rules/%d answered %d: %s" % (rid, st, str(j)[:300]))
    except (RuntimeError, OSError, sqlite3.Error, ValueError, KeyError) as e:
        failed.append("schedule: %s" % e)
    finally:
        peak, _ = stop_serve(server, failed, "schedule")
    result("rules schedule: deskmail serve peak RSS %.0f MB (%d tickets)" % (peak, n_tickets))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mail", help="a gen_mail.py directory (phase ingest)")
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--phases", default="ingest,schedule")
    ap.add_argument("--catchup-timeout", type=int, default=300)
    ap.add_argument("--pass-timeout", type=int, default=120)
    ap.add_argument("--summary")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    phases = [x for x in a.phases.replace(" ", ",").split(",") if x]
    for ph in phases:
        if ph not in ("ingest", "schedule"):
            sys.exit("unknown phase %s (ingest, schedule)" % ph)
    if "ingest" in phases and not a.mail:
        sys.exit("--mail is needed for the ingest phase")
    if a.rules < 1 or a.rounds < 1:
        sys.exit("--rules and --rounds must be at least 1")
    summary, failed = [], []

    def result(line):
        summary.append(line)
        p(line)

    p("machine: %s; load average %s" % (bl.machine_label(), bl.loadavg()))
    try:
        if "ingest" in phases:
            phase_ingest(a, result, failed)
        if "schedule" in phases:
            p("schedule: fresh SQLite database, %d tickets / %d messages seeded, serve, time rules one at a time" % (
                a.tickets, a.messages))
            phase_schedule(a, result, failed)
    except (RuntimeError, OSError, sqlite3.Error) as e:
        failed.append(str(e))
    for f in failed:
        result("rules: FAILED: %s" % f)
    if a.summary:
        with open(a.summary, "w") as f:
            f.write("\n".join(summary) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
