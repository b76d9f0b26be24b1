-- Search index without a second copy of the text, carrying each message's ticket: a search maps
-- matches to tickets from the index alone, without reading the (large) messages table.

drop trigger messages_fts_insert;
drop trigger messages_fts_delete;
drop table messages_fts;

create virtual table messages_fts using fts5(
    subject, body_text, from_addr, from_name, ticket_id unindexed,
    content = '', contentless_delete = 1, contentless_unindexed = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id)
    select id, subject, body_text, from_addr, from_name, ticket_id from messages;
create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts (rowid, subject, body_text, from_addr, from_name, ticket_id)
        values (new.id, new.subject, new.body_text, new.from_addr, new.from_name, new.ticket_id);
end;
create trigger messages_fts_delete after delete on messages begin
    delete from messages_fts where rowid = old.id;
end;
