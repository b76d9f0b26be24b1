-- Tickets per mailbox and status, kept by triggers like ticket_counts: an agent who sees only some mailboxes
-- (teams) gets tab counts and list totals without counting tickets per request (14-28 ms at 100,000 tickets).
create table ticket_mailbox_counts (
    mailbox_id integer not null,
    status     text not null,
    count      integer not null,
    primary key (mailbox_id, status)
);
insert into ticket_mailbox_counts (mailbox_id, status, count) select mailbox_id, status, count(*) from tickets group by mailbox_id, status;
create trigger ticket_mailbox_counts_insert after insert on tickets begin
    insert into ticket_mailbox_counts (mailbox_id, status, count) values (new.mailbox_id, new.status, 1)
        on conflict (mailbox_id, status) do update set count = count + 1;
end;
create trigger ticket_mailbox_counts_update after update of status, mailbox_id on tickets
    when old.status <> new.status or old.mailbox_id <> new.mailbox_id begin
    update ticket_mailbox_counts set count = count - 1 where mailbox_id = old.mailbox_id and status = old.status;
    insert into ticket_mailbox_counts (mailbox_id, status, count) values (new.mailbox_id, new.status, 1)
        on conflict (mailbox_id, status) do update set count = count + 1;
end;
create trigger ticket_mailbox_counts_delete after delete on tickets begin
    update ticket_mailbox_counts set count = count - 1 where mailbox_id = old.mailbox_id and status = old.status;
end;
-- The list of some mailboxes in one status, newest first, from the index alone.
drop index tickets_mailbox_status;
create index tickets_mailbox_status_updated on tickets (mailbox_id, status, updated_at desc);
