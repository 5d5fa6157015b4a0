-- The chain a chirp answers, from its parent ($1) up, nearest first, at most $2 deep; it ends
-- at the root, at a link that was deleted or hidden, or at one by a user the viewer ($3, if
-- any) blocks or is blocked by.
with recursive chain (id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count, depth) as (
    select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count, 1
    from chirps where id = $1 and hidden_at is null and not blocked_between($3, user_id)
    union all
    select parent.id, parent.created_at, parent.updated_at, parent.body, parent.user_id, parent.reply_to,
           parent.like_count, parent.reply_count, chain.depth + 1
    from chain join chirps parent on parent.id = chain.reply_to
    where chain.depth < $2 and parent.hidden_at is null and not blocked_between($3, parent.user_id)
)
select id as "id!", created_at as "created_at!", updated_at as "updated_at!", body as "body!", user_id as "user_id!",
       reply_to, like_count as "like_count!", reply_count as "reply_count!"
from chain
order by depth
