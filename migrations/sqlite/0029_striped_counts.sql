-- Nothing on SQLite: its one writer never waits on the count rows (PostgreSQL's 0029 stripes them over slots).
select 1;
