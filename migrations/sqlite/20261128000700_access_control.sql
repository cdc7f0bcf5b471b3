-- Access control for the admin API, SQLite. Mirrors migrations/postgres with the same
-- version and name.
--
-- Tokens get a public id (the lookup key inside `pb_<public id>_<secret>`; the secret is
-- compared by hash in constant time), scopes and an optional expiry. Tokens made before
-- this migration have no public id: they keep working, looked up by the hash of the whole
-- token, with the `admin` scope they effectively had.

alter table api_tokens add column public_id text;   -- 16 lowercase hex; null for older tokens
alter table api_tokens add column scopes text not null default '';  -- comma-separated
alter table api_tokens add column expires_at text;
update api_tokens set scopes = 'admin';
create unique index api_tokens_public_id on api_tokens(public_id);

-- One row per request to an admin route, refused ones included. Never the token secret or
-- the request body. `id` orders the log (times are whole seconds).
create table audit_log (
    id          integer primary key autoincrement,
    at          text not null,
    token_id    text,           -- the token whose secret matched; null when none did
    token_name  text,
    action      text not null,  -- method and route template: 'POST /api/v1/credentials/{id}/revoke'
    target      text,           -- the {id} of the path, if the route has one
    status      integer not null,
    request_id  text            -- the x-request-id header
);
create index audit_log_token on audit_log(token_id, id);
create index audit_log_action on audit_log(action, id);
