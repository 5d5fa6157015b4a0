-- A group of likes and unlikes ($1: the chirps, $2: the users, $3: true to like, false to
-- unlike; each (chirp, user) once), in one statement: likes of chirps that exist by users
-- who exist are added (again, harmlessly), unlikes removed. Returns which of the chirps and
-- users exist. `just bench` runs this file in pgbench too (a group of one).
with wanted as (
    select * from unnest($1::uuid[], $2::uuid[], $3::bool[]) as wanted (chirp_id, user_id, liked)
),
chirps_present as (
    select id from chirps where id in (select chirp_id from wanted)
),
users_present as (
    select id from users where id in (select user_id from wanted)
),
added as (
    insert into likes (chirp_id, user_id)
    select wanted.chirp_id, wanted.user_id
      from wanted
      join chirps_present on chirps_present.id = wanted.chirp_id
      join users_present on users_present.id = wanted.user_id
     where wanted.liked
    on conflict do nothing
    returning chirp_id
),
removed as (
    delete from likes
     using wanted
     where not wanted.liked and likes.chirp_id = wanted.chirp_id and likes.user_id = wanted.user_id
    returning likes.chirp_id
)
select 'chirp' as "kind!", id as "id!" from chirps_present
union all
select 'user', id from users_present
