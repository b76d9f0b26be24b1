//! A search's hits: the tickets of the newest matching messages (at most [`SEARCH_CAP`]) and whether more match,
//! found once per list request before the list's own query.

use super::search_buckets::{BUCKET, bucket_of};
use super::ticket_filter::{SEARCH_CAP, match_expr, search_terms};
use super::{Backend, Db, Result};
use sqlx::AssertSqlSafe;
use std::future::Future;

/// The most ranges of the search index one PostgreSQL window reads (a branch of its statement each).
const MAX_WINDOW: i64 = 64;

/// What a search found.
#[derive(Debug)]
pub struct SearchHits {
    /// The tickets of the newest matching messages, each once, by id.
    pub tickets: Vec<i64>,
    /// More messages match than a search looks at: `tickets` are of the newest [`SEARCH_CAP`] only.
    pub capped: bool,
}

impl Db {
    /// The hits of the search `q`; `None` when it has no words.
    pub(super) async fn search_hits(&self, q: &str) -> Result<Option<SearchHits>> {
        let terms = search_terms(q);
        if terms.is_empty() {
            return Ok(None);
        }
        let expr = match_expr(&terms, self.backend());
        let hits = match self.backend() {
            Backend::Sqlite => self.sqlite_hits(&expr).await?,
            Backend::Postgres => self.postgres_hits(&expr).await?,
        };
        Ok(Some(hits))
    }

    /// FTS5 reads its matches in rowid (message id) order, so the newest come first without a sort, in one pass.
    async fn sqlite_hits(&self, expr: &str) -> Result<SearchHits> {
        let (ids,): (String,) = sqlx::query_as(
            "select coalesce(group_concat(ticket_id, ','), '') from \
             (select ticket_id from messages_fts where messages_fts match $1 order by rowid desc limit $2)",
        )
        .bind(expr)
        .bind(SEARCH_CAP + 1)
        .fetch_one(self.pool())
        .await?;
        Ok(capped(id_list(&ids)))
    }

    /// The search index gives PostgreSQL its matches in no order, so taking the newest from one index over all
    /// messages meant reading every match (words in 0.5-4 % of 1,000,000 tickets: p99 1.8 s, scripts/bench scale).
    /// The index is in ranges of message ids instead (`search_buckets`), read newest first, window by window, the
    /// next window sized by how many the last one held: a common word is done in the newest range or two, a rare
    /// one fetches its few matches at once.
    async fn postgres_hits(&self, expr: &str) -> Result<SearchHits> {
        let (top,): (Option<i64>,) = sqlx::query_as("select max(id) from messages").fetch_one(self.pool()).await?;
        let found = newest_in_windows(top.unwrap_or(0), |lo, hi, limit| async move {
            let (ids,): (String,) = sqlx::query_as(AssertSqlSafe(window_sql(lo, hi, limit)))
                .bind(expr)
                // Planned for these values each time: a plan made for other words (a prepared statement's generic
                // plan) may walk the primary key for a rare word or fetch every match of a common one.
                .persistent(false)
                .fetch_one(self.pool())
                .await?;
            Ok(id_list(&ids))
        })
        .await?;
        Ok(capped(found))
    }
}

/// The tickets of the newest `limit` messages matching `$1` with `lo < id <= hi`, listed newest first: one branch
/// per range of the search index, its bounds written as constants so the planner can prove the range's partial
/// index applies (a range whose index is not built yet is read by the primary key).
fn window_sql(lo: i64, hi: i64, limit: i64) -> String {
    let branches: Vec<String> = (bucket_of(lo + 1)..=bucket_of(hi))
        .rev()
        .map(|k| {
            let (from, to) = (lo.max(k * BUCKET), hi.min((k + 1) * BUCKET));
            format!(
                "(select id, ticket_id from messages where search @@ $1::tsquery and id > {from} and id <= {to} \
                 order by id desc limit {limit})"
            )
        })
        .collect();
    format!(
        "select coalesce(string_agg(ticket_id::text, ',' order by id desc), '') from (select id, ticket_id from ({}) \
         w order by id desc limit {limit}) x",
        branches.join(" union all ")
    )
}

/// Up to `SEARCH_CAP + 1` matches from message id `top` down, window by window: `fetch(lo, hi, limit)` gives up to
/// `limit` matches with `lo < id <= hi`, newest first. Windows end on the search index's ranges: the first is the
/// newest message's range, each next one the whole ranges of [`next_span`] (at least one, at most [`MAX_WINDOW`]).
async fn newest_in_windows<F, Fut>(top: i64, mut fetch: F) -> Result<Vec<i64>>
where
    F: FnMut(i64, i64, i64) -> Fut,
    Fut: Future<Output = Result<Vec<i64>>>,
{
    let want = SEARCH_CAP + 1;
    let (mut found, mut hi) = (Vec::new(), top);
    let mut lo = bucket_of(top) * BUCKET;
    while hi > 0 && (found.len() as i64) < want {
        let got = fetch(lo, hi, want - found.len() as i64).await?;
        let span = next_span(hi - lo, got.len() as i64, want - found.len() as i64, lo);
        found.extend(got);
        hi = lo;
        lo = (hi - whole_ranges(span)).max(0);
    }
    Ok(found)
}

/// The next window's width after one of `span` ids held `got` of the `wanted` matches, with `left` ids below it:
/// all of them when at the same density they hold no more than the rest (every one is needed); else what holds the
/// rest at that density; eight times wider when the window held none. Matches beyond the rest are read for nothing
/// (fetching all below at up to four times the rest cost a rare word at 1,000,000 tickets ~5,000 messages for
/// ~2,000), while a window that falls short costs one more round trip.
fn next_span(span: i64, got: i64, wanted: i64, left: i64) -> i64 {
    let rest = wanted - got;
    if got > 0 && got.saturating_mul(left) / span.max(1) <= rest {
        return left;
    }
    if got == 0 || rest <= 0 {
        return span.saturating_mul(8);
    }
    span.saturating_mul(rest) / got
}

/// `span` ids as whole ranges of the search index, rounded down (at least one, at most [`MAX_WINDOW`]). A range's
/// branch reads every match in it whatever its limit, so a range begun for a few more matches costs a whole one:
/// rounded up (with a quarter to spare), a common word at 1,000,000 tickets read two ranges, ~5,000 messages, for
/// the ~1,800 it needed from the first. Rounded down, a window that falls short costs one more round trip instead.
fn whole_ranges(span: i64) -> i64 {
    (span / BUCKET).clamp(1, MAX_WINDOW) * BUCKET
}

/// Ids the database listed as one text (`1,2,3`): one row rather than 2,000, each of which costs a hand-off
/// between sqlx's SQLite worker thread and the request (a search at 100k took twice as long as with the list
/// inside the list's statement).
fn id_list(ids: &str) -> Vec<i64> {
    // The database wrote them from integer columns: there is nothing else to parse.
    ids.split(',').filter_map(|id| id.parse().ok()).collect()
}

/// The tickets of the first [`SEARCH_CAP`] of `found` (the tickets of up to one more matching messages, newest
/// first), and whether there were more.
fn capped(mut found: Vec<i64>) -> SearchHits {
    let capped = found.len() as i64 > SEARCH_CAP;
    found.truncate(SEARCH_CAP as usize);
    found.sort_unstable();
    found.dedup();
    SearchHits { tickets: found, capped }
}

#[cfg(test)]
mod tests {
    use super::{capped, id_list, newest_in_windows, next_span, whole_ranges, window_sql};
    use crate::db::search_buckets::BUCKET;
    use crate::db::ticket_filter::SEARCH_CAP;
    use std::sync::Mutex;

    /// The windows over messages `1..=top` of which those with `matches(id)` match; the found ids and the windows.
    fn search(top: i64, matches: impl Fn(i64) -> bool) -> (Vec<i64>, Vec<(i64, i64)>) {
        let windows = Mutex::new(Vec::new());
        let found = futures::executor::block_on(newest_in_windows(top, |lo, hi, limit| {
            windows.lock().unwrap().push((lo, hi));
            let got: Vec<i64> = (lo + 1..=hi).rev().filter(|id| matches(*id)).take(limit as usize).collect();
            async move { Ok(got) }
        }))
        .unwrap();
        (found, windows.into_inner().unwrap())
    }

    #[test]
    fn the_newest_matches_come_in_order_across_windows_without_gaps_or_repeats() {
        // One match in 200 ids needs ~1.5 ranges more, read a range at a time; one in 997 ~7.6 ranges: seven, then
        // one.
        for (every, rounds) in [(200, 3), (997, 3)] {
            let (found, windows) = search(5_000_000, |id| id % every == 0);
            let expected: Vec<i64> =
                (1..=5_000_000).rev().filter(|id| id % every == 0).take(SEARCH_CAP as usize + 1).collect();
            assert_eq!(found, expected, "every {every}");
            assert!(windows.windows(2).all(|w| w[1].1 == w[0].0), "adjacent windows: {windows:?}");
            assert_eq!(windows[0], (19 * BUCKET, 5_000_000), "the newest message's range");
            assert!(windows.iter().all(|(lo, _)| lo % BUCKET == 0), "on the ranges: {windows:?}");
            assert_eq!(windows.len(), rounds, "sized by the density: {windows:?}");
        }
        assert_eq!(
            search(5_000_000, |id| id % 997 == 0).1[1..],
            [(12 * BUCKET, 19 * BUCKET), (11 * BUCKET, 12 * BUCKET)]
        );
        assert_eq!(search(5_000_000, |id| id % 3001 == 0).1[1].0, 0, "the rest at once when all of it is needed");
        let windows = search(5_000_000, |id| id % 200 == 0).1;
        assert_eq!(windows[1..], [(18 * BUCKET, 19 * BUCKET), (17 * BUCKET, 18 * BUCKET)], "a range each");
    }

    #[test]
    fn a_common_word_is_done_in_the_first_window() {
        let (found, windows) = search(5_000_000, |id| id % 5 == 0);
        assert_eq!(found.len() as i64, SEARCH_CAP + 1);
        assert_eq!(windows.len(), 1);
    }

    #[test]
    fn a_rare_word_reads_every_window_down_to_the_first_message() {
        let (found, windows) = search(5_000_000, |id| id == 1 || id == 4_999_999);
        assert_eq!(found, [4_999_999, 1]);
        assert_eq!(windows.last().unwrap().0, 0);
        assert!(windows.len() <= 5, "{windows:?}");
        assert_eq!(search(0, |_| true).0, Vec::<i64>::new());
        assert_eq!(search(10, |_| true).0, (1..=10).rev().collect::<Vec<_>>());
    }

    #[test]
    fn a_window_reads_each_range_of_the_index_with_its_bounds_as_constants() {
        let sql = window_sql(0, 2 * BUCKET + 5, 7);
        let ranges = ["id > 524288 and id <= 524293", "id > 262144 and id <= 524288", "id > 0 and id <= 262144"];
        let at: Vec<usize> = ranges.iter().map(|r| sql.find(r).unwrap_or_else(|| panic!("{r} in {sql}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "newest first: {sql}");
        assert_eq!(sql.matches("limit 7").count(), 4, "each branch and the whole: {sql}");
        assert_eq!(window_sql(BUCKET, 2 * BUCKET, 1).matches("union all").count(), 0);
    }

    #[test]
    fn a_wide_window_is_cut_at_most_ranges() {
        // Nothing in the newest 20,000,000 ids: the windows grow eightfold, but no wider than MAX_WINDOW ranges.
        let (_, windows) = search(40_000_000, |id| id < 1_000);
        assert!(windows.iter().all(|(lo, hi)| hi - lo <= super::MAX_WINDOW * BUCKET), "{windows:?}");
        assert_eq!(windows.last().unwrap().0, 0);
    }

    #[test]
    fn the_hits_are_the_tickets_of_the_newest_matches_each_once() {
        let cap = SEARCH_CAP as usize;
        // Beyond the cap: a match of ticket 7, which has newer ones, and the only match of ticket 9.
        let mut found: Vec<i64> = std::iter::repeat_n(7, cap).collect();
        found.insert(1, 3);
        found.push(9);
        let hits = capped(found);
        assert_eq!((hits.tickets, hits.capped), (vec![3, 7], true));
        let hits = capped(vec![5, 2, 5]);
        assert_eq!((hits.tickets, hits.capped), (vec![2, 5], false));
    }

    #[test]
    fn a_listed_text_is_the_ids() {
        assert_eq!(id_list("3,1,2"), [3, 1, 2]);
        assert_eq!(id_list(""), Vec::<i64>::new());
    }

    #[test]
    fn the_next_window_fits_the_rest_at_the_same_density() {
        let left = 5_000_000;
        assert_eq!(next_span(1000, 0, 2001, left), 8000);
        assert_eq!(next_span(100_000, 100, 2001, 2 * left), 1_901_000);
        assert_eq!(next_span(100_000, 100, 2001, 8_000_000), 1_901_000, "more left than needed: the rest's width");
        assert_eq!(next_span(100_000, 100, 2001, 1_500_000), 1_500_000, "all of it needed: fetched at once");
    }

    #[test]
    fn a_window_is_whole_ranges_rounded_down() {
        assert_eq!(whole_ranges(1), BUCKET, "at least one");
        assert_eq!(whole_ranges(BUCKET * 19 / 10), BUCKET, "1.9 ranges read as one; the rest in the next window");
        assert_eq!(whole_ranges(BUCKET * 2), 2 * BUCKET);
        assert_eq!(whole_ranges(i64::MAX), super::MAX_WINDOW * BUCKET);
    }

    #[test]
    fn a_common_word_past_the_newest_range_reads_one_more_range_not_two() {
        // The 1,000,000-ticket bench's common word: ~184 matches in the newest (partial) range, ~2,450 per range.
        let top = 19 * BUCKET + 21_764;
        let (found, windows) = search(top, |id| id % 107 == 0);
        assert_eq!(found.len() as i64, SEARCH_CAP + 1);
        assert_eq!(windows, [(19 * BUCKET, top), (18 * BUCKET, 19 * BUCKET)]);
    }
}
