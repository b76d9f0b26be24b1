-- Outbound mail: rendered messages, one delivery per recipient (claimed with a lease), idempotency keys.

create table outbound_mails (
    id                integer primary key,
    ticket_id         integer references tickets(id) on delete cascade,
    message_id        integer references messages(id) on delete set null,  -- the ticket message it carries
    mailbox_id        integer not null references mailboxes(id),
    kind              text not null,               -- ack | agent_reply | resolved | notify_* | agent_command_result
    header_message_id text not null unique,        -- the signed Message-ID, the same on every attempt
    sender            text not null,               -- envelope sender: the mailbox address
    raw               blob not null,               -- the formatted RFC 5322 message
    automatic         integer not null default 0,
    saved_at          integer,                     -- appended to the Sent folder
    created_at        integer not null
);
create index outbound_ticket on outbound_mails (ticket_id);
create index outbound_message on outbound_mails (message_id);
create index outbound_kind_created on outbound_mails (kind, created_at);

create table deliveries (
    id              integer primary key,
    outbound_id     integer not null references outbound_mails(id) on delete cascade,
    recipient       text not null,
    status          text not null,                 -- queued | sending | sent | failed
    attempts        integer not null default 0,
    next_attempt_at integer not null,
    queued_at       integer not null,              -- retries give up retry_max_hours after this
    lease_owner     text,
    lease_until     integer,
    last_error      text,
    updated_at      integer not null,
    sent_at         integer
);
create index deliveries_due on deliveries (status, next_attempt_at);
create index deliveries_outbound on deliveries (outbound_id);
create index deliveries_recipient on deliveries (recipient, id);

create table idempotency_keys (
    user_id    integer not null references users(id) on delete cascade,
    key        text not null,
    response   text not null,
    created_at integer not null,
    primary key (user_id, key)
);
