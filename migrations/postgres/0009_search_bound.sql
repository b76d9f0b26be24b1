-- The search index takes the first 256 KiB of a message's text: enough for any real reply, and a huge body no
-- longer costs seconds to index or fails tsvector's 1 MB limit. (Rewrites the messages table once.)
drop index messages_search;
alter table messages drop column search;
alter table messages add column search tsvector generated always as (
    to_tsvector('simple', regexp_replace(
        coalesce(subject, '') || ' ' || left(coalesce(body_text, ''), 262144) || ' ' || from_addr || ' ' || from_name,
        '[^[:alnum:]]+', ' ', 'g'))
) stored;
create index messages_search on messages using gin (search);
