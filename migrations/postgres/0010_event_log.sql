-- The ticket event log (issue: one ticket core): typed detail as JSON beside the human text, stable kind
-- names (design §10), the committing order for consumers, and one cursor per named consumer.
alter table ticket_events add column data text not null default '{}';
-- The inserting transaction: consumers read in (txid, id) order and only below the oldest running
-- transaction, so an event whose transaction commits late is never skipped (ids alone can commit out of order).
alter table ticket_events add column txid bigint not null default 0;
alter table ticket_events alter column txid set default (pg_current_xact_id()::text::bigint);
update ticket_events set kind = 'ticket_created' where kind = 'created';
update ticket_events set kind = 'status_changed' where kind = 'status';
update ticket_events set kind = 'priority_changed' where kind = 'priority';
update ticket_events set kind = 'assignee_changed' where kind = 'assignee';
update ticket_events set kind = 'reply_sent' where kind = 'reply';
update ticket_events set kind = 'tags_changed', detail = 'tags added: ' || detail where kind = 'tag_added';
update ticket_events set kind = 'tags_changed', detail = 'tags removed: ' || detail where kind = 'tag_removed';
update ticket_events set actor = 'customer'
    where kind in ('ticket_created', 'status_changed') and actor like '%@%'
      and actor not in (select email from users);
create index events_order on ticket_events (txid, id);

-- Where each named consumer (rules, SLA clocks) stands in the log, leased like a mailbox.
create table event_consumers (
    name        text primary key,
    last_txid   bigint not null default 0,
    last_id     bigint not null default 0,
    lease_owner text,
    lease_until bigint,
    updated_at  bigint not null
);
