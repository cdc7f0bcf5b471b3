-- The holder's side (issue 12), PostgreSQL. Mirrors migrations/sqlite with the same version
-- and name.
--
-- Consent: `listed_in_registry` stays the one bit the registry reads (its index and the
-- version trigger already follow it); the columns beside it say whose choice it is. A
-- trigger writes every change of that bit into `consent_events`, in the same statement, so
-- the history cannot miss one.
alter table people add column consent_by text;             -- 'holder' | 'admin': who made the latest change
alter table people add column consent_source text;         -- admin: where the consent was collected
alter table people add column consent_version text;        -- holder: the consent text's version shown
alter table people add column consent_at timestamptz;      -- when the latest change was made
alter table people add column withdrawn_at timestamptz;    -- the holder's latest withdrawal; then only they may relist
alter table people add column erased_at timestamptz;       -- erased at the holder's request

create table consent_events (
    id            bigint generated always as identity primary key,
    person_id     uuid not null references people(id),
    at            timestamptz not null,
    action        text not null check (action in ('given', 'withdrawn')),
    actor         text not null check (actor in ('holder', 'admin')),
    source        text,
    text_version  text
);
create index consent_events_person on consent_events(person_id, id);

-- Today's listed people: consent recorded by an admin (the flag was an admin's to set).
update people set consent_by = 'admin',
    consent_source = 'listed in the registry before consent was recorded (migration 20261203000800)',
    consent_at = created_at
    where listed_in_registry;
insert into consent_events (person_id, at, action, actor, source)
    select id, created_at, 'given', 'admin', consent_source from people where listed_in_registry;

create function consent_record() returns trigger language plpgsql as $$
begin
    if (tg_op = 'INSERT' and new.listed_in_registry)
       or (tg_op = 'UPDATE' and new.listed_in_registry is distinct from old.listed_in_registry) then
        insert into consent_events (person_id, at, action, actor, source, text_version)
            values (new.id, coalesce(new.consent_at, now()),
                    case when new.listed_in_registry then 'given' else 'withdrawn' end,
                    coalesce(new.consent_by, 'admin'), new.consent_source, new.consent_version);
    end if;
    return null;
end;
$$;
create trigger consent_on_insert after insert on people
    for each row execute function consent_record();
create trigger consent_on_update after update of listed_in_registry on people
    for each row execute function consent_record();

-- The transactional outbox: a message row is written in the transaction that stores its
-- credential or revocation (or asks for a sign-in link); the sender claims due rows
-- (`for update skip locked`: several instances never take the same row), sends, and marks
-- them. Addresses and contents are read when sending, so an erasure that drops the rows
-- leaves nothing behind.
create table outbox (
    id               uuid primary key,
    kind             text not null check (kind in ('issued', 'revoked', 'sign_in')),
    person_id        uuid not null references people(id),
    credential_id    uuid references credentials(id),
    status           text not null default 'queued' check (status in ('queued', 'sent', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,   -- due time; while a sender holds the row, its lease end
    last_error       text,
    created_at       timestamptz not null,
    sent_at          timestamptz
);
create index outbox_due on outbox(next_attempt_at) where status = 'queued';
create index outbox_list on outbox(status, created_at, id);
create index outbox_person on outbox(person_id);

-- Sign-in links of the holder's page: only the hash of the token is stored; one use each.
create table holder_links (
    token_hash  text primary key,
    person_id   uuid not null references people(id),
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    used_at     timestamptz
);
create index holder_links_person on holder_links(person_id);

-- Signed-in holders (the cookie carries the token; only its hash is here).
create table holder_sessions (
    token_hash  text primary key,
    person_id   uuid not null references people(id),
    created_at  timestamptz not null,
    expires_at  timestamptz not null
);
create index holder_sessions_person on holder_sessions(person_id);
