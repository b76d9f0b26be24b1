-- Nothing on SQLite: its one writer draws ticket numbers from the `counters` row (PostgreSQL's 0028 moves them to a
-- sequence). Kept so both stores number their migrations alike.
select 1;
