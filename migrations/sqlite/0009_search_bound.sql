-- The search index takes the first 256 KiB of a message's text: enough for any real reply, and a huge body
-- (a pasted log, a 20 MB HTML line) no longer costs seconds to index.
drop trigger messages_fts_insert;
create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id)
        values (new.id, new.subject, substr(new.body_text, 1, 262144), new.from_addr, new.from_name, new.ticket_id);
end;
