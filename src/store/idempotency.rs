//! Chirps posted with an `Idempotency-Key`: the key, a hash of what was asked and the
//! response, kept 24 hours and written in the chirp's own transaction (see `posting`).

use std::time::Duration;

use super::{Store, interval};

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

impl Store {
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
