-- (PostgreSQL's search index is split into ranges of message ids; SQLite's FTS5 reads its matches newest first.)
select 1;
