-- Adds hits to keys ($1: the keys, once each; $2: their window lengths in seconds; $3: the
-- hits to add), each in its current window (a new window starts the count again). Returns
-- each key's hits in its window so far and the seconds until the window ends.
insert into rate_counts (key, window_started, window_ends, hits)
select counted.key, slot.started, slot.started + slot.length, counted.hits
from unnest($1::text[], $2::int[], $3::int[]) as counted (key, seconds, hits)
cross join lateral (
    select date_bin(make_interval(secs => counted.seconds), now(), timestamptz 'epoch') as started,
           make_interval(secs => counted.seconds) as length
) as slot
on conflict (key) do update
    set hits = case when rate_counts.window_started = excluded.window_started
                    then rate_counts.hits + excluded.hits else excluded.hits end,
        window_started = excluded.window_started,
        window_ends = excluded.window_ends,
        updated_at = now()
returning key, hits, greatest(ceil(extract(epoch from window_ends - now())), 1)::int as "reset_secs!"
