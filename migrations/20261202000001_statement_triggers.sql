-- Chirps are posted in groups (issue 18: one multi-row insert for many concurrent posts),
-- and deleted by the thousand when their author goes: the event log and the authors' counts
-- are kept once per statement, from its transition table, not once per row.

drop trigger chirps_record_event on chirps;
drop trigger chirps_count on chirps;
drop function chirps_count();

-- Events keep the order of the statement's rows: a group's chirps are logged in the order
-- they were inserted, so the live feed sends them in that order.
create function chirps_record_posted() returns trigger language plpgsql as $$
begin
    insert into chirp_events (kind, chirp_id, user_id, chirp_created_at, chirp_updated_at, body)
    select 'created', id, user_id, created_at, updated_at, body from posted;
    -- Authors' rows are locked in id order, as every other writer of counts locks them, so
    -- two groups with authors in common cannot deadlock.
    perform 1 from users where id in (select user_id from posted) order by id for no key update;
    update users set chirps_count = chirps_count + counted.n, wrote_at = clock_timestamp()
      from (select user_id, count(*) as n from posted group by user_id) as counted
     where users.id = counted.user_id;
    return null;
end
$$;

create function chirps_record_deleted() returns trigger language plpgsql as $$
begin
    insert into chirp_events (kind, chirp_id, user_id, chirp_created_at, chirp_updated_at)
    select 'deleted', id, user_id, created_at, updated_at from deleted;
    -- An author being deleted is gone from users already: nothing to count for them.
    perform 1 from users where id in (select user_id from deleted) order by id for no key update;
    update users set chirps_count = chirps_count - counted.n, wrote_at = clock_timestamp()
      from (select user_id, count(*) as n from deleted group by user_id) as counted
     where users.id = counted.user_id;
    return null;
end
$$;

create trigger chirps_record_posted after insert on chirps
    referencing new table as posted
    for each statement execute function chirps_record_posted();

create trigger chirps_record_deleted after delete on chirps
    referencing old table as deleted
    for each statement execute function chirps_record_deleted();

drop function chirps_record_event();
