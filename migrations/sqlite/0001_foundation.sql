-- deskmail foundation schema (SQLite). Times are unix seconds (UTC); flags are 0/1 integers.

-- key/value settings that belong to the installation, e.g. the generated signing secret
create table settings (
    key   text primary key,
    value text not null
);

-- gap-free counters, e.g. the next public ticket number
create table counters (
    name  text primary key,
    value integer not null
);
insert into counters (name, value) values ('ticket_number', 999);

create table mailboxes (
    id              integer primary key,
    name            text not null unique,
    address         text not null,
    display_name    text not null default '',
    plus_addressing integer not null default 0,
    source          text not null default 'config',   -- config | dashboard
    enabled         integer not null default 1,
    settings_json   text not null default '{}',       -- imap/smtp settings of dashboard mailboxes
    created_at      integer not null,
    updated_at      integer not null
);

-- IMAP checkpoint and lease per mailbox folder
create table mailbox_sync (
    mailbox_id    integer not null references mailboxes(id) on delete cascade,
    folder        text not null,
    uid_validity  integer,
    last_uid      integer not null default 0,
    last_sync_at  integer,
    lease_owner   text,
    lease_until   integer,
    primary key (mailbox_id, folder)
);

-- every raw message deskmail holds, content-addressed by sha256 under storage.dir
create table raw_messages (
    id         integer primary key,
    sha256     text not null unique,
    size       integer not null,
    path       text not null,
    created_at integer not null
);

-- every time a raw message reached a mailbox (IMAP uid or an ingest call)
create table receipts (
    id           integer primary key,
    raw_id       integer not null references raw_messages(id),
    mailbox_id   integer not null references mailboxes(id),
    uid_validity integer,
    uid          integer,
    outcome      text not null,
    created_at   integer not null
);
create unique index receipts_imap_uid on receipts (mailbox_id, uid_validity, uid) where uid is not null;
create index receipts_raw on receipts (raw_id);

create table customers (
    id         integer primary key,
    email      text not null unique,                    -- lower-cased
    name       text not null default '',
    blocked    integer not null default 0,
    created_at integer not null
);

create table users (
    id                      integer primary key,
    email                   text not null unique,       -- lower-cased
    name                    text not null,
    role                    text not null,              -- admin | agent
    password_hash           text not null,
    active                  integer not null default 1,
    signature               text not null default '',
    notify_new_ticket       integer not null default 0,
    notify_customer_replied integer not null default 1,
    notify_assigned         integer not null default 1,
    created_at              integer not null,
    updated_at              integer not null
);

create table api_tokens (
    id           integer primary key,
    user_id      integer not null references users(id) on delete cascade,
    name         text not null,
    token_hash   text not null unique,                  -- sha256 hex of the secret token
    created_at   integer not null,
    last_used_at integer
);

create table tickets (
    id               integer primary key,
    number           integer not null unique,
    mailbox_id       integer not null references mailboxes(id),
    subject          text not null,
    status           text not null,                     -- new | open | pending | resolved | closed
    priority         text not null default 'normal',    -- low | normal | high | urgent
    requester_id     integer not null references customers(id),
    assignee_id      integer references users(id),
    parent_ticket_id integer references tickets(id),    -- the closed ticket this one follows up
    message_count    integer not null default 0,
    created_at       integer not null,
    updated_at       integer not null
);
create index tickets_status_updated on tickets (status, updated_at desc);
create index tickets_updated on tickets (updated_at desc);
create index tickets_requester on tickets (requester_id);
create index tickets_assignee on tickets (assignee_id);

create table ticket_participants (
    ticket_id   integer not null references tickets(id) on delete cascade,
    customer_id integer not null references customers(id),
    role        text not null,                          -- requester | cc
    primary key (ticket_id, customer_id)
);
create index participants_customer on ticket_participants (customer_id);

create table messages (
    id             integer primary key,
    ticket_id      integer not null references tickets(id) on delete cascade,
    kind           text not null,                       -- customer | agent | note | system
    mailbox_id     integer references mailboxes(id),
    raw_id         integer references raw_messages(id),
    customer_id    integer references customers(id),
    author_id      integer references users(id),
    from_addr      text not null default '',
    from_name      text not null default '',
    to_json        text not null default '[]',
    cc_json        text not null default '[]',
    reply_to       text not null default '',
    subject        text not null default '',
    message_id     text,                                -- without angle brackets
    in_reply_to    text,
    refs           text not null default '',            -- space-separated References
    visible_text   text not null default '',
    body_text      text not null default '',
    body_html      text,                                -- sanitised
    auto           integer not null default 0,
    verified       integer,                             -- agent mail by email: 1 verified, 0 not; null otherwise
    flags          text not null default '',            -- space-separated classification flags
    content_digest text,                                -- sha256 of the mail without trace headers
    sent_at        integer,                             -- the Date header
    created_at     integer not null
);
create index messages_ticket on messages (ticket_id, id);
create index messages_message_id on messages (message_id);
create unique index messages_digest on messages (content_digest) where content_digest is not null;
create index messages_raw on messages (raw_id);

create table attachments (
    id           integer primary key,
    message_id   integer not null references messages(id) on delete cascade,
    filename     text not null,
    content_type text not null,
    size         integer not null,
    sha256       text not null,
    content_id   text,
    inline       integer not null default 0,
    created_at   integer not null
);
create index attachments_message on attachments (message_id);

create table ticket_events (
    id        integer primary key,
    ticket_id integer not null references tickets(id) on delete cascade,
    at        integer not null,
    actor     text not null,                            -- system | user e-mail | customer e-mail
    kind      text not null,
    detail    text not null default ''
);
create index events_ticket on ticket_events (ticket_id, id);

-- bounces: DSNs with what they name; ticket_id set when the original was ours
create table bounces (
    id                  integer primary key,
    raw_id              integer not null references raw_messages(id),
    mailbox_id          integer references mailboxes(id),
    ticket_id           integer references tickets(id),
    original_message_id text,
    status              text,
    diagnostic          text,
    recipients          text not null default '',
    created_at          integer not null
);

create table quarantine (
    id           integer primary key,
    raw_id       integer references raw_messages(id),   -- null when only headers were kept (too large)
    mailbox_id   integer references mailboxes(id),
    reason       text not null,
    headers      text not null default '',
    size         integer not null default 0,
    status       text not null default 'held',          -- held | released | deleted
    uid_validity integer,
    uid          integer,
    ticket_id    integer references tickets(id),
    created_at   integer not null
);
create index quarantine_status on quarantine (status, id);
