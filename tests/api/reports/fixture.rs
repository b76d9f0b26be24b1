//! Thirty tickets around the period 2026-02-02 (Mon) .. 2026-02-15 (Sun), written as rows with fixed timestamps:
//! tickets, replies and status changes (as the tickets layer writes them), SLA clocks under two policies (`vip` on
//! the office calendar, `std` 24×7), and satisfaction answers.

use crate::helpers::TestApp;
use deskmail::domain::{Status, TicketEvent};
use sqlx::AnyPool;
use std::collections::HashMap;

/// 2026-02-02T00:00:00Z, the period's first instant.
pub const S: i64 = 1_769_990_400;
const D: i64 = 86_400;

/// Day `d` of the period (0 = Mon 2 Feb), `h:m:s` UTC.
pub const fn at(d: i64, h: i64, m: i64, s: i64) -> i64 {
    S + d * D + h * 3_600 + m * 60 + s
}

/// Office hours 09:00–17:00 Berlin time (08:00–16:00 UTC in February), Mon–Fri, Thu 12 Feb a holiday.
pub const OFFICE: &str = r#"{"time_zone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]],
    "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]],
    "fri": [["09:00", "17:00"]]}, "holidays": ["2026-02-12"]}"#;

/// A ticket: number, mailbox, assignee (`ana`/`ben` @example.test), type, creation, status now, clock.
type Ticket = (
    i64,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    i64,
    &'static str,
    Option<(&'static str, &'static str)>,
);

use Status::{Closed, Merged, New, Open, Pending, Resolved};
const VIP_MET: Option<(&str, &str)> = Some(("vip", "met"));
const STD_MET: Option<(&str, &str)> = Some(("std", "met"));
const STD_BREACHED: Option<(&str, &str)> = Some(("std", "breached"));

#[rustfmt::skip]
pub const TICKETS: [Ticket; 30] = [
    (1, "support", Some("ana"), Some("refund"), S - 10 * D, "open", STD_BREACHED),
    (2, "sales", Some("ben"), Some("question"), S - 5 * D, "resolved", None),
    (3, "support", None, None, S - 3 * D, "resolved", None),
    (4, "sales", Some("ana"), Some("refund"), S - 2 * D, "closed", None),
    (5, "sales", Some("ben"), Some("question"), S + 14 * D, "new", None),
    (6, "support", Some("ana"), Some("refund"), at(0, 15, 0, 0), "resolved", VIP_MET),
    (7, "support", Some("ana"), Some("refund"), at(4, 15, 30, 0), "resolved", VIP_MET),
    (8, "sales", Some("ben"), Some("question"), at(9, 14, 0, 0), "open", Some(("vip", "breached"))),
    (9, "sales", Some("ben"), Some("refund"), at(5, 10, 0, 0), "closed", VIP_MET),
    (10, "support", Some("ana"), Some("question"), at(0, 9, 0, 0), "closed", STD_MET),
    (11, "support", Some("ana"), Some("question"), at(1, 10, 0, 0), "resolved", STD_MET),
    (12, "support", Some("ben"), None, at(2, 8, 0, 0), "resolved", STD_BREACHED),
    (13, "support", Some("ben"), Some("refund"), at(2, 12, 0, 0), "closed", STD_MET),
    (14, "support", None, None, at(3, 9, 0, 0), "new", None),
    (15, "support", None, Some("refund"), at(3, 10, 0, 0), "merged", None),
    (16, "sales", Some("ana"), Some("question"), at(4, 9, 0, 0), "resolved", STD_MET),
    (17, "sales", Some("ana"), Some("question"), at(6, 20, 0, 0), "resolved", STD_BREACHED),
    (18, "sales", Some("ben"), Some("refund"), at(7, 9, 0, 0), "pending", Some(("std", "paused"))),
    (19, "sales", Some("ben"), None, at(8, 10, 0, 0), "resolved", STD_MET),
    (20, "support", Some("ana"), Some("refund"), at(8, 11, 0, 0), "resolved", None),
    (21, "support", Some("ana"), Some("refund"), at(9, 9, 0, 0), "open", Some(("std", "ok"))),
    (22, "support", Some("ben"), Some("question"), at(10, 14, 0, 0), "resolved", STD_MET),
    (23, "support", Some("ben"), Some("question"), at(11, 8, 0, 0), "resolved", STD_MET),
    (24, "sales", None, None, at(12, 10, 0, 0), "new", None),
    (25, "sales", Some("ana"), Some("refund"), at(12, 12, 0, 0), "resolved", STD_MET),
    (26, "sales", Some("ben"), Some("question"), at(13, 23, 0, 0), "new", None),
    (27, "support", Some("ana"), Some("question"), at(1, 8, 0, 0), "resolved", STD_MET),
    (28, "support", Some("ben"), Some("refund"), at(5, 12, 0, 0), "resolved", None),
    (29, "sales", Some("ben"), Some("question"), at(0, 0, 0, 0), "closed", STD_MET),
    (30, "support", None, None, at(13, 23, 59, 59), "new", None),
];

/// Status changes: ticket, instant, from, to.
#[rustfmt::skip]
const CHANGES: &[(i64, i64, Status, Status)] = &[
    (2, at(1, 2, 0, 0), Open, Resolved),
    (3, S - D, New, Resolved),
    (4, S - D, Open, Resolved), (4, at(3, 0, 0, 0), Resolved, Open), (4, at(9, 0, 0, 0), Open, Closed),
    (6, at(2, 10, 0, 0), Open, Resolved),
    (7, at(7, 12, 0, 0), Open, Resolved), (7, at(8, 9, 0, 0), Resolved, Open), (7, at(8, 10, 0, 0), Open, Resolved),
    (9, at(7, 10, 0, 0), Open, Resolved), (9, at(8, 10, 0, 0), Resolved, Closed),
    (10, at(0, 11, 0, 0), Open, Resolved), (10, at(1, 11, 0, 0), Resolved, Closed),
    (11, at(1, 12, 0, 0), Open, Resolved),
    (12, at(3, 8, 0, 0), Open, Resolved),
    (13, at(2, 13, 0, 0), Open, Pending), (13, at(4, 12, 0, 0), Pending, Resolved),
    (13, at(5, 9, 0, 0), Resolved, Open), (13, at(6, 9, 0, 0), Open, Closed),
    (15, at(3, 11, 0, 0), New, Merged),
    (16, at(4, 9, 40, 0), Open, Resolved),
    (17, at(7, 8, 0, 0), Open, Resolved),
    (18, at(7, 9, 6, 0), Open, Pending),
    (19, at(9, 10, 0, 0), Open, Resolved),
    (20, at(8, 13, 0, 0), Open, Resolved),
    (21, at(10, 9, 0, 0), Open, Resolved), (21, at(11, 9, 0, 0), Resolved, Open),
    (22, at(10, 15, 0, 0), Open, Resolved),
    (23, at(15, 8, 0, 0), Open, Resolved),
    (25, at(13, 23, 59, 0), Open, Resolved),
    (27, at(1, 8, 2, 30), Open, Resolved),
    (28, at(6, 13, 0, 0), Open, Resolved),
    (29, at(0, 0, 20, 0), Open, Resolved), (29, at(2, 0, 0, 0), Resolved, Closed),
];

/// Replies sent: ticket, instant, actor (`system` and `rule:1` never count as a first response).
#[rustfmt::skip]
const REPLIES: &[(i64, i64, &str)] = &[
    (6, at(1, 9, 0, 0), "ana@example.test"), (7, at(7, 8, 30, 0), "ana@example.test"),
    (8, at(11, 9, 0, 0), "ben@example.test"), (9, at(5, 11, 0, 0), "ben@example.test"),
    (10, at(0, 9, 30, 0), "ana@example.test"), (11, at(1, 10, 0, 0), "system"), (11, at(1, 10, 5, 0), "rule:1"),
    (11, at(1, 10, 45, 0), "ana@example.test"), (12, at(2, 10, 0, 0), "ben@example.test"),
    (16, at(4, 9, 10, 0), "ana@example.test"), (17, at(7, 7, 0, 0), "ana@example.test"),
    (18, at(7, 9, 5, 0), "ben@example.test"), (19, at(8, 16, 0, 0), "ben@example.test"),
    (20, at(8, 11, 20, 0), "ana@example.test"), (21, at(9, 10, 0, 0), "ana@example.test"),
    (22, at(10, 14, 15, 0), "ben@example.test"), (23, at(11, 8, 40, 0), "ben@example.test"),
    (25, at(12, 12, 30, 0), "ana@example.test"), (27, at(1, 8, 1, 30), "ana@example.test"),
    (28, at(6, 12, 0, 0), "ben@example.test"), (29, at(0, 0, 10, 0), "ben@example.test"),
];

/// Satisfaction answers: ticket, rating, instant (the one on #10 is at the period's end: outside).
pub const RATINGS: &[(i64, &str, i64)] = &[
    (3, "good", at(2, 12, 0, 0)),
    (19, "good", at(9, 12, 0, 0)),
    (20, "good", at(8, 14, 0, 0)),
    (21, "bad", at(10, 10, 0, 0)),
    (22, "good", at(10, 16, 0, 0)),
    (10, "bad", S + 14 * D),
    (12, "bad", at(3, 9, 0, 0)),
];

/// Runs `sql` with text arguments (numbers cast in the SQL); the first column of its row when it returns one.
async fn exec(pool: &AnyPool, sql: &str, args: &[Option<String>]) -> Option<i64> {
    if !sql.contains("returning") && !sql.starts_with("select") {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for a in args {
            q = q.bind(a.clone());
        }
        q.execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        return None;
    }
    let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()));
    for a in args {
        q = q.bind(a.clone());
    }
    q.fetch_optional(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn n(v: i64) -> Option<String> {
    Some(v.to_string())
}

/// Writes the tickets and their events, waits until the SLA worker has read past them (so it never recomputes
/// these clocks), then writes the calendar, the policies, the clocks and the answers. Returns ids by number.
pub async fn write(app: &TestApp) -> HashMap<i64, i64> {
    let db = &app.services.db;
    let pool = db.pool();
    let agent = deskmail::domain::Role::Agent;
    let mut users = HashMap::new();
    for who in ["ana", "ben"] {
        users.insert(who, db.create_user(&format!("{who}@example.test"), who, agent, "x").await.unwrap());
    }
    for ty in ["refund", "question"] {
        let sql = "insert into ticket_types (name, title, created_at) values ($1, $1, 0)";
        exec(pool, sql, &[Some(ty.into())]).await;
    }
    let sql = "insert into customers (email, name, created_at) values ('c@example.test', 'C', 0) returning id";
    let customer = exec(pool, sql, &[]).await.unwrap();
    let mut ids = HashMap::new();
    for (num, mailbox, assignee, ty, created, status, _) in TICKETS {
        let mb = db.mailbox_by_name(mailbox).await.unwrap().expect("mailbox").id;
        let sql = "insert into tickets (number, mailbox_id, subject, status, priority, requester_id, assignee_id, \
                   type_name, message_count, created_at, updated_at) \
                   values (cast($1 as bigint), cast($2 as bigint), 'report', $3, 'normal', cast($4 as bigint), \
                   cast($5 as bigint), $6, 1, cast($7 as bigint), cast($7 as bigint)) returning id";
        let who = assignee.map(|a| users[a].to_string());
        let args = [n(1000 + num), n(mb), Some(status.into()), n(customer), who, ty.map(Into::into), n(created)];
        ids.insert(num, exec(pool, sql, &args).await.unwrap());
    }
    let mut events: Vec<(i64, i64, String, TicketEvent)> = Vec::new();
    for &(t, when, from, to) in CHANGES {
        events.push((t, when, "ana@example.test".into(), TicketEvent::StatusChanged { from, to }));
    }
    for &(t, when, actor) in REPLIES {
        let reply = TicketEvent::ReplySent { message: 0, to: vec!["c@example.test".into()], cc: vec![] };
        events.push((t, when, actor.into(), reply));
    }
    events.sort_by_key(|e| e.1);
    for (t, when, actor, e) in events {
        let sql = "insert into ticket_events (ticket_id, at, actor, kind, detail, data) \
                   values (cast($1 as bigint), cast($2 as bigint), $3, $4, '', $5) returning id";
        let args = [n(ids[&t]), n(when), Some(actor), Some(e.kind().as_str().into()), Some(e.data().to_string())];
        exec(pool, sql, &args).await;
    }
    sla_read_past_events(pool).await;
    setup_clocks(app, &ids, &users).await;
    ids
}

async fn sla_read_past_events(pool: &AnyPool) {
    let last = exec(pool, "select max(id) from ticket_events", &[]).await.unwrap();
    let sql = "select last_id from event_consumers where name = 'sla'";
    for _ in 0..300 {
        if exec(pool, sql, &[]).await.is_some_and(|id| id >= last) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the SLA worker did not read the events in 30 s");
}

async fn setup_clocks(app: &TestApp, ids: &HashMap<i64, i64>, users: &HashMap<&str, i64>) {
    let pool = app.services.db.pool();
    let sql = "insert into calendars (name, spec, updated_at) values ('office', $1, 0)";
    exec(pool, sql, &[Some(OFFICE.into())]).await;
    for (name, position, calendar) in [("vip", 1, Some("office")), ("std", 2, None)] {
        let sql = "insert into sla_policies (name, position, calendar, conditions, first_response_minutes, \
                   warn_before_minutes, updated_at) values ($1, cast($2 as bigint), $3, '{\"all\": []}', 120, 0, 0)";
        exec(pool, sql, &[Some(name.into()), n(position), calendar.map(Into::into)]).await;
    }
    for (num, .., clock) in TICKETS {
        let Some((policy, state)) = clock else { continue };
        let sql = "insert into ticket_sla (ticket_id, policy, state, paused_minutes, raised, updated_at) \
                   values (cast($1 as bigint), $2, $3, 0, '', 0)";
        exec(pool, sql, &[n(ids[&num]), Some(policy.into()), Some(state.into())]).await;
    }
    for (i, &(t, rating, when)) in RATINGS.iter().enumerate() {
        let (_, mailbox, assignee, ..) = TICKETS[t as usize - 1];
        let mb = app.services.db.mailbox_by_name(mailbox).await.unwrap().expect("mailbox").id;
        let sql = "insert into satisfaction (ticket_id, resolution_id, rating, comment, agent_id, mailbox_id, \
                   created_at) values (cast($1 as bigint), cast($2 as bigint), $3, '', cast($4 as bigint), \
                   cast($5 as bigint), cast($6 as bigint))";
        let agent = assignee.map(|a| users[a].to_string());
        exec(pool, sql, &[n(ids[&t]), n(i as i64), Some(rating.into()), agent, n(mb), n(when)]).await;
    }
}
