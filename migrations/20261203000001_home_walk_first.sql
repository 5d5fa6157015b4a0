-- The home timeline walks first (issue 17's bench, BENCHMARKS.md section 9): the newest
-- chirps of all, kept when they are the reader's or a followee's, within a budget of rows
-- (16 per author followed, at least 4 per row of the page), and only when that does not
-- fill the page, the per-followee merge. A walked row costs about a twentieth of one of the
-- merge's index probes, so the walk costs at most what the merge would, and when popular
-- accounts post much (the bench's data set) it is all a page needs. Exact either way: a
-- filled page holds the newest `page` of the reader's chirps in the walked prefix, which is
-- everything newer than its last row.
create or replace function home_timeline(reader uuid, before_at timestamptz, before_id uuid, page integer)
returns setof chirps language plpgsql stable as $$
declare
    following bigint;
    walked chirps[];
    authors uuid[];
    bound_at timestamptz;
    bound_id uuid;
begin
    select following_count into following from users where id = reader;
    if following is null or page < 1 then
        return;
    end if;
    walked := array(
        select c from (
            select * from chirps
             where (created_at, id) < (before_at, before_id)
             order by created_at desc, id desc
             limit greatest(4 * page, 16 * (following + 1))
        ) c
        where c.hidden_at is null
          and (c.user_id = reader
               or (c.user_id in (select followee_id from follows where follower_id = reader)
                   and c.user_id not in (select muted_id from mutes where muter_id = reader)))
        order by c.created_at desc, c.id desc
        limit page);
    if cardinality(walked) = page then
        return query select * from unnest(walked);
        return;
    end if;
    -- The merge: each author's newest chirp before the cursor (one index probe each),
    -- ordered; the page-th newest of those bounds the page from below, and only the `page`
    -- authors at or above it can have written anything in it.
    select array_agg(a.id order by l.created_at desc, l.id desc),
           (array_agg(l.created_at order by l.created_at desc, l.id desc))[page],
           (array_agg(l.id order by l.created_at desc, l.id desc))[page]
      into authors, bound_at, bound_id
      from (select followee_id as id from follows
             where follower_id = reader
               and followee_id not in (select muted_id from mutes where muter_id = reader)
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
