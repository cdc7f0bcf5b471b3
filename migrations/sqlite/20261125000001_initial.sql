-- Initial schema (SQLite). Mirrors migrations/postgres with the same version and name.
-- Times are RFC 3339 text at whole seconds, so text order is time order.

create table api_tokens (
    id          text primary key,
    name        text not null unique,
    token_hash  text not null unique,  -- hex sha-256 of the secret; the secret is never stored
    created_at  text not null,
    revoked_at  text
);

create table mentors (
    id          text primary key,
    name        text not null,
    email       text not null,
    url         text,
    created_at  text not null
);

create table people (
    id                  text primary key,
    name                text not null,
    email               text not null,
    city                text,
    country             text,
    url                 text,
    listed_in_registry  integer not null,
    created_at          text not null
);

create table closings (
    id               text primary key,
    closer_id        text not null references people(id),
    mentor_id        text not null references mentors(id),
    mentor_cc_at     text not null,
    mentor_cc_ref    text,
    partner_name     text not null,
    partner_url      text,
    partner_city     text,
    partner_country  text,
    stages           text not null,  -- json object of stage dates
    closed_on        text not null,
    summary          text not null,
    created_at       text not null
);
create index closings_closer on closings(closer_id);

-- One row per status list; next_counter hands out positions in blocks.
create table status_lists (
    id            integer primary key,
    size          integer not null,
    next_counter  integer not null
);

create table credentials (
    id                 text primary key,
    achievement        text not null,
    person_id          text not null references people(id),
    closing_id         text references closings(id),
    status_list        integer not null references status_lists(id),
    status_index       integer not null,
    issued_at          text not null,
    valid_until        text,
    document           text not null,  -- the signed credential, byte for byte as issued
    idempotency_key    text unique,
    request_hash       text,
    revoked_at         text,
    revocation_reason  text,
    replaced_at        text,           -- an expired Certified retired by a newer one
    unique (status_list, status_index)
);
create index credentials_person on credentials(person_id);
create index credentials_issued on credentials(issued_at desc, id desc);
-- The program's rules, held by the database so concurrent requests cannot break them.
create unique index credentials_one_closed_per_closing on credentials(closing_id)
    where achievement = 'partnership-closed' and revoked_at is null;
create unique index credentials_one_certified_per_person on credentials(person_id)
    where achievement = 'partnership-certified' and revoked_at is null and replaced_at is null;
