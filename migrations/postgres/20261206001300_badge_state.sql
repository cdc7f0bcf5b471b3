-- Live badge pages across instances (issue 15), PostgreSQL. Mirrors migrations/sqlite with
-- the same version and name.
--
-- badge_state's one `version` is bumped by triggers, in the same transaction, by every change
-- a badge page shows: a credential revoked, re-dated, retired, moved or deleted, or its
-- holder's name or consent changed (issuing a new badge changes no existing page, so it does
-- not bump it). Each instance keeps rendered badge pages in memory and polls this version;
-- cache_instances is where each one says which version its cache has caught up with, so a
-- writer can wait until every live instance has dropped what the change made stale
-- (src/badge_cache.rs). Times there are the database's clock, in milliseconds.
--
-- The triggers' names sort after the registry's (`registry_…`), and PostgreSQL fires a
-- table's triggers in name order: every transaction takes registry_state's row before this
-- one, as write batches do (they lock registry_state first), so two never deadlock on them.

create table badge_state (
    id       integer primary key check (id = 1),
    version  bigint not null
);
insert into badge_state (id, version) values (1, 1);

create function badge_state_bump() returns trigger language plpgsql as $$
begin
    update badge_state set version = version + 1 where id = 1;
    return null;
end;
$$;

create trigger sync_badge_state_credential_update
    after update of revoked_at, revocation_reason, valid_until, issued_at, replaced_at,
        person_id, achievement, document on credentials
    for each statement execute function badge_state_bump();
create trigger sync_badge_state_credential_delete after delete on credentials
    for each statement execute function badge_state_bump();
create trigger sync_badge_state_person_update after update of name, listed_in_registry on people
    for each statement execute function badge_state_bump();

create table cache_instances (
    id            uuid primary key,
    seen_version  bigint not null,
    seen_at_ms    bigint not null
);
