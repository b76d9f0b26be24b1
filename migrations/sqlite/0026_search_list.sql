-- (PostgreSQL's index for looking up a search's tickets; SQLite reads its tickets' rows by rowid.)
select 1;
