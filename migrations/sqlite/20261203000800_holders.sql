-- The holder's side (issue 12), SQLite. Mirrors migrations/postgres with the same version
-- and name.
--
-- Consent: `listed_in_registry` stays the one bit the registry reads (its index and the
-- version trigger already follow it); the columns beside it say whose choice it is. A
-- trigger writes every change of that bit into `consent_events`, in the same statement, so
-- the history cannot miss one.
alter table people add column consent_by text;        -- 'holder' | 'admin': who made the latest change
alter table people add column consent_source text;    -- admin: where the consent was collected
alter table people add column consent_version text;   -- holder: the consent text's version shown
alter table people add column consent_at text;        -- when the latest change was made
alter table people add column withdrawn_at text;      -- the holder's latest withdrawal; then only they may relist
alter table people add column erased_at text;         -- erased at the holder's request

create table consent_events (
    id            integer primary key autoincrement,
    person_id     text not null references people(id),
    at            text not null,
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
    where listed_in_registry = 1;
insert into consent_events (person_id, at, action, actor, source)
    select id, created_at, 'given', 'admin', consent_source from people where listed_in_registry = 1;

create trigger consent_on_insert after insert on people when new.listed_in_registry = 1
begin
    insert into consent_events (person_id, at, action, actor, source, text_version)
        values (new.id, coalesce(new.consent_at, new.created_at), 'given',
                coalesce(new.consent_by, 'admin'), new.consent_source, new.consent_version);
end;

create trigger consent_on_update after update of listed_in_registry on people
when new.listed_in_registry <> old.listed_in_registry
begin
    insert into consent_events (person_id, at, action, actor, source, text_version)
        values (new.id, coalesce(new.consent_at, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
                case when new.listed_in_registry = 1 then 'given' else 'withdrawn' end,
                coalesce(new.consent_by, 'admin'), new.consent_source, new.consent_version);
end;

-- The transactional outbox: a message row is written in the transaction that stores its
-- credential or revocation (or asks for a sign-in link); the sender claims due rows,
-- sends, and marks them. Addresses and contents are read when sending, so an erasure
-- that drops the rows leaves nothing behind.
create table outbox (
    id               text primary key,
    kind             text not null check (kind in ('issued', 'revoked', 'sign_in')),
    person_id        text not null references people(id),
    credential_id    text references credentials(id),
    status           text not null default 'queued' check (status in ('queued', 'sent', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  text not null,   -- due time; while a sender holds the row, its lease end
    last_error       text,
    created_at       text not null,
    sent_at          text
);
create index outbox_due on outbox(next_attempt_at) where status = 'queued';
create index outbox_list on outbox(status, created_at, id);
create index outbox_person on outbox(person_id);

-- Sign-in links of the holder's page: only the hash of the token is stored; one use each.
create table holder_links (
    token_hash  text primary key,
    person_id   text not null references people(id),
    created_at  text not null,
    expires_at  text not null,
    used_at     text
);
create index holder_links_person on holder_links(person_id);

-- Signed-in holders (the cookie carries the token; only its hash is here).
create table holder_sessions (
    token_hash  text primary key,
    person_id   text not null references people(id),
    created_at  text not null,
    expires_at  text not null
);
create index holder_sessions_person on holder_sessions(person_id);
