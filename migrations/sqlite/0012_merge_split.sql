-- Merge and split (issue: teams and ticket operations): a merged ticket keeps its number and points at the ticket
-- that took its messages; status 'merged' is counted like the others; the search index follows a message that
-- moves to another ticket.
alter table tickets add column merged_into integer references tickets(id);
insert into ticket_counts (status, count) values ('merged', 0);
create trigger messages_fts_move after update of ticket_id on messages begin
    delete from messages_fts where rowid = old.id;
    insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id)
        values (new.id, new.subject, substr(new.body_text, 1, 262144), new.from_addr, new.from_name, new.ticket_id);
end;
