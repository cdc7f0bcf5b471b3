-- Natural keys for re-runnable imports (issue 6), SQLite. Mirrors migrations/postgres with
-- the same version and name.
--
-- A mentor and a person are each identified by their email. Every write path stores the
-- email normalised (trim + lowercase, `program::normalise_email`), so a plain unique index
-- on the column is the rule. An existing database with two people (or two mentors) sharing
-- an email stops here with a message saying what to fix, instead of a bare index error.

create temp table natural_keys_check (ok integer);
create temp trigger natural_keys_check_dupes before insert on natural_keys_check
when exists (select 1 from main.people group by email having count(*) > 1)
  or exists (select 1 from main.mentors group by email having count(*) > 1)
begin
    select raise(abort, 'cannot add the unique email indexes: some people or mentors share an email; find them with "select email, count(*) from people group by email having count(*) > 1" (and the same for mentors), merge or change them, then migrate again');
end;
insert into natural_keys_check values (1);
drop table natural_keys_check;

create unique index people_email on people(email);
create unique index mentors_email on mentors(email);
