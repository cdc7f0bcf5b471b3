-- The public registry (issue 4), SQLite. Mirrors migrations/postgres with the same version
-- and name.
--
-- registry_state holds one row whose `version` is bumped by triggers in the same
-- transaction as every change that can alter the registry: a credential issued, revoked,
-- re-dated or deleted, or a person's public fields or consent changed. Every instance
-- compares it with the version its in-memory cache was built at (one primary-key read).
-- Time-based expiry needs no write: the cache also keeps the next upcoming valid_until.

create table registry_state (
    id          integer primary key check (id = 1),
    version     integer not null,
    changed_at  text not null
);
insert into registry_state (id, version, changed_at)
    values (1, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

create trigger registry_credential_insert after insert on credentials
begin
    update registry_state set version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') where id = 1;
end;

create trigger registry_credential_update
after update of revoked_at, valid_until, issued_at, person_id, achievement on credentials
begin
    update registry_state set version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') where id = 1;
end;

create trigger registry_credential_delete after delete on credentials
begin
    update registry_state set version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') where id = 1;
end;

create trigger registry_person_update
after update of name, city, country, url, listed_in_registry on people
begin
    update registry_state set version = version + 1,
        changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') where id = 1;
end;

-- The registry page query: listed people in (lower-cased name, id) order ...
create index people_registry_name on people(lower(name), id) where listed_in_registry = 1;
-- ... joined to their unrevoked badges by person and achievement (active Certified, and
-- valid Closed badges to count), newest first for the feeds.
create index credentials_registry on credentials(achievement, person_id, issued_at)
    where revoked_at is null;
create index credentials_registry_newest on credentials(achievement, issued_at desc, id desc)
    where revoked_at is null;
-- Next upcoming and latest past expiry, for the cache's time-based invalidation.
create index credentials_registry_expiry on credentials(valid_until)
    where revoked_at is null and valid_until is not null;
