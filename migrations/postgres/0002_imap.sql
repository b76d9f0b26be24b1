-- IMAP gateway: after_import actions owed to the server, and one poller lease per mailbox.

-- UIDs committed but not yet flagged/moved on the server (applied on the next sync after a crash)
alter table mailbox_sync add column pending text not null default '';

create table mailbox_leases (
    mailbox_id bigint primary key references mailboxes(id) on delete cascade,
    owner      text not null,
    expires_at bigint not null
);
