-- Blocked senders (issue: teams and ticket operations): an address or `@domain`; mail from them is held in the
-- quarantine with the reason `blocked: {entry}` (raw kept, no ticket, no acknowledgement) until they are unblocked.
-- Customers get an internal note agents keep about them.
create table blocked_senders (
    entry      text primary key,                               -- lower-cased address or @domain
    blocked_by text not null,
    created_at bigint not null
);
alter table customers add column note text not null default '';
