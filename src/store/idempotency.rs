//! Chirps posted with an `Idempotency-Key`: the key, a hash of what was asked and the
//! response, kept 24 hours and written in the chirp's own transaction.

use std::time::Duration;

use uuid::Uuid;

use super::{Chirp, Store, interval};

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// What posting with a key came to.
pub enum KeyedPost {
    /// Posted now. The response to remember is written by the caller, from the chirp.
    Posted(Chirp),
    /// The key was used before for this same request: the response it got then.
    Replayed(String),
    /// The key was used before for a different request.
    Mismatch,
    /// A request with this key is still being handled.
    InFlight,
    /// The author no longer exists.
    NoAuthor,
}

impl Store {
    /// Posts `body` by `author` unless `key` was used (by this author, in the last 24 hours):
    /// then the first request's outcome. `respond` renders the response to remember.
    pub async fn insert_chirp_once(
        &self,
        author: Uuid,
        key: &str,
        request_hash: &[u8],
        body: &str,
        respond: impl FnOnce(&Chirp) -> String,
    ) -> sqlx::Result<KeyedPost> {
        let mut tx = self.begin().await?;
        let outcome: sqlx::Result<KeyedPost> = async {
            let tx = &mut *tx;
            // One holder per (author, key) at a time, for this transaction only; a second one
            // is told at once rather than kept waiting.
            let ours = sqlx::query_scalar!(
                r#"select pg_try_advisory_xact_lock(hashtextextended($1::text || ':' || $2, 0)) as "locked!""#,
                author.to_string(),
                key,
            )
            .fetch_one(self.on(&mut *tx))
            .await?;
            if !ours {
                return Ok(KeyedPost::InFlight);
            }
            let earlier = sqlx::query_file!(
                "src/store/sql/idempotency_key_used.sql",
                author,
                key,
                interval(KEY_LIFETIME),
            )
            .fetch_optional(self.on(&mut *tx))
            .await?;
            if let Some(earlier) = earlier {
                return Ok(if earlier.request_hash == request_hash {
                    KeyedPost::Replayed(earlier.response)
                } else {
                    KeyedPost::Mismatch
                });
            }
            let inserted = sqlx::query_file_as!(Chirp, "src/store/sql/insert_chirp.sql", body, author)
                .fetch_one(self.on(&mut *tx))
                .await;
            let chirp = match inserted {
                Err(err) if super::violates(&err, "chirps_user_id_fkey") => return Ok(KeyedPost::NoAuthor),
                other => other?,
            };
            sqlx::query_file!(
                "src/store/sql/idempotency_key_remember.sql",
                author,
                key,
                request_hash,
                chirp.id,
                respond(&chirp),
            )
            .execute(self.on(&mut *tx))
            .await?;
            Ok(KeyedPost::Posted(chirp))
        }
        .await;
        // Ended here, not when dropped: a dropped transaction's rollback waits for its
        // connection's next use, and holds the key's lock until then (a retry right after
        // a replay was told 409).
        match &outcome {
            Ok(KeyedPost::Posted(_)) => {
                tx.commit().await?;
                self.wrote(author);
            }
            _ => tx.rollback().await?,
        }
        outcome
    }

    /// Deletes keys older than a day; returns how many.
    pub async fn delete_expired_idempotency_keys(&self) -> sqlx::Result<u64> {
        let deleted = sqlx::query!(
            "delete from idempotency_keys where created_at < now() - $1::interval",
            interval(KEY_LIFETIME),
        )
        .execute(self.primary())
        .await?;
        Ok(deleted.rows_affected())
    }
}
