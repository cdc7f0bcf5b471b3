-- Natural keys for re-runnable imports (issue 6), PostgreSQL. Mirrors migrations/sqlite
-- with the same version and name.
--
-- A mentor and a person are each identified by their email. Every write path stores the
-- email normalised (trim + lowercase, `program::normalise_email`), so a plain unique index
-- on the column is the rule. An existing database with two people (or two mentors) sharing
-- an email stops here with a message saying what to fix, instead of a bare index error.

do $$
begin
    if exists (select 1 from people group by email having count(*) > 1)
       or exists (select 1 from mentors group by email having count(*) > 1) then
        raise exception 'cannot add the unique email indexes: some people or mentors share an email; find them with "select email, count(*) from people group by email having count(*) > 1" (and the same for mentors), merge or change them, then migrate again';
    end if;
end
$$;

create unique index people_email on people(email);
create unique index mentors_email on mentors(email);
