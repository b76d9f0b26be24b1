-- The customer portal (issue: customer portal): single-use sign-in links mailed to customers and portal
-- sessions, both stored as sha256 hashes of their secret; satisfaction answers, one per resolution.
create table portal_login_tokens (
    token_hash text primary key,
    email      text not null,                                      -- lower-cased
    created_at integer not null,
    expires_at integer not null,
    used_at    integer
);
create index portal_login_tokens_email on portal_login_tokens (email, created_at);

create table portal_sessions (
    id_hash    text primary key,
    email      text not null,
    created_at integer not null,
    seen_at    integer not null
);
create index portal_sessions_email on portal_sessions (email);

create table satisfaction (
    id            integer primary key,
    ticket_id     integer not null references tickets(id) on delete cascade,
    resolution_id integer not null,                                -- the status_changed event that resolved it
    rating        text not null,                                   -- good | bad
    comment       text not null default '',
    agent_id      integer references users(id) on delete set null,
    mailbox_id    integer not null references mailboxes(id),
    created_at    integer not null,
    unique (ticket_id, resolution_id)
);
create index satisfaction_created on satisfaction (created_at);
