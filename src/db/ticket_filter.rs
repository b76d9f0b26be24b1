//! The ticket list's filter: statuses, assignee, mailbox, priority, type, SLA state, tag, links, full-text search,
//! order; as SQL.

use super::search_hits::SearchHits;
use crate::domain::{Priority, Status};
use sqlx::Any;

/// Filters of the ticket list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    /// `Some(None)` = unassigned, `Some(Some(id))` = assigned to that user.
    pub assignee: Option<Option<i64>>,
    pub mailbox: Option<String>,
    /// Only tickets of these mailboxes (what the user may see, or a team's); `None` means all.
    pub mailbox_ids: Option<Vec<i64>>,
    pub priority: Option<Priority>,
    /// Tickets of this type (by name).
    pub type_name: Option<String>,
    /// Tickets whose SLA clock is in this state (`warning`, `breached`, …).
    pub sla: Option<String>,
    /// Only tickets with a running SLA target (a due time).
    pub has_due: bool,
    /// Assigned to this user or to nobody (the dashboard's "Due soon" view); `assignee` narrows further.
    pub mine_or_unassigned: Option<i64>,
    pub tag: Option<String>,
    pub requester_id: Option<i64>,
    /// Linked to this order (by number).
    pub order: Option<String>,
    /// Linked to this product (directly or through an order line), by reference.
    pub product: Option<String>,
    /// Full-text search over subjects, bodies and senders (and `#1234` / `1234` for a number).
    pub query: Option<String>,
    pub sort: Sort,
    pub page: u32,
    pub per_page: u32,
}

/// Orders of the ticket list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Latest activity first.
    #[default]
    Updated,
    /// Oldest activity first (what waits longest).
    UpdatedAsc,
    Created,
    /// Urgent first, then latest activity.
    Priority,
    /// The nearest SLA due time first; tickets without a running target last.
    Due,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "updated" => Some(Self::Updated),
            "oldest" => Some(Self::UpdatedAsc),
            "created" => Some(Self::Created),
            "priority" => Some(Self::Priority),
            "due" => Some(Self::Due),
            _ => None,
        }
    }

    pub(super) fn sql(self) -> &'static str {
        match self {
            Self::Updated => "t.updated_at desc, t.id desc",
            Self::UpdatedAsc => "t.updated_at asc, t.id asc",
            Self::Created => "t.created_at desc, t.id desc",
            Self::Due => "t.sla_due asc, t.id asc",
            Self::Priority => {
                "case t.priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end, t.updated_at desc, t.id desc"
            }
        }
    }
}

/// Words of a search, lower-cased, letters and digits only (safe to splice into FTS syntax).
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase().chars().take(40).collect())
        .take(8)
        .collect()
}

/// A `where` clause under construction with its binds in order.
#[derive(Default)]
pub(super) struct Where {
    clauses: Vec<String>,
    pub(super) binds: Vec<Bind>,
    /// The tickets a search found, as a subquery the planner keeps apart (see [`search_clause`]).
    searched: Option<String>,
}

pub(super) enum Bind {
    Text(String),
    Int(i64),
}

impl Where {
    fn arg(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    pub(super) fn sql(&self) -> String {
        if self.clauses.is_empty() { "1 = 1".into() } else { self.clauses.join(" and ") }
    }

    /// What the list selects from: the tickets, or a search's tickets (aliased `t` either way).
    pub(super) fn from(&self) -> String {
        match &self.searched {
            Some(sub) => format!("({sub}) t"),
            None => "tickets t".into(),
        }
    }
}

/// How the mailbox condition is written for the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MailboxHint {
    /// Let an index on the mailbox serve it (few matches).
    Indexed,
    /// So many tickets match in the allowed mailboxes that the time-ordered index should lead: the condition is
    /// written so that no index serves it.
    Broad,
}

/// The filter as a `where` clause with its binds; a search by its `hits` (see [`super::search_hits`]).
pub(super) fn where_clause(
    f: &TicketFilter,
    backend: super::Backend,
    hint: MailboxHint,
    hits: Option<&SearchHits>,
) -> Where {
    let mut w = Where::default();
    if !f.statuses.is_empty() {
        let marks: Vec<String> = f.statuses.iter().map(|s| w.arg(Bind::Text(s.as_str().into()))).collect();
        let column = if walks_time_order(f, backend) { "+t.status" } else { "t.status" };
        w.clauses.push(format!("{column} in ({})", marks.join(", ")));
    }
    if let Some(mailbox) = &f.mailbox {
        let a = w.arg(Bind::Text(mailbox.clone()));
        w.clauses.push(format!("t.mailbox_id = (select id from mailboxes where name = {a})"));
    }
    if let Some(ids) = &f.mailbox_ids {
        let marks: Vec<String> = ids.iter().map(|id| w.arg(Bind::Int(*id))).collect();
        let column = if hint == MailboxHint::Broad { "+t.mailbox_id" } else { "t.mailbox_id" };
        w.clauses.push(if marks.is_empty() { "1 = 0".into() } else { format!("{column} in ({})", marks.join(", ")) });
    }
    if let Some(p) = f.priority {
        let a = w.arg(Bind::Text(p.as_str().into()));
        w.clauses.push(format!("t.priority = {a}"));
    }
    if let Some(name) = &f.type_name {
        let a = w.arg(Bind::Text(name.clone()));
        w.clauses.push(format!("t.type_name = {a}"));
    }
    if let Some(state) = &f.sla {
        let a = w.arg(Bind::Text(state.clone()));
        w.clauses.push(format!("t.sla_state = {a}"));
    }
    if f.has_due {
        let a = w.arg(Bind::Int(super::sla::NO_DUE));
        w.clauses.push(format!("t.sla_due < {a}"));
    }
    if let Some(id) = f.mine_or_unassigned {
        let a = w.arg(Bind::Int(id));
        w.clauses.push(format!("(t.assignee_id = {a} or t.assignee_id is null)"));
    }
    if let Some(tag) = &f.tag {
        let a = w.arg(Bind::Text(tag.clone()));
        w.clauses.push(format!("t.id in (select ticket_id from ticket_tags where tag = {a})"));
    }
    if let Some(number) = &f.order {
        let a = w.arg(Bind::Text(number.clone()));
        w.clauses.push(format!(
            "t.id in (select l.ticket_id from ticket_links l join orders o on o.id = l.target_id where l.kind = 'order' and o.number = {a})"
        ));
    }
    if let Some(r) = &f.product {
        let a = w.arg(Bind::Text(r.clone()));
        w.clauses.push(format!(
            "t.id in (select l.ticket_id from ticket_links l join products p on p.id = l.target_id where l.kind = 'product' and p.ref = {a} \
             union select l.ticket_id from ticket_links l join order_lines ol on ol.id = l.target_id where l.kind = 'order_line' and ol.product_ref = {a})"
        ));
    }
    if let Some(id) = f.requester_id {
        let a = w.arg(Bind::Int(id));
        w.clauses.push(format!("t.requester_id = {a}"));
    }
    match f.assignee {
        Some(None) => w.clauses.push("t.assignee_id is null".into()),
        Some(Some(id)) => {
            let a = w.arg(Bind::Int(id));
            w.clauses.push(format!("t.assignee_id = {a}"));
        }
        None => {}
    }
    if let (Some(q), Some(hits)) = (f.query.as_deref(), hits) {
        search_clause(&mut w, q, hits, backend);
    }
    w
}

/// Whether SQLite should find a page of several statuses by walking the order's index (`updated_at`, `sla_due`) and
/// skipping other statuses' tickets, rather than through the `(status, …)` indexes: those give each status's tickets
/// in order, but SQLite does not merge them, so it read and sorted every match (all 150,000 active tickets of
/// 1,000,000 for the default view, scripts/bench scale). The statuses of a list are the recent ones (active) or
/// the many (resolved, closed), so the walk finds a page soon; the time index carries the status (migration 0024),
/// so the tickets skipped cost no table reads (at 1,000,000 tickets 2,385 were passed for the first page of the
/// active ones, the latest activity being mostly on closed tickets). With a mailbox condition the
/// `(mailbox_id, status, updated_at)` index stays in charge; PostgreSQL's planner weighs both ways by its statistics.
fn walks_time_order(f: &TicketFilter, backend: super::Backend) -> bool {
    backend == super::Backend::Sqlite
        && f.statuses.len() > 1
        && f.mailbox.is_none()
        && f.mailbox_ids.is_none()
        && matches!(f.sort, Sort::Updated | Sort::UpdatedAsc | Sort::Due)
}

/// How many matching messages a search looks at, the newest first. A common word matches a share of all mail, so
/// without a bound a search's work grew with the database (p99 17.8 ms at 100,000 tickets, 856 ms at 1,000,000:
/// scripts/bench scale); beyond it the list's total reads "N+" and the user narrows with another word or a filter.
pub const SEARCH_CAP: i64 = 2_000;

/// The search expression of `terms` (letters and digits only, see [`search_terms`]): every term as a prefix, all of
/// them required. PostgreSQL's is a `tsquery` literal, taken as written: `to_tsquery` would run the server's parser,
/// which splits some words the document keeps whole (`4e7b2c` → `4e7 <-> b2c`, a phrase that never matches).
pub(super) fn match_expr(terms: &[String], backend: super::Backend) -> String {
    match backend {
        super::Backend::Sqlite => terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" AND "),
        super::Backend::Postgres => terms.iter().map(|t| format!("'{t}':*")).collect::<Vec<_>>().join(" & "),
    }
}

/// The search's tickets: its hits (or, for a number, that ticket too), in a subquery with an offset, which the
/// planner does not merge into the list's query. As a condition of the list's query, PostgreSQL planned for a
/// handful of ids bound as one value and walked the time index testing every ticket against them (it takes the
/// page's limit for the work left, though the window count needs every row): 5 s at 100,000 tickets. Apart, the
/// ≤ 2,000 tickets are looked up and sorted, which does not grow with the database.
/// - PostgreSQL takes them as one array, so the statement stays the same and is planned once per connection: as
///   2,000 numbers written out it cost ~5 ms to parse and plan at every search of 1,000,000 tickets.
/// - SQLite's are written out (it plans quickly, and it numbers its parameters in the order they appear, which
///   puts this subquery's before the `where` clause's).
fn search_clause(w: &mut Where, q: &str, hits: &SearchHits, backend: super::Backend) {
    let number = q.trim().trim_start_matches('#').parse::<i64>().ok();
    let listed = hits.tickets.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let found = match backend {
        _ if hits.tickets.is_empty() => "1 = 0".to_string(),
        super::Backend::Postgres => format!("t.id = any({}::bigint[])", w.arg(Bind::Text(format!("{{{listed}}}")))),
        super::Backend::Sqlite => format!("t.id in ({listed})"),
    };
    let cond = match (number, backend) {
        (Some(n), super::Backend::Postgres) => format!("(t.number = {} or {found})", w.arg(Bind::Int(n))),
        (Some(n), super::Backend::Sqlite) => format!("(t.number = {n} or {found})"),
        (None, _) => found,
    };
    let fence = match backend {
        super::Backend::Sqlite => "limit -1 offset 0",
        super::Backend::Postgres => "offset 0",
    };
    w.searched = Some(format!("select * from tickets t where {cond} {fence}"));
}

pub(super) fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t.clone()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::{match_expr, search_terms};
    use crate::db::Backend;

    #[test]
    fn search_terms_are_plain_words() {
        assert_eq!(
            search_terms("Lampe \"kaputt\" c3@customer.example"),
            ["lampe", "kaputt", "c3", "customer", "example"]
        );
        assert_eq!(search_terms("*) OR 1=1 --"), ["or", "1", "1"]);
        assert!(search_terms("  ").is_empty());
    }

    #[test]
    fn every_term_is_a_required_prefix_written_as_is() {
        let terms = search_terms("4e7b2c Größe");
        assert_eq!(match_expr(&terms, Backend::Postgres), "'4e7b2c':* & 'größe':*");
        assert_eq!(match_expr(&terms, Backend::Sqlite), "\"4e7b2c\"* AND \"größe\"*");
    }
}
