//! Refresh tokens, kept only as their SHA-256, each in a session: the family of tokens that
//! descend from one login's by rotation (src/store/sessions.rs lists and ends sessions).
//!
//! Every transaction that changes a session's tokens locks the session's row first
//! (`for update`), and only then reads or writes its tokens, so the rotations, reuses and
//! revocations of one session take turns. Two refreshes with one token cannot both replace
//! it: the second finds it replaced. A revocation that waited for a rotation revokes the
//! successor that rotation committed, and a rotation that waited for a revocation finds the
//! session revoked. Several sessions are locked in id order, always before their tokens.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, interval};

/// What presenting a refresh token came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// The session's current token: live. `rotated` when it was replaced now, by the
    /// successor the caller gave.
    Current {
        user_id: Uuid,
        session_id: Uuid,
        rotated: bool,
    },
    /// Replaced within the grace window: live still, for the retries of the request that
    /// replaced it. `successor` is the hash of the token that replaced it.
    Replaced {
        user_id: Uuid,
        session_id: Uuid,
        successor: Vec<u8>,
    },
    /// Replaced longer ago than the grace window: taken for a stolen token, so the whole
    /// session has just been revoked.
    Reused { user_id: Uuid, session_id: Uuid },
    /// Unknown, expired or revoked, or its session is.
    Refused,
}

/// The token that replaces the one presented, if it is the current one.
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    /// The successor's SHA-256.
    pub successor: &'a [u8],
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Starts a session (a login) with its first refresh token. Returns the session's id.
    pub async fn start_session(
        &self,
        hash: &[u8],
        user: Uuid,
        expires_at: DateTime<Utc>,
        user_agent: Option<&str>,
    ) -> sqlx::Result<Uuid> {
        sqlx::query_scalar!(
            "with session as (insert into sessions (user_id, user_agent) values ($2, $4) returning id)
             insert into refresh_tokens (token_hash, user_id, expires_at, session_id)
             select $1, $2, $3, id from session
             returning session_id",
            hash,
            user,
            expires_at,
            user_agent,
        )
        .fetch_one(self.primary())
        .await
    }

    /// Presents the refresh token `hash`: whether it is live, and with `rotation`, replaces
    /// it if it is its session's current token. A token replaced within `grace` is still
    /// live; one replaced longer ago revokes its whole session.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, hash: &[u8], rotation: Option<Rotation<'_>>, grace: Duration) -> sqlx::Result<Refresh> {
        let mut tx = self.begin().await?;
        // A session revoked while this waited for its lock is no longer found.
        let session = sqlx::query!(
            "select s.id, s.user_id from sessions s
              where s.id = (select session_id from refresh_tokens where token_hash = $1) and s.revoked_at is null
                for update of s",
            hash,
        )
        .fetch_optional(self.on(&mut tx))
        .await?;
        let Some(session) = session else {
            return Ok(Refresh::Refused);
        };
        let (user_id, session_id) = (session.user_id, session.id);
        // Read under the session's lock: what every writer of its tokens committed is seen.
        let token = sqlx::query!(
            r#"select expires_at > now() as "unexpired!", revoked_at is not null as "revoked!",
                      replaced_by, replaced_at > now() - $2::interval as in_grace
                 from refresh_tokens where token_hash = $1"#,
            hash,
            interval(grace),
        )
        .fetch_one(self.on(&mut tx))
        .await?;
        let outcome = match (token.replaced_by, token.in_grace) {
            // Reuse is judged before expiry: an old replaced token, presented at all, means
            // someone kept it.
            (Some(_), Some(false)) => {
                self.end_session(&mut tx, session_id).await?;
                Refresh::Reused { user_id, session_id }
            }
            _ if token.revoked || !token.unexpired => return Ok(Refresh::Refused),
            (Some(successor), _) => Refresh::Replaced {
                user_id,
                session_id,
                successor,
            },
            (None, _) => {
                if let Some(rotation) = rotation {
                    sqlx::query!(
                        "insert into refresh_tokens (token_hash, user_id, expires_at, session_id)
                         values ($1, $2, $3, $4)",
                        rotation.successor,
                        user_id,
                        rotation.expires_at,
                        session_id,
                    )
                    .execute(self.on(&mut tx))
                    .await?;
                    sqlx::query!(
                        "update refresh_tokens set replaced_at = now(), replaced_by = $2, updated_at = now()
                          where token_hash = $1",
                        hash,
                        rotation.successor,
                    )
                    .execute(self.on(&mut tx))
                    .await?;
                }
                Refresh::Current {
                    user_id,
                    session_id,
                    rotated: rotation.is_some(),
                }
            }
        };
        if !matches!(outcome, Refresh::Reused { .. }) {
            sqlx::query!(
                "update sessions set last_used_at = now(), updated_at = now() where id = $1",
                session_id
            )
            .execute(self.on(&mut tx))
            .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Revokes the session of the token `hash` (again, harmlessly, if it already was), and
    /// so every token in it; `false` if the token is unknown.
    pub async fn revoke_refresh_token(&self, hash: &[u8]) -> sqlx::Result<bool> {
        let mut tx = self.begin().await?;
        let session = sqlx::query_scalar!("select session_id from refresh_tokens where token_hash = $1", hash)
            .fetch_optional(self.on(&mut tx))
            .await?;
        let Some(session) = session else {
            return Ok(false);
        };
        self.end_session(&mut tx, session).await?;
        tx.commit().await?;
        Ok(true)
    }
}
