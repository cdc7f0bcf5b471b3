-- The dashboard's figures (issue 14), SQLite. Mirrors migrations/postgres with the same
-- version and name.
--
-- Closings per month, per partner country and per mentor are counted on every
-- (uncached) dashboard: from these indexes, not from the whole table.
create index closings_closed_on on closings(closed_on);
create index closings_partner_country on closings(partner_country);
create index closings_mentor on closings(mentor_id);
-- A badge's state by achievement and holder, covering what the work queue and the certified
-- counts read (who holds a valid Closed without a valid Certified), so those counts never
-- visit the table.
create index credentials_state on credentials(achievement, person_id, revoked_at, valid_until, issued_at);
