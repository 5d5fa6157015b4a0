//! Refresh tokens, kept only as their SHA-256.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Store;

impl Store {
    pub async fn insert_refresh_token(&self, hash: &[u8], user: Uuid, expires_at: DateTime<Utc>) -> sqlx::Result<()> {
        sqlx::query!(
            "insert into refresh_tokens (token_hash, user_id, expires_at) values ($1, $2, $3)",
            hash,
            user,
            expires_at,
        )
        .execute(self.primary())
        .await
        .map(drop)
    }

    /// The user of a live (unrevoked, unexpired) refresh token.
    pub async fn refresh_token_user(&self, hash: &[u8]) -> sqlx::Result<Option<Uuid>> {
        sqlx::query_scalar!(
            "select user_id from refresh_tokens where token_hash = $1 and revoked_at is null and expires_at > now()",
            hash,
        )
        .fetch_optional(self.primary())
        .await
    }

    /// Revokes the token (again, harmlessly, if it already was); `false` if it is unknown.
    pub async fn revoke_refresh_token(&self, hash: &[u8]) -> sqlx::Result<bool> {
        let revoked = sqlx::query!(
            "update refresh_tokens set revoked_at = coalesce(revoked_at, now()), updated_at = now()
             where token_hash = $1",
            hash,
        )
        .execute(self.primary())
        .await?;
        Ok(revoked.rows_affected() == 1)
    }
}
