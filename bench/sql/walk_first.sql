-- A candidate for the server's `home_timeline` (a prototype, not part of the server): fan-out
-- on read that walks the newest chirps of all first, keeping the reader's and their
-- followees', within a budget of rows, and falls back to the server's function (its merge)
-- when the walk does not fill the page. The budget is what makes it safe: a walked row costs
-- about a twentieth of one of the merge's per-followee index probes (measured: about 0.4 us
-- against 8 us), so walking 16 rows per followee at most costs no more than the merge would,
-- and a page that needs more falls back having lost less than the merge's own cost. Exact
-- either way: a filled page holds the newest `page` of the reader's chirps in the walked
-- prefix, which is everything newer than its last row.
-- The arguments and the result are those of `home_timeline`.
create or replace function bench_home_walk_first(reader uuid, before_at timestamptz, before_id uuid, page integer)
returns setof chirps language plpgsql stable as $$
declare
    following bigint;
    walked chirps[];
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
        where c.user_id = reader
           or c.user_id in (select followee_id from follows where follower_id = reader)
        order by c.created_at desc, c.id desc
        limit page);
    if cardinality(walked) = page then
        return query select * from unnest(walked);
        return;
    end if;
    return query select * from home_timeline(reader, before_at, before_id, page);
end
$$
