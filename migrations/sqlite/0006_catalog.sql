-- The shop's catalog (products, orders, order lines) and ticket links to it.

create table products (
    id         integer primary key,
    ref        text not null unique,                 -- SKU / reference
    title      text not null,
    url        text not null default '',
    price      text not null default '',             -- decimal as text, exact
    created_at integer not null,
    updated_at integer not null
);
create index products_title on products (lower(title));

create table orders (
    id             integer primary key,
    number         text not null unique,
    customer_email text not null,                    -- lower-cased
    status         text not null default '',
    total          text not null default '',
    currency       text not null default '',
    placed_at      integer,
    url            text not null default '',
    created_at     integer not null,
    updated_at     integer not null
);
create index orders_customer on orders (customer_email, placed_at desc);

create table order_lines (
    id          integer primary key,
    order_id    integer not null references orders(id) on delete cascade,
    line_ref    text not null,
    product_ref text not null default '',
    title       text not null default '',
    quantity    integer not null default 1,
    status      text not null default '',
    unique (order_id, line_ref)
);
create index order_lines_product on order_lines (product_ref);

create table ticket_links (
    id        integer primary key,
    ticket_id integer not null references tickets(id) on delete cascade,
    kind      text not null,                         -- order | order_line | product
    target_id integer not null,
    added_by  text not null,                         -- a user's e-mail, or "system" (automatic)
    added_at  integer not null,
    unique (ticket_id, kind, target_id)
);
create index ticket_links_target on ticket_links (kind, target_id);
