-- PostgreSQL's search index becomes partial indexes over ranges of 262,144 message ids (db/search_buckets.rs:
-- BUCKET), `messages_search_K` for ids in (K * 262144, (K + 1) * 262144]. One GIN index over all messages returns
-- every match of a prefix, in no order, so finding the newest 2,000 read every match in the database (a search at
-- 1,000,000 tickets took 11 times as long as at 100,000); a search now reads the newest ranges first and stops.
-- Built here: the range of the newest message and the one after it. The older ranges are built by `deskmail
-- migrate` and, in the background, by `deskmail serve` (CREATE INDEX CONCURRENTLY, newest first); until then a
-- search over them reads the messages by the primary key, slower but complete.
drop index if exists messages_search;
do $$
declare
    newest integer := (select greatest(coalesce(max(id), 1) - 1, 0) / 262144 from messages);
begin
    for k in newest .. newest + 1 loop
        execute format(
            'create index if not exists messages_search_%s on messages using gin (search) where id > %s and id <= %s',
            k, k::bigint * 262144, (k::bigint + 1) * 262144);
    end loop;
end $$;
