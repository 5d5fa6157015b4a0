-- Blocks, mutes, reports, moderators, and notifications (issue 21).

-- A block is mutual in effect (neither may follow, reply to or like the other, and neither
-- sees the other when authenticated); a mute hides the muted account from the muter's home
-- timeline, notifications and live feed only.
create table blocks (
    blocker_id uuid not null references users (id) on delete cascade,
    blocked_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (blocker_id, blocked_id),
    check (blocker_id <> blocked_id)
);

create index blocks_blocked_id_idx on blocks (blocked_id, blocker_id);
create index blocks_blocker_id_created_at_idx on blocks (blocker_id, created_at, blocked_id);

create table mutes (
    muter_id   uuid not null references users (id) on delete cascade,
    muted_id   uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (muter_id, muted_id),
    check (muter_id <> muted_id)
);

create index mutes_muter_id_created_at_idx on mutes (muter_id, created_at, muted_id);

-- Whether either of two users blocks the other (null for no viewer: nobody is hidden).
create function blocked_between(a uuid, b uuid) returns boolean language sql stable as $$
    select a is not null and b is not null
       and exists (select 1 from blocks
                    where (blocker_id = a and blocked_id = b) or (blocker_id = b and blocked_id = a))
$$;

-- Moderators are made by an operator (docs/operating.md), never through the API. A
-- suspended user cannot log in or refresh, their access tokens stop working, and their
-- chirps are hidden from every read (kept, so a suspension can be looked into).
alter table users
    add column is_moderator boolean not null default false,
    add column suspended_at timestamptz;

alter table chirps add column hidden_at timestamptz;

create table reports (
    id          uuid primary key default gen_random_uuid(),
    reporter_id uuid not null references users (id) on delete cascade,
    user_id     uuid not null references users (id) on delete cascade,
    chirp_ids   uuid[] not null default '{}',
    reason      text not null check (char_length(reason) between 1 and 1000),
    status      text not null default 'open' check (status in ('open', 'resolved')),
    resolved_by uuid references users (id) on delete set null,
    resolved_at timestamptz,
    resolution  text check (char_length(resolution) <= 1000),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    check (reporter_id <> user_id)
);

create index reports_open_first_idx on reports ((status = 'open') desc, created_at, id);

-- Every moderator action, with who, what and when. Kept when the moderator or the target
-- goes (the ids stay as they were).
create table moderation_log (
    id           bigint generated always as identity primary key,
    moderator_id uuid not null,
    action       text not null check (action in ('resolve_report', 'suspend_user', 'delete_chirp')),
    report_id    uuid,
    user_id      uuid,
    chirp_id     uuid,
    detail       text not null default '',
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

-- Notifications, written by triggers in the transaction of the action that causes them and
-- removed when it is undone. `seq` orders them and moves when a grouped one gains a like, so
-- it comes back on top, unread. Likes of one chirp are one notification, whatever their
-- number (`actors` counts them; `actor_id` is the latest): a burst of 10,000 likes updates
-- one row per group of likes written together, and sends its owner one event per group.
create sequence notifications_seq;

create table notifications (
    id           uuid primary key default gen_random_uuid(),
    seq          bigint not null default nextval('notifications_seq'),
    recipient_id uuid not null references users (id) on delete cascade,
    kind         text not null check (kind in ('follow', 'reply', 'mention', 'like')),
    actor_id     uuid not null references users (id) on delete cascade,
    -- The reply, the mentioning chirp, or the chirp liked; none for a follow.
    chirp_id     uuid references chirps (id) on delete cascade,
    actors       integer not null default 1 check (actors >= 0),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

create index notifications_recipient_seq_idx on notifications (recipient_id, seq);
create unique index notifications_one_per_follow on notifications (recipient_id, actor_id) where kind = 'follow';
create unique index notifications_one_per_chirp on notifications (recipient_id, kind, chirp_id) where kind <> 'follow';

-- Where each user has read up to, shared by their devices (Mastodon's markers).
create table notification_markers (
    user_id     uuid primary key references users (id) on delete cascade,
    last_read   bigint not null default 0,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- The log carries notifications too, for the recipient's live home feed.
alter table chirp_events
    drop constraint chirp_events_kind_check,
    add constraint chirp_events_kind_check
        check (kind in ('created', 'deleted', 'followed', 'unfollowed', 'notified')),
    -- A notification's place in its recipient's list (its kind goes in `body`).
    add column notification_seq bigint;

-- Whether `actor` may notify `recipient`: not themselves, not blocked either way, not muted.
create function may_notify(recipient uuid, actor uuid) returns boolean language sql stable as $$
    select recipient <> actor
       and not blocked_between(recipient, actor)
       and not exists (select 1 from mutes where muter_id = recipient and muted_id = actor)
$$;

-- Writes or removes a notification and logs it for the live feed.
create function notify(recipient uuid, what text, actor uuid, chirp uuid, delta integer) returns void
language plpgsql as $$
declare
    changed notifications;
begin
    if delta > 0 then
        if not may_notify(recipient, actor) then
            return;
        end if;
        if what = 'follow' then
            insert into notifications (recipient_id, kind, actor_id)
            values (recipient, what, actor)
            on conflict (recipient_id, actor_id) where kind = 'follow' do nothing
            returning * into changed;
        else
            insert into notifications (recipient_id, kind, actor_id, chirp_id, actors)
            values (recipient, what, actor, chirp, delta)
            on conflict (recipient_id, kind, chirp_id) where kind <> 'follow' do update
                set actors = notifications.actors + excluded.actors,
                    actor_id = excluded.actor_id,
                    seq = nextval('notifications_seq'),
                    updated_at = now()
            returning * into changed;
        end if;
        if changed.id is not null then
            insert into chirp_events (kind, user_id, target_id, chirp_id, body, notification_seq)
            values ('notified', recipient, actor, chirp, what, changed.seq);
        end if;
    elsif what = 'follow' then
        delete from notifications where recipient_id = recipient and actor_id = actor and kind = 'follow';
    else
        update notifications set actors = actors + delta, updated_at = now()
         where recipient_id = recipient and kind = what and chirp_id = chirp;
        delete from notifications
         where recipient_id = recipient and kind = what and chirp_id = chirp and actors <= 0;
    end if;
end
$$;

create function follows_notify() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform notify(new.followee_id, 'follow', new.follower_id, null, 1);
    else
        perform notify(old.followee_id, 'follow', old.follower_id, null, -1);
    end if;
    return null;
end
$$;

create trigger follows_notify after insert or delete on follows
    for each row execute function follows_notify();

-- Likes: one call per liked chirp and group of likes, with the group's latest liker.
create function likes_notify() returns trigger language plpgsql as $$
declare
    liked record;
begin
    if tg_op = 'INSERT' then
        for liked in
            select changed.chirp_id, chirps.user_id as author, count(*) as n,
                   (array_agg(changed.user_id order by changed.created_at desc))[1] as latest
              from changed join chirps on chirps.id = changed.chirp_id
             where may_notify(chirps.user_id, changed.user_id)
             group by changed.chirp_id, chirps.user_id
        loop
            perform notify(liked.author, 'like', liked.latest, liked.chirp_id, liked.n::integer);
        end loop;
    else
        for liked in
            select changed.chirp_id, chirps.user_id as author, count(*) as n
              from changed join chirps on chirps.id = changed.chirp_id
             where may_notify(chirps.user_id, changed.user_id)
             group by changed.chirp_id, chirps.user_id
        loop
            perform notify(liked.author, 'like', liked.author, liked.chirp_id, -liked.n::integer);
        end loop;
    end if;
    return null;
end
$$;

create trigger likes_notify_in after insert on likes
    referencing new table as changed
    for each statement execute function likes_notify();

create trigger likes_notify_out after delete on likes
    referencing old table as changed
    for each statement execute function likes_notify();

-- Replies and mentions, when a chirp is posted (mentions are its `@handle`s, read from its
-- text here, in the posting transaction). A deleted chirp's go with it (the foreign key).
create function chirps_notify() returns trigger language plpgsql as $$
declare
    told record;
begin
    for told in
        select parent.user_id as recipient, posted.user_id as actor, posted.id as chirp
          from posted join chirps parent on parent.id = posted.reply_to
    loop
        perform notify(told.recipient, 'reply', told.actor, told.chirp, 1);
    end loop;
    for told in
        select distinct mentioned.id as recipient, posted.user_id as actor, posted.id as chirp
          from posted
         cross join lateral regexp_matches(posted.body, '(?:^|[^A-Za-z0-9_])@([A-Za-z0-9_]{3,30})', 'g') as m
          join users mentioned on lower(mentioned.handle) = lower(m[1])
    loop
        perform notify(told.recipient, 'mention', told.actor, told.chirp, 1);
    end loop;
    return null;
end
$$;

create trigger chirps_notify after insert on chirps
    referencing new table as posted
    for each statement execute function chirps_notify();

-- The home timeline hides what the reader muted (and, as ever, never shows what a block
-- ended: blocks end follows both ways) and what is hidden (a suspended author's).
create or replace function home_timeline(reader uuid, before_at timestamptz, before_id uuid, page integer)
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
            where c.hidden_at is null
              and (c.user_id = reader
                   or (exists (select 1 from follows f where f.follower_id = reader and f.followee_id = c.user_id)
                       and not exists (select 1 from mutes m where m.muter_id = reader and m.muted_id = c.user_id)))
            order by c.created_at desc, c.id desc
            limit page);
        if cardinality(walked) = page then
            return query select * from unnest(walked);
            return;
        end if;
    end if;
    select array_agg(a.id order by l.created_at desc, l.id desc),
           (array_agg(l.created_at order by l.created_at desc, l.id desc))[page],
           (array_agg(l.id order by l.created_at desc, l.id desc))[page]
      into authors, bound_at, bound_id
      from (select followee_id as id from follows
             where follower_id = reader
               and not exists (select 1 from mutes m where m.muter_id = reader and m.muted_id = followee_id)
            union all select reader) a
     cross join lateral (
            select created_at, id from chirps
             where user_id = a.id and (created_at, id) < (before_at, before_id) and hidden_at is null
             order by created_at desc, id desc
             limit 1) l;
    if bound_at is null then
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
                  and c.hidden_at is null
                order by c.created_at desc, c.id desc
                limit page) c
         order by c.created_at desc, c.id desc
         limit page;
end
$$;
