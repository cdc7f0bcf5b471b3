-- The staff console (issue 14), SQLite. Mirrors migrations/postgres with the same version
-- and name.
--
-- Staff accounts: an email (normalised, unique), a role that maps onto the API's scopes, and
-- an argon2id password hash once the account's one-time link has been used. OpenID Connect
-- sign-in matches the same email; nobody gets an account by signing in.
create table staff (
    id               text primary key,
    email            text not null unique,
    role             text not null check (role in ('admin', 'issuer', 'reviewer', 'reader')),
    password_hash    text,
    created_at       text not null,
    password_set_at  text
);

-- One-time links that set a password (24 hours). Only the token's SHA-256 is here.
create table staff_links (
    token_hash  text primary key,
    staff_id    text not null references staff(id),
    created_at  text not null,
    expires_at  text not null,
    used_at     text
);
create index staff_links_staff on staff_links(staff_id);

-- Signed-in staff. A session ends when idle too long (last_seen_at) or at expires_at,
-- whichever comes first; "sign out everywhere" and a password change delete the rows.
create table staff_sessions (
    token_hash    text primary key,
    staff_id      text not null references staff(id),
    created_at    text not null,
    last_seen_at  text not null,
    expires_at    text not null
);
create index staff_sessions_staff on staff_sessions(staff_id);

-- The audit log names the staff member behind a console action (the API's entries name
-- their token instead).
alter table audit_log add column staff_id text;
alter table audit_log add column staff_email text;
create index audit_log_staff on audit_log(staff_id, id);
