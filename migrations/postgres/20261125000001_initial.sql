-- Initial schema (PostgreSQL). Mirrors migrations/sqlite with the same version and name.

create table api_tokens (
    id          uuid primary key,
    name        text not null unique,
    token_hash  text not null unique,  -- hex sha-256 of the secret; the secret is never stored
    created_at  timestamptz not null,
    revoked_at  timestamptz
);

create table mentors (
    id          uuid primary key,
    name        text not null,
    email       text not null,
    url         text,
    created_at  timestamptz not null
);

create table people (
    id                  uuid primary key,
    name                text not null,
    email               text not null,
    city                text,
    country             text,
    url                 text,
    listed_in_registry  boolean not null,
    created_at          timestamptz not null
);

create table closings (
    id               uuid primary key,
    closer_id        uuid not null references people(id),
    mentor_id        uuid not null references mentors(id),
    mentor_cc_at     timestamptz not null,
    mentor_cc_ref    text,
    partner_name     text not null,
    partner_url      text,
    partner_city     text,
    partner_country  text,
    stages           jsonb not null,
    closed_on        date not null,
    summary          text not null,
    created_at       timestamptz not null
);
create index closings_closer on closings(closer_id);

-- One row per status list; next_counter hands out positions in blocks.
create table status_lists (
    id            bigint primary key,
    size          bigint not null,
    next_counter  bigint not null
);

create table credentials (
    id                 uuid primary key,
    achievement        text not null,
    person_id          uuid not null references people(id),
    closing_id         uuid references closings(id),
    status_list        bigint not null references status_lists(id),
    status_index       bigint not null,
    issued_at          timestamptz not null,
    valid_until        timestamptz,
    document           text not null,  -- text, not jsonb: the signed bytes are kept as issued
    idempotency_key    text,
    request_hash       text,
    revoked_at         timestamptz,
    revocation_reason  text,
    replaced_at        timestamptz,    -- an expired Certified retired by a newer one
    constraint credentials_idempotency_key unique (idempotency_key),
    constraint credentials_status_position unique (status_list, status_index)
);
create index credentials_person on credentials(person_id);
create index credentials_issued on credentials(issued_at desc, id desc);
-- The program's rules, held by the database so concurrent requests and instances cannot break them.
create unique index credentials_one_closed_per_closing on credentials(closing_id)
    where achievement = 'partnership-closed' and revoked_at is null;
create unique index credentials_one_certified_per_person on credentials(person_id)
    where achievement = 'partnership-certified' and revoked_at is null and replaced_at is null;
