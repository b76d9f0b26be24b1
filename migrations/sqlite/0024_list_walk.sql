-- The default list (the active statuses, latest activity first) walks `tickets_updated` and skips the other
-- statuses' tickets (db::ticket_filter::walks_time_order). The latest activity is mostly on closed tickets, so at
-- 1,000,000 tickets the walk passed 2,385 entries to find a page of 50 (281 at 100,000: scripts/bench scale), each
-- a seek into the table for its status. With the status in the index the walk reads no table row: 0.11 ms per
-- page instead of 1.2-3 ms.
drop index tickets_updated;
create index tickets_updated on tickets (updated_at desc, id desc, status);
