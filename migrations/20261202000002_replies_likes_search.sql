-- Replies, likes and search (issue 19).

-- A reply names its parent and keeps naming it after the parent is deleted (so no foreign
-- key: the parent is checked when the reply is posted). The counts are kept by the triggers
-- below, in the transaction of the change they count, once per statement: likes are written
-- in groups (one per batch of concurrent likes), so a storm on one chirp updates its row
-- once per group, not once per like.
alter table chirps
    add column reply_to uuid,
    add column like_count bigint not null default 0 check (like_count >= 0),
    add column reply_count bigint not null default 0 check (reply_count >= 0),
    -- Words as written ('simple': no stemming and no stop words, so any language's chirps
    -- are found by their words as typed, lowercased).
    add column search tsvector generated always as (to_tsvector('simple', body)) stored;

create index chirps_reply_to_idx on chirps (reply_to, created_at, id) where reply_to is not null;
create index chirps_search_idx on chirps using gin (search);

alter table chirp_events add column reply_to uuid;

create table likes (
    chirp_id   uuid not null references chirps (id) on delete cascade,
    user_id    uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (chirp_id, user_id)
);

-- Who liked a chirp, newest first; and a user's likes, for when the user goes.
create index likes_chirp_id_created_at_idx on likes (chirp_id, created_at, user_id);
create index likes_user_id_idx on likes (user_id);

-- Rows whose counts move are locked in id order first, chirps before users, as every writer
-- of counts locks them, so two statements touching the same chirps or users cannot deadlock.
create function likes_count() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform 1 from chirps where id in (select chirp_id from changed) order by id for no key update;
        update chirps set like_count = like_count + counted.n
          from (select chirp_id, count(*) as n from changed group by chirp_id) as counted
         where chirps.id = counted.chirp_id;
    else
        perform 1 from chirps where id in (select chirp_id from changed) order by id for no key update;
        update chirps set like_count = like_count - counted.n
          from (select chirp_id, count(*) as n from changed group by chirp_id) as counted
         where chirps.id = counted.chirp_id;
    end if;
    perform 1 from users where id in (select user_id from changed) order by id for no key update;
    update users set wrote_at = clock_timestamp() where id in (select user_id from changed);
    return null;
end
$$;

create trigger likes_counted_in after insert on likes
    referencing new table as changed
    for each statement execute function likes_count();

create trigger likes_counted_out after delete on likes
    referencing old table as changed
    for each statement execute function likes_count();

-- Posting and deleting also count replies on their parents, and log the reply's parent.
create or replace function chirps_record_posted() returns trigger language plpgsql as $$
begin
    insert into chirp_events (kind, chirp_id, user_id, chirp_created_at, chirp_updated_at, body, reply_to)
    select 'created', id, user_id, created_at, updated_at, body, reply_to from posted;
    perform 1 from chirps where id in (select reply_to from posted) order by id for no key update;
    update chirps set reply_count = reply_count + counted.n
      from (select reply_to, count(*) as n from posted where reply_to is not null group by reply_to) as counted
     where chirps.id = counted.reply_to;
    perform 1 from users where id in (select user_id from posted) order by id for no key update;
    update users set chirps_count = chirps_count + counted.n, wrote_at = clock_timestamp()
      from (select user_id, count(*) as n from posted group by user_id) as counted
     where users.id = counted.user_id;
    return null;
end
$$;

create or replace function chirps_record_deleted() returns trigger language plpgsql as $$
begin
    insert into chirp_events (kind, chirp_id, user_id, chirp_created_at, chirp_updated_at, reply_to)
    select 'deleted', id, user_id, created_at, updated_at, reply_to from deleted;
    -- A parent deleted by the same statement is gone already: nothing to count for it; nor
    -- for an author being deleted.
    perform 1 from chirps where id in (select reply_to from deleted) order by id for no key update;
    update chirps set reply_count = reply_count - counted.n
      from (select reply_to, count(*) as n from deleted where reply_to is not null group by reply_to) as counted
     where chirps.id = counted.reply_to;
    perform 1 from users where id in (select user_id from deleted) order by id for no key update;
    update users set chirps_count = chirps_count - counted.n, wrote_at = clock_timestamp()
      from (select user_id, count(*) as n from deleted group by user_id) as counted
     where users.id = counted.user_id;
    return null;
end
$$;

-- People found by the start of their handle or display name, in any letter case.
create index users_handle_prefix_idx on users (lower(handle) text_pattern_ops);
create index users_display_name_prefix_idx on users (lower(display_name) text_pattern_ops);
