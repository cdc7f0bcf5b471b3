-- The public registry (issue 4), PostgreSQL. Mirrors migrations/sqlite with the same
-- version and name.
--
-- registry_state holds one row whose `version` is bumped by triggers in the same
-- transaction as every change that can alter the registry: a credential issued, revoked,
-- re-dated or deleted, or a person's public fields or consent changed. Every instance
-- compares it with the version its in-memory cache was built at (one primary-key read),
-- so several instances behind a load balancer agree. Time-based expiry needs no write:
-- the cache also keeps the next upcoming valid_until.

create table registry_state (
    id          integer primary key check (id = 1),
    version     bigint not null,
    changed_at  timestamptz not null
);
insert into registry_state (id, version, changed_at) values (1, 1, now());

create function registry_bump() returns trigger language plpgsql as $$
begin
    update registry_state set version = version + 1, changed_at = now() where id = 1;
    return null;
end;
$$;

create trigger registry_credential_insert after insert on credentials
    for each row execute function registry_bump();
create trigger registry_credential_update
    after update of revoked_at, valid_until, issued_at, person_id, achievement on credentials
    for each row execute function registry_bump();
create trigger registry_credential_delete after delete on credentials
    for each row execute function registry_bump();
create trigger registry_person_update
    after update of name, city, country, url, listed_in_registry on people
    for each row execute function registry_bump();

-- The registry page query: listed people in (lower-cased name, id) order, byte order so
-- both backends sort alike ...
create index people_registry_name on people((lower(name) collate "C"), id)
    where listed_in_registry;
-- ... joined to their unrevoked badges by person and achievement (active Certified, and
-- valid Closed badges to count), newest first for the feeds.
create index credentials_registry on credentials(achievement, person_id, issued_at)
    where revoked_at is null;
create index credentials_registry_newest on credentials(achievement, issued_at desc, id desc)
    where revoked_at is null;
-- Next upcoming and latest past expiry, for the cache's time-based invalidation.
create index credentials_registry_expiry on credentials(valid_until)
    where revoked_at is null and valid_until is not null;
