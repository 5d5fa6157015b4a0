-- A page of the reader's ($1) home timeline after ($2, $3), at most $4 chirps, by the hybrid:
-- their inbox (without the pulled accounts' chirps) merged with the newest $4 of each pulled
-- account they follow, read from the index alone; then the page's chirps by id.
select c.*
from (select created_at, id from (
          (select created_at, chirp_id as id from bench_home_inbox_hybrid
            where user_id = $1 and (created_at, chirp_id) < ($2, $3)
            order by created_at desc, chirp_id desc
            limit $4)
          union all
          (select l.created_at, l.id
             from follows f
             join bench_hybrid_pulled p on p.id = f.followee_id
             cross join lateral (
                  select created_at, id from chirps
                   where user_id = f.followee_id and (created_at, id) < ($2, $3)
                   order by created_at desc, id desc
                   limit $4) l
            where f.follower_id = $1)
      ) merged
      order by created_at desc, id desc
      limit $4) top
join chirps c on c.id = top.id
order by c.created_at desc, c.id desc
