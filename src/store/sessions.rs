//! Sessions: one per login, the family of refresh tokens its token starts (see
//! src/store/tokens.rs, which also says how they are locked). Listing a user's live ones,
//! and ending one or all.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Store;

/// A live session: not revoked, and with a current token that has not expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// When its current refresh token expires, unless rotated before.
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

/// Listed at most: the most recently used.
pub const MOST_SESSIONS: i64 = 100;

impl Store {
    /// Deletes refresh tokens past their expiry (replaced ones are kept until then: a
    /// replaced token presented again is how a theft is noticed), and sessions with no
    /// token left; returns how many tokens.
    pub async fn delete_expired_sessions(&self) -> sqlx::Result<u64> {
        let deleted = sqlx::query!("delete from refresh_tokens where expires_at < now()")
            .execute(self.primary())
            .await?;
        sqlx::query!(
            "delete from sessions s
              where not exists (select 1 from refresh_tokens t where t.session_id = s.id)
                and s.created_at < now() - interval '1 day'"
        )
        .execute(self.primary())
        .await?;
        Ok(deleted.rows_affected())
    }

    /// The user's live sessions, the most recently used first, at most [`MOST_SESSIONS`].
    pub async fn sessions(&self, user: Uuid) -> sqlx::Result<Vec<Session>> {
        sqlx::query_as!(
            Session,
            r#"select s.id, s.created_at, s.last_used_at, s.user_agent, t.expires_at as "expires_at!"
                 from sessions s
                cross join lateral (
                      select expires_at from refresh_tokens t
                       where t.session_id = s.id and t.replaced_at is null and t.revoked_at is null
                         and t.expires_at > now()
                       order by expires_at desc
                       limit 1) t
                where s.user_id = $1 and s.revoked_at is null
                order by s.last_used_at desc, s.id
                limit $2"#,
            user,
            MOST_SESSIONS,
        )
        .fetch_all(self.primary())
        .await
    }

    /// Revokes the user's session `id` (again, harmlessly, if it already was) and every token
    /// in it; `false` if the user has no such session.
    pub async fn revoke_session(&self, user: Uuid, id: Uuid) -> sqlx::Result<bool> {
        let mut tx = self.begin().await?;
        let found = sqlx::query_scalar!(
            r#"select exists(select 1 from sessions where id = $1 and user_id = $2) as "found!""#,
            id,
            user,
        )
        .fetch_one(self.on(&mut tx))
        .await?;
        if found {
            self.end_session(&mut tx, id).await?;
            tx.commit().await?;
        }
        Ok(found)
    }

    /// Revokes every session of the user and every token in them ("log out everywhere").
    /// Returns how many sessions were live.
    pub async fn revoke_sessions(&self, user: Uuid) -> sqlx::Result<u64> {
        let mut tx = self.begin().await?;
        let ended = self.end_sessions_of(&mut tx, user).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Revokes the session and all of its tokens, in the caller's transaction. The session's
    /// row is changed (so locked) first; its tokens are then read afresh, the successor of a
    /// rotation this waited for included.
    pub(super) async fn end_session(&self, conn: &mut PgConnection, session: Uuid) -> sqlx::Result<()> {
        sqlx::query!(
            "update sessions set revoked_at = now(), updated_at = now() where id = $1 and revoked_at is null",
            session
        )
        .execute(self.on(conn))
        .await?;
        sqlx::query!(
            "update refresh_tokens set revoked_at = now(), updated_at = now()
              where session_id = $1 and revoked_at is null",
            session
        )
        .execute(self.on(conn))
        .await?;
        Ok(())
    }

    /// Revokes every session of the user and all their tokens, in the caller's transaction
    /// (also a password change's). Returns how many sessions were not revoked yet.
    pub(super) async fn end_sessions_of(&self, conn: &mut PgConnection, user: Uuid) -> sqlx::Result<u64> {
        // Locked in id order, as every taker of several sessions' locks takes them.
        let locked = sqlx::query_scalar!(
            "select id from sessions where user_id = $1 and revoked_at is null order by id for update",
            user
        )
        .fetch_all(self.on(conn))
        .await?;
        sqlx::query!(
            "update sessions set revoked_at = now(), updated_at = now() where id = any($1) and revoked_at is null",
            &locked,
        )
        .execute(self.on(conn))
        .await?;
        sqlx::query!(
            "update refresh_tokens set revoked_at = now(), updated_at = now()
              where user_id = $1 and revoked_at is null",
            user
        )
        .execute(self.on(conn))
        .await?;
        Ok(locked.len() as u64)
    }
}
