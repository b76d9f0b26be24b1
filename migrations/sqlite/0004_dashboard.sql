-- Dashboard: sessions, tags, canned responses, template overrides, invitation/reset tokens,
-- maintained per-status counts, and full-text search over messages (FTS5).

create table sessions (
    id          text primary key,
    data        text not null,
    expiry_date integer not null
);
create index sessions_expiry on sessions (expiry_date);

create table ticket_tags (
    ticket_id integer not null references tickets(id) on delete cascade,
    tag       text not null,
    primary key (ticket_id, tag)
);
create index ticket_tags_tag on ticket_tags (tag, ticket_id);

create table canned_responses (
    id         integer primary key,
    owner_id   integer references users(id) on delete cascade,   -- null: shared (managed by admins)
    title      text not null,
    body       text not null,
    created_at integer not null,
    updated_at integer not null
);
create index canned_owner on canned_responses (owner_id);

create table template_overrides (
    name       text primary key,                                   -- e.g. ack.html
    source     text not null,
    updated_by text not null,
    updated_at integer not null
);

-- single-use links mailed to users: invitations and password resets (stored hashed)
create table user_tokens (
    token_hash text primary key,
    user_id    integer not null references users(id) on delete cascade,
    purpose    text not null,                                      -- invite | reset
    expires_at integer not null,
    used_at    integer,
    created_at integer not null
);

-- tickets per status, kept by triggers so the list never counts per request
create table ticket_counts (
    status text primary key,
    count  integer not null
);
insert into ticket_counts (status, count) select s, 0 from (select 'new' as s union all select 'open' union all select 'pending' union all select 'resolved' union all select 'closed');
update ticket_counts set count = (select count(*) from tickets where tickets.status = ticket_counts.status);

create trigger ticket_counts_insert after insert on tickets begin
    update ticket_counts set count = count + 1 where status = new.status;
end;
create trigger ticket_counts_update after update of status on tickets when old.status <> new.status begin
    update ticket_counts set count = count - 1 where status = old.status;
    update ticket_counts set count = count + 1 where status = new.status;
end;
create trigger ticket_counts_delete after delete on tickets begin
    update ticket_counts set count = count - 1 where status = old.status;
end;

create virtual table messages_fts using fts5(
    subject, body_text, from_addr, from_name,
    content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
insert into messages_fts (rowid, subject, body_text, from_addr, from_name) select id, subject, body_text, from_addr, from_name from messages;
create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts (rowid, subject, body_text, from_addr, from_name) values (new.id, new.subject, new.body_text, new.from_addr, new.from_name);
end;
create trigger messages_fts_delete after delete on messages begin
    insert into messages_fts (messages_fts, rowid, subject, body_text, from_addr, from_name) values ('delete', old.id, old.subject, old.body_text, old.from_addr, old.from_name);
end;

create index tickets_mailbox_updated on tickets (mailbox_id, updated_at desc);
create index tickets_priority_updated on tickets (priority, updated_at desc);
