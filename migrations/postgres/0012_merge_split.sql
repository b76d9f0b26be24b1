-- Merge and split (issue: teams and ticket operations): a merged ticket keeps its number and points at the ticket
-- that took its messages; status 'merged' is counted like the others. (The tsvector search index is per message
-- and moves with it.)
alter table tickets add column merged_into bigint references tickets(id);
insert into ticket_counts (status, count) values ('merged', 0);
