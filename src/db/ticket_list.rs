//! Lists of tickets: one page of a filter in its order, the total from maintained counts or the query, and the
//! search's bound.

use super::ticket_filter::{MailboxHint, TicketFilter, bind_all, search_terms, where_clause};
use super::tickets::{SELECT, TicketListRow};
use super::{Db, Result};
use sqlx::AssertSqlSafe;

/// From this many matching tickets in the allowed mailboxes on, a list walks the time order (see `list_tickets`).
const BROAD_MATCHES: i64 = 2000;

/// How many tickets a list has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListTotal {
    pub count: i64,
    /// A search matched more messages than it looks at ([`super::ticket_filter::SEARCH_CAP`]): `count` is of the
    /// tickets of the newest ones, and more match.
    pub capped: bool,
}

impl Db {
    /// One page of tickets matching `f`, in its order, with the total count.
    pub async fn list_tickets(&self, f: &TicketFilter) -> Result<(Vec<TicketListRow>, ListTotal)> {
        let maintained = self.maintained_total(f).await?;
        // Every status and many matches in the allowed mailboxes: walking the time order and skipping other
        // mailboxes' tickets finds a page at once, while the mailbox index would have every match sorted first
        // (8 ms per list API call for an agent seeing 90,000 of 100,000 tickets). With a status filter the
        // (mailbox, status, updated_at) index serves both condition and order; with few matches it is better too.
        let broad = f.mailbox_ids.is_some() && f.statuses.is_empty() && maintained.is_some_and(|n| n >= BROAD_MATCHES);
        let hint = if broad { MailboxHint::Broad } else { MailboxHint::Indexed };
        let search = match f.query.as_deref() {
            Some(q) => self.search_hits(q).await?,
            None => None,
        };
        let w = where_clause(f, self.backend(), hint, search.as_ref());
        let per_page = f.per_page.clamp(1, 200) as i64;
        let offset = (f.page.max(1) as i64 - 1) * per_page;
        let order = f.sort.sql();
        // The page's ids first, from the tickets alone (for the default views an index-only scan and sort),
        // then the joins for those rows only: joining every matching ticket before the sort cost ~20-30 ms
        // for 15,000 open tickets (scripts/bench web). Without a maintained count, the same query counts
        // the matches (a window), so a search runs once per page, not twice.
        // A window count would visit every match: only for filters without a maintained count.
        let count = if maintained.is_some() { "0" } else { "count(*) over ()" };
        let ids_sql = AssertSqlSafe(format!(
            "select t.id, {count} from {} where {} order by {order} limit {per_page} offset {offset}",
            w.from(),
            w.sql()
        ));
        // A search's statement on SQLite holds its hits, so it is not kept prepared (it would never be used again).
        let keep = search.is_none() || self.backend() == super::Backend::Postgres;
        let hits = bind_all(sqlx::query_as::<_, (i64, i64)>(ids_sql).persistent(keep), &w.binds)
            .fetch_all(self.pool())
            .await?;
        let total = match (maintained, hits.first()) {
            (Some(n), _) => n,
            (None, Some((_, n))) => *n,
            (None, None) if offset == 0 => 0,
            (None, None) => {
                let sql = AssertSqlSafe(format!("select count(*) from {} where {}", w.from(), w.sql()));
                bind_all(sqlx::query_as::<_, (i64,)>(sql).persistent(keep), &w.binds).fetch_one(self.pool()).await?.0
            }
        };
        let capped = search.is_some_and(|s| s.capped);
        let rows = self.tickets_by_ids(&hits.iter().map(|(id, _)| *id).collect::<Vec<_>>(), order).await?;
        Ok((rows, ListTotal { count: total, capped }))
    }

    /// Tickets by id, in `order` (an `order by` clause of [`super::ticket_filter::Sort`]).
    async fn tickets_by_ids(&self, ids: &[i64], order: &str) -> Result<Vec<TicketListRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = AssertSqlSafe(format!("{SELECT} where t.id in ({}) order by {order}", marks.join(", ")));
        let mut q = sqlx::query_as::<_, TicketListRow>(sql);
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// The total from the maintained per-status counts (per mailbox when the list is limited to some), when the
    /// filter is by status (and those mailboxes) alone.
    async fn maintained_total(&self, f: &TicketFilter) -> Result<Option<i64>> {
        let status_only = f.assignee.is_none()
            && f.mailbox.is_none()
            && f.priority.is_none()
            && f.type_name.is_none()
            && f.sla.is_none()
            && !f.has_due
            && f.mine_or_unassigned.is_none()
            && f.tag.is_none()
            && f.requester_id.is_none()
            && f.order.is_none()
            && f.product.is_none()
            && f.query.as_deref().is_none_or(|q| search_terms(q).is_empty());
        if !status_only {
            return Ok(None);
        }
        let counts = match &f.mailbox_ids {
            Some(ids) => self.status_counts_in(ids).await?,
            None => self.status_counts().await?,
        };
        Ok(Some(
            counts
                .iter()
                .filter(|(s, _)| f.statuses.is_empty() || f.statuses.iter().any(|x| x.as_str() == s))
                .map(|(_, n)| n)
                .sum(),
        ))
    }
}
