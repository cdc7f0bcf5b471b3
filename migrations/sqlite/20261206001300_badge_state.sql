-- Live badge pages across instances (issue 15), SQLite. Mirrors migrations/postgres with the
-- same version and name.
--
-- badge_state's one `version` is bumped by triggers, in the same transaction, by every change
-- a badge page shows: a credential revoked, re-dated, retired, moved or deleted, or its
-- holder's name or consent changed (issuing a new badge changes no existing page, so it does
-- not bump it). Each instance keeps rendered badge pages in memory and polls this version;
-- cache_instances is where each one says which version its cache has caught up with, so a
-- writer can wait until every live instance has dropped what the change made stale
-- (src/badge_cache.rs). Times there are the database's clock, in milliseconds.

create table badge_state (
    id       integer primary key check (id = 1),
    version  integer not null
);
insert into badge_state (id, version) values (1, 1);

create trigger sync_badge_state_credential_update
after update of revoked_at, revocation_reason, valid_until, issued_at, replaced_at, person_id,
    achievement, document on credentials
begin
    update badge_state set version = version + 1 where id = 1;
end;

create trigger sync_badge_state_credential_delete after delete on credentials
begin
    update badge_state set version = version + 1 where id = 1;
end;

create trigger sync_badge_state_person_update
after update of name, listed_in_registry on people
begin
    update badge_state set version = version + 1 where id = 1;
end;

create table cache_instances (
    id            text primary key,
    seen_version  integer not null,
    seen_at_ms    integer not null
);
