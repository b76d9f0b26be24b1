-- Erasing (issue 17): a ticket whose content was erased (a customer's erasure, or retention after it was closed
-- long enough) keeps its row, so reports still count it; erased_at says when, and the retention job skips it.
alter table tickets add column erased_at integer;
