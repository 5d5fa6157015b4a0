-- Profiles, follows and the home timeline (issue 17).

-- A handle is null until its user sets one; it is unique regardless of letter case (it is
-- ASCII, so lower() is exact) and kept as typed. The counts are kept by the triggers below,
-- in the transaction of the change they count, so they are exact whatever interleaves.
-- `wrote_at` is when the user last changed what their own reads show (a post, a deletion, a
-- follow, an unfollow, a profile edit): until a replica has surely replayed that, their
-- reads go to the primary (read your writes, on every instance).
alter table users
    add column handle text check (handle ~ '^[A-Za-z0-9_]{3,30}$'),
    add column display_name text not null default '' check (char_length(display_name) <= 50),
    add column bio text not null default '' check (char_length(bio) <= 160),
    add column followers_count bigint not null default 0 check (followers_count >= 0),
    add column following_count bigint not null default 0 check (following_count >= 0),
    add column chirps_count bigint not null default 0 check (chirps_count >= 0),
    add column wrote_at timestamptz not null default '-infinity';

create unique index users_handle_key on users (lower(handle));

update users set chirps_count = counted.n
from (select user_id, count(*) as n from chirps group by user_id) as counted
where users.id = counted.user_id;

-- Who follows whom. Both lists page newest follow first, by (created_at, the other's id).
create table follows (
    follower_id uuid not null references users (id) on delete cascade,
    followee_id uuid not null references users (id) on delete cascade,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (follower_id, followee_id),
    check (follower_id <> followee_id)
);

create index follows_follower_id_created_at_idx on follows (follower_id, created_at, followee_id);
create index follows_followee_id_created_at_idx on follows (followee_id, created_at, follower_id);

-- Both users' rows are locked in id order before either count moves, so two users following
-- each other at the same moment cannot deadlock. (A user being deleted is gone from users
-- already when the cascade removes their follows: the update finds nothing, as it should.)
create function follows_count() returns trigger language plpgsql as $$
declare
    delta bigint := case tg_op when 'INSERT' then 1 else -1 end;
    edge follows := case tg_op when 'INSERT' then new else old end;
begin
    perform 1 from users where id in (edge.follower_id, edge.followee_id) order by id for no key update;
    update users set following_count = following_count + delta, wrote_at = clock_timestamp()
     where id = edge.follower_id;
    update users set followers_count = followers_count + delta where id = edge.followee_id;
    return null;
end
$$;

create trigger follows_count after insert or delete on follows
    for each row execute function follows_count();

create function chirps_count() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        update users set chirps_count = chirps_count + 1, wrote_at = clock_timestamp() where id = new.user_id;
    else
        update users set chirps_count = chirps_count - 1, wrote_at = clock_timestamp() where id = old.user_id;
    end if;
    return null;
end
$$;

create trigger chirps_count after insert or delete on chirps
    for each row execute function chirps_count();

-- The event log carries follows too, so a live home feed learns whom its reader follows in
-- the same order as the chirps it filters: `user_id` follows (or stops following)
-- `target_id`. Chirp columns are empty for them.
alter table chirp_events
    drop constraint chirp_events_kind_check,
    add constraint chirp_events_kind_check check (kind in ('created', 'deleted', 'followed', 'unfollowed')),
    alter column chirp_id drop not null,
    alter column chirp_created_at drop not null,
    alter column chirp_updated_at drop not null,
    add column target_id uuid;

create function follows_record_event() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into chirp_events (kind, user_id, target_id) values ('followed', new.follower_id, new.followee_id);
    else
        insert into chirp_events (kind, user_id, target_id) values ('unfollowed', old.follower_id, old.followee_id);
    end if;
    return null;
end
$$;

create trigger follows_record_event after insert or delete on follows
    for each row execute function follows_record_event();

-- Only the reader's own follows are read back from the log (a resuming home feed learns
-- whom its reader followed then).
create index chirp_events_follows_idx on chirp_events (user_id, tx, seq) where kind in ('followed', 'unfollowed');

-- The home timeline: the chirps of `reader` and of everyone `reader` follows, newest first,
-- after the cursor (before_at, before_id), at most `page` of them; exactly what
--   select * from chirps where user_id = reader or user_id in (followees of reader)
--   order by created_at desc, id desc
-- returns, without reading every followee's chirps. src/store/timeline.rs says why this
-- design (fan-out on read), and BENCHMARKS.md what it costs.
create function home_timeline(reader uuid, before_at timestamptz, before_id uuid, page integer)
returns setof chirps language plpgsql stable as $$
declare
    following bigint;
    posters double precision;
    scan bigint;
    walked chirps[];
    authors uuid[];
    bound_at timestamptz;
    bound_id uuid;
begin
    select following_count into following from users where id = reader;
    if following is null or page < 1 then
        return;
    end if;
    -- Walk: following a large share of everyone, the newest chirps of all are mostly the
    -- reader's; walk them newest first and keep the followed. Expected rows walked: page
    -- times the share of users not followed. Cheaper than the merge below when
    -- following^2 > 2 * page * users. Walking stops after twice the expected rows, and
    -- what it found is used only if it filled the page (those whom the reader follows may
    -- post less than most); otherwise the merge answers.
    posters := greatest((select reltuples from pg_class where oid = 'users'::regclass), 1);
    if following * following > 2 * page * posters then
        scan := ceil(2 * page * posters / following);
        walked := array(
            select c from (
                select * from chirps
                 where (created_at, id) < (before_at, before_id)
                 order by created_at desc, id desc
                 limit scan
            ) c
            where c.user_id = reader
               or exists (select 1 from follows f where f.follower_id = reader and f.followee_id = c.user_id)
            order by c.created_at desc, c.id desc
            limit page);
        if cardinality(walked) = page then
            return query select * from unnest(walked);
            return;
        end if;
    end if;
    -- Merge: each author's newest chirp before the cursor (one index probe each), ordered.
    -- The page-th newest of those bounds the page from below: at least `page` chirps are at
    -- or above it, so the page holds nothing older, and only the `page` authors whose
    -- newest is at or above it can have written anything in it.
    select array_agg(a.id order by l.created_at desc, l.id desc),
           (array_agg(l.created_at order by l.created_at desc, l.id desc))[page],
           (array_agg(l.id order by l.created_at desc, l.id desc))[page]
      into authors, bound_at, bound_id
      from (select followee_id as id from follows where follower_id = reader
            union all select reader) a
     cross join lateral (
            select created_at, id from chirps
             where user_id = a.id and (created_at, id) < (before_at, before_id)
             order by created_at desc, id desc
             limit 1) l;
    if bound_at is null then
        -- Fewer than `page` authors have anything before the cursor: all of it is the page.
        bound_at := '-infinity';
        bound_id := '00000000-0000-0000-0000-000000000000';
    end if;
    return query
        select c.* from unnest(authors[1:page]) a(id)
         cross join lateral (
               select * from chirps c
                where c.user_id = a.id
                  and (c.created_at, c.id) < (before_at, before_id)
                  and (c.created_at, c.id) >= (bound_at, bound_id)
                order by c.created_at desc, c.id desc
                limit page) c
         order by c.created_at desc, c.id desc
         limit page;
end
$$;
