-- (SQLite's time index gains the status for its walk of several statuses; PostgreSQL's planner combines its own.)
select 1;
