-- The per-status counts kept by triggers, striped: every ticket created or changing status added to one row per
-- status (and per mailbox and status), which stayed locked until the transaction ended, so every inbound batch of
-- every instance, and an agent's status change beside one, waited for the others. Now each database session adds
-- to its own slot (its backend pid mod 16) and readers sum the slots.
alter table ticket_counts add column slot smallint not null default 0;
alter table ticket_counts drop constraint ticket_counts_pkey;
alter table ticket_counts add primary key (status, slot);
alter table ticket_mailbox_counts add column slot smallint not null default 0;
alter table ticket_mailbox_counts drop constraint ticket_mailbox_counts_pkey;
alter table ticket_mailbox_counts add primary key (mailbox_id, status, slot);

create or replace function ticket_counts_maintain() returns trigger language plpgsql as $$
declare
    s smallint := pg_backend_pid() % 16;
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into ticket_counts (status, slot, count) values (old.status, s, -1)
            on conflict (status, slot) do update set count = ticket_counts.count - 1;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into ticket_counts (status, slot, count) values (new.status, s, 1)
            on conflict (status, slot) do update set count = ticket_counts.count + 1;
    end if;
    return null;
end $$;

create or replace function ticket_mailbox_counts_maintain() returns trigger language plpgsql as $$
declare
    s smallint := pg_backend_pid() % 16;
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into ticket_mailbox_counts (mailbox_id, status, slot, count) values (old.mailbox_id, old.status, s, -1)
            on conflict (mailbox_id, status, slot) do update set count = ticket_mailbox_counts.count - 1;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into ticket_mailbox_counts (mailbox_id, status, slot, count) values (new.mailbox_id, new.status, s, 1)
            on conflict (mailbox_id, status, slot) do update set count = ticket_mailbox_counts.count + 1;
    end if;
    return null;
end $$;
