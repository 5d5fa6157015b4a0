//! Notifications (written by triggers, see the migration) and the read marker that a user's
//! devices share.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Store;

/// A notification. `seq` orders a user's notifications and moves when a grouped one (the
/// likes of one chirp) gains a like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub seq: i64,
    pub kind: String,
    pub actor_id: Uuid,
    pub actors: i32,
    pub chirp_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a user has read up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub last_read: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Store {
    /// At most `limit` of `user`'s notifications before `before` (a `seq`), newest first,
    /// of the `kinds` given (all without), and whether more follow. Read from the primary:
    /// what triggers write must be there at once for the one it is about.
    pub async fn notifications(
        &self,
        user: Uuid,
        kinds: Option<&[String]>,
        before: i64,
        limit: u32,
    ) -> sqlx::Result<(Vec<Notification>, bool)> {
        let mut rows = sqlx::query_as!(
            Notification,
            "select seq, kind, actor_id, actors, chirp_id, created_at, updated_at
               from notifications
              where recipient_id = $1 and seq < $2 and ($3::text[] is null or kind = any($3))
              order by seq desc
              limit $4",
            user,
            before,
            kinds,
            i64::from(limit) + 1,
        )
        .fetch_all(self.primary())
        .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    /// How many of `user`'s notifications are past their read marker.
    pub async fn unread_notifications(&self, user: Uuid) -> sqlx::Result<i64> {
        sqlx::query_scalar!(
            r#"select count(*) as "unread!" from notifications
                where recipient_id = $1
                  and seq > coalesce((select last_read from notification_markers where user_id = $1), 0)"#,
            user
        )
        .fetch_one(self.primary())
        .await
    }

    /// `user`'s read marker.
    pub async fn marker(&self, user: Uuid) -> sqlx::Result<Marker> {
        let marker = sqlx::query_as!(
            Marker,
            r#"select last_read, updated_at as "updated_at?" from notification_markers where user_id = $1"#,
            user
        )
        .fetch_optional(self.primary())
        .await?;
        Ok(marker.unwrap_or(Marker {
            last_read: 0,
            updated_at: None,
        }))
    }

    /// Moves `user`'s marker to `last_read`, never back (two devices racing cannot undo each
    /// other's reading).
    pub async fn mark_read(&self, user: Uuid, last_read: i64) -> sqlx::Result<Marker> {
        sqlx::query_as!(
            Marker,
            r#"insert into notification_markers (user_id, last_read) values ($1, $2)
               on conflict (user_id) do update
                   set last_read = greatest(notification_markers.last_read, excluded.last_read), updated_at = now()
               returning last_read, updated_at as "updated_at?""#,
            user,
            last_read
        )
        .fetch_one(self.primary())
        .await
    }
}
