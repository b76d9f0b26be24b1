-- A first sync or UIDVALIDITY re-scan in progress: its candidates were chosen by import_existing, and a resumed
-- sync must keep choosing that way above last_uid instead of importing everything.
alter table mailbox_sync add column scanning integer not null default 0;
