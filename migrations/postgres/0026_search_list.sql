-- The list of a search looks its tickets up by id (up to one per matching message the search reads, see
-- db/search_hits.rs) for the sort key and the filters most lists carry. This index holds those, so PostgreSQL answers
-- from it (an index-only scan) instead of reading a table page per ticket: at 1,000,000 tickets the table is ~180 MB,
-- more than the default shared_buffers keeps, the index ~40 MB.
create index tickets_search_list on tickets (id) include (updated_at, status, mailbox_id, assignee_id);
