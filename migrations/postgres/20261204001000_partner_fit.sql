-- Partner fit (issue 14), PostgreSQL. Mirrors migrations/sqlite with the same version and
-- name.
--
-- The program's own assessment of a closing's partner organisation (depth, spread,
-- participation; three criteria each, rated 0-3 with a note), as JSON. Internal: no public
-- page and no credential shows it.
alter table closings add column partner_fit jsonb;
