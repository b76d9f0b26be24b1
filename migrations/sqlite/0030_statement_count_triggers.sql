-- Nothing on SQLite: PostgreSQL's 0030 counts new and deleted tickets once per statement (SQLite has no
-- statement triggers; its row triggers add to one row behind its one writer).
select 1;
