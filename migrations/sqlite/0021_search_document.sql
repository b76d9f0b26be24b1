-- (PostgreSQL's search document is written by deskmail from here on; SQLite's FTS5 index keeps its triggers.)
select 1;
