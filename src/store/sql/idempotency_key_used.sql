-- What the key ($2) of the author ($1) was used for in the last $3, if anything.
select request_hash, response
from idempotency_keys
where user_id = $1 and key = $2 and created_at > now() - $3::interval
