-- A group of likes and unlikes ($1: the chirps, $2: the users, $3: true to like, false to
-- unlike; each (chirp, user) once), in one statement: likes of chirps that exist, by users
-- who exist, between users neither of whom blocks the other, are added (again, harmlessly),
-- unlikes removed. Returns which chirps and users exist, and which likes a block refused.
-- `just bench` runs this file in pgbench too (a group of one).
with wanted as (
    select * from unnest($1::uuid[], $2::uuid[], $3::bool[]) as wanted (chirp_id, user_id, liked)
),
chirps_present as (
    select id, user_id from chirps where id in (select chirp_id from wanted) and hidden_at is null
),
users_present as (
    select id from users where id in (select user_id from wanted)
),
refused as (
    select wanted.chirp_id, wanted.user_id
      from wanted join chirps_present on chirps_present.id = wanted.chirp_id
     where wanted.liked and blocked_between(wanted.user_id, chirps_present.user_id)
),
added as (
    insert into likes (chirp_id, user_id)
    select wanted.chirp_id, wanted.user_id
      from wanted
      join chirps_present on chirps_present.id = wanted.chirp_id
      join users_present on users_present.id = wanted.user_id
     where wanted.liked
       and not exists (select 1 from refused where refused.chirp_id = wanted.chirp_id and refused.user_id = wanted.user_id)
    on conflict do nothing
    returning chirp_id
),
removed as (
    delete from likes
     using wanted
     where not wanted.liked and likes.chirp_id = wanted.chirp_id and likes.user_id = wanted.user_id
    returning likes.chirp_id
)
select 'chirp' as "kind!", id as "id!", null::uuid as "user_id" from chirps_present
union all
select 'user', id, null from users_present
union all
select 'blocked', chirp_id, user_id from refused
