-- Tickets per mailbox and status, kept by a trigger like ticket_counts: an agent who sees only some mailboxes
-- (teams) gets tab counts and list totals without counting tickets per request.
create table ticket_mailbox_counts (
    mailbox_id bigint not null,
    status     text not null,
    count      bigint not null,
    primary key (mailbox_id, status)
);
insert into ticket_mailbox_counts (mailbox_id, status, count) select mailbox_id, status, count(*) from tickets group by mailbox_id, status;
create function ticket_mailbox_counts_maintain() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        update ticket_mailbox_counts set count = count - 1 where mailbox_id = old.mailbox_id and status = old.status;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into ticket_mailbox_counts (mailbox_id, status, count) values (new.mailbox_id, new.status, 1)
            on conflict (mailbox_id, status) do update set count = ticket_mailbox_counts.count + 1;
    end if;
    return null;
end $$;
create trigger ticket_mailbox_counts_insert after insert or delete on tickets for each row
    execute function ticket_mailbox_counts_maintain();
create trigger ticket_mailbox_counts_update after update of status, mailbox_id on tickets for each row
    when (old.status is distinct from new.status or old.mailbox_id is distinct from new.mailbox_id)
    execute function ticket_mailbox_counts_maintain();
drop index tickets_mailbox_status;
create index tickets_mailbox_status_updated on tickets (mailbox_id, status, updated_at desc);
