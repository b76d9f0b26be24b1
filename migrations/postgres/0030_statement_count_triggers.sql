-- The per-status counts of new and deleted tickets once per statement, not once per row: an inbound batch inserts
-- its tickets 32 to a statement, and the row triggers ran two upserts for each ticket (a third of the insert's
-- cost in pg_stat_statements). The statement triggers add each status's (and each mailbox and status's) number
-- of rows from the statement's transition table to this session's slot (0029), in key order. Status and mailbox
-- changes stay row triggers: transition tables cannot go with a column list (`update of status`), and those
-- changes come one ticket at a time.
create function ticket_counts_inserted() returns trigger language plpgsql as $$
declare
    s smallint := pg_backend_pid() % 16;
begin
    insert into ticket_counts (status, slot, count)
        select status, s, count(*) from inserted_tickets group by status order by status
        on conflict (status, slot) do update set count = ticket_counts.count + excluded.count;
    insert into ticket_mailbox_counts (mailbox_id, status, slot, count)
        select mailbox_id, status, s, count(*) from inserted_tickets group by mailbox_id, status
        order by mailbox_id, status
        on conflict (mailbox_id, status, slot) do update set count = ticket_mailbox_counts.count + excluded.count;
    return null;
end $$;

create function ticket_counts_deleted() returns trigger language plpgsql as $$
declare
    s smallint := pg_backend_pid() % 16;
begin
    insert into ticket_counts (status, slot, count)
        select status, s, -count(*) from deleted_tickets group by status order by status
        on conflict (status, slot) do update set count = ticket_counts.count + excluded.count;
    insert into ticket_mailbox_counts (mailbox_id, status, slot, count)
        select mailbox_id, status, s, -count(*) from deleted_tickets group by mailbox_id, status
        order by mailbox_id, status
        on conflict (mailbox_id, status, slot) do update set count = ticket_mailbox_counts.count + excluded.count;
    return null;
end $$;

drop trigger ticket_counts_insert on tickets;
drop trigger ticket_mailbox_counts_insert on tickets;
create trigger ticket_counts_inserted after insert on tickets referencing new table as inserted_tickets
    for each statement execute function ticket_counts_inserted();
create trigger ticket_counts_deleted after delete on tickets referencing old table as deleted_tickets
    for each statement execute function ticket_counts_deleted();
