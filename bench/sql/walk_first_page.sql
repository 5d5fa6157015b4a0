-- A page of the reader's ($1) home timeline after ($2, $3), at most $4 chirps, by the
-- walk-first candidate (walk_first.sql).
select * from bench_home_walk_first($1, $2, $3, $4)
