-- (SQLite rebuilds its search index here; PostgreSQL's tsvector index needs nothing.)
select 1;
