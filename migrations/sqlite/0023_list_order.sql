-- Every list order ends with the id (`updated_at desc, id desc`). With indexes on `updated_at` alone, the tickets
-- sharing a second (an import stamps a whole batch alike) were sorted in a temporary B-tree on every list request:
-- 2.9 of the 1M-ticket list page's ~7 ms (scripts/bench scale). Carrying the id, the index walk yields the page.
-- (The requester's index has carried the id since 0022.)
drop index tickets_updated;
create index tickets_updated on tickets (updated_at desc, id desc);
drop index tickets_status_updated;
create index tickets_status_updated on tickets (status, updated_at desc, id desc);
drop index tickets_mailbox_updated;
create index tickets_mailbox_updated on tickets (mailbox_id, updated_at desc, id desc);
drop index tickets_mailbox_status_updated;
create index tickets_mailbox_status_updated on tickets (mailbox_id, status, updated_at desc, id desc);
drop index tickets_priority_updated;
create index tickets_priority_updated on tickets (priority, updated_at desc, id desc);
