//! The log of chirps posted and deleted and of follows begun and ended (`chirp_events`,
//! written by triggers in the same transaction as the change), read in a fixed order for the live feed, and the NOTIFY that
//! tells every instance to look.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CHANNEL, Chirp, Store, interval};

/// Where an event stands in the log: its transaction, then its order within it. Only
/// events of finished transactions older than every running one are read, so no event
/// ever appears before a position a reader has already passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
}

impl Position {
    /// Before every event.
    pub const START: Self = Self { tx: 0, seq: 0 };
}

/// What an event says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The chirp, as posted.
    Posted(Chirp),
    /// `reply_to`: the parent the deleted chirp replied to, whose count moves.
    Deleted {
        chirp_id: Uuid,
        reply_to: Option<Uuid>,
    },
    /// The event's user started following `followee`.
    Followed {
        followee: Uuid,
    },
    Unfollowed {
        followee: Uuid,
    },
    /// The event's user got (or, for the likes of one chirp, got more of) a notification.
    Notified {
        seq: i64,
        kind: String,
        actor: Uuid,
        chirp: Option<Uuid>,
    },
}

/// Something that happened, by `user_id`, at `position` in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub position: Position,
    pub user_id: Uuid,
    pub change: Change,
}

impl Event {
    /// The chirp the event is about, if it is about one.
    pub fn chirp_id(&self) -> Option<Uuid> {
        match &self.change {
            Change::Posted(chirp) => Some(chirp.id),
            Change::Deleted { chirp_id, .. } => Some(*chirp_id),
            Change::Followed { .. } | Change::Unfollowed { .. } | Change::Notified { .. } => None,
        }
    }
}

/// A row of the log, as read.
struct Logged {
    tx: i64,
    seq: i64,
    kind: String,
    user_id: Uuid,
    chirp_id: Option<Uuid>,
    chirp_created_at: Option<DateTime<Utc>>,
    chirp_updated_at: Option<DateTime<Utc>>,
    body: Option<String>,
    target_id: Option<Uuid>,
    reply_to: Option<Uuid>,
    notification_seq: Option<i64>,
}

impl Logged {
    /// `None` for a row this release cannot read (written by a later one).
    fn into_event(self) -> Option<Event> {
        let change = match self.kind.as_str() {
            "created" => Change::Posted(Chirp {
                id: self.chirp_id?,
                created_at: self.chirp_created_at?,
                updated_at: self.chirp_updated_at?,
                body: self.body.unwrap_or_default(),
                user_id: self.user_id,
                reply_to: self.reply_to,
                like_count: 0,
                reply_count: 0,
            }),
            "deleted" => Change::Deleted {
                chirp_id: self.chirp_id?,
                reply_to: self.reply_to,
            },
            "followed" => Change::Followed {
                followee: self.target_id?,
            },
            "unfollowed" => Change::Unfollowed {
                followee: self.target_id?,
            },
            "notified" => Change::Notified {
                seq: self.notification_seq?,
                kind: self.body?,
                actor: self.target_id?,
                chirp: self.chirp_id,
            },
            _ => return None,
        };
        Some(Event {
            position: Position {
                tx: self.tx,
                seq: self.seq,
            },
            user_id: self.user_id,
            change,
        })
    }
}

/// Events read from the log at once.
pub struct Batch {
    pub events: Vec<Event>,
    /// The position of the last row read (an event this release does not know is skipped,
    /// but read past), if any was.
    pub last: Option<Position>,
    /// Whether as many rows were read as were asked for: more may follow.
    pub full: bool,
}

impl Store {
    /// At most `limit` events after `after`, in order, of transactions that can no longer
    /// be joined by an earlier one.
    pub async fn events_after(&self, after: Position, limit: i64) -> sqlx::Result<Batch> {
        let rows = sqlx::query_as!(
            Logged,
            r#"select tx::text::bigint as "tx!", seq, kind, user_id, chirp_id, chirp_created_at, chirp_updated_at,
                      body, target_id, reply_to, notification_seq
               from chirp_events
               where (tx, seq) > ($1::text::xid8, $2)
                 and tx < pg_snapshot_xmin(pg_current_snapshot())
               order by tx, seq
               limit $3"#,
            after.tx.to_string(),
            after.seq,
            limit,
        )
        .fetch_all(self.primary())
        .await?;
        let last = rows.last().map(|row| Position {
            tx: row.tx,
            seq: row.seq,
        });
        let full = rows.len() as i64 == limit;
        Ok(Batch {
            events: rows.into_iter().filter_map(Logged::into_event).collect(),
            last,
            full,
        })
    }

    /// The position after the last event that can be read now: where a reader that wants
    /// only what comes next starts.
    pub async fn latest_event_position(&self) -> sqlx::Result<Position> {
        let row = sqlx::query!(
            r#"select tx::text::bigint as "tx!", seq from chirp_events
               where tx < pg_snapshot_xmin(pg_current_snapshot())
               order by tx desc, seq desc limit 1"#
        )
        .fetch_optional(self.primary())
        .await?;
        Ok(row.map_or(Position::START, |row| Position {
            tx: row.tx,
            seq: row.seq,
        }))
    }

    /// Deletes events older than `age`; returns how many.
    pub async fn delete_old_events(&self, age: Duration) -> sqlx::Result<u64> {
        let deleted = sqlx::query!(
            "delete from chirp_events where created_at < now() - $1::interval",
            interval(age)
        )
        .execute(self.primary())
        .await?;
        Ok(deleted.rows_affected())
    }

    /// Tells every instance's LISTEN session about `payload` (JSON). Sent after the change
    /// committed, in a transaction of its own that does not wait for its WAL flush: the
    /// change is durable already, and a NOTIFY holds a global lock until its commit ends.
    pub async fn announce(&self, payload: &str) -> sqlx::Result<()> {
        sqlx::query!(
            "select set_config('synchronous_commit', 'off', true), pg_notify($1, $2)",
            CHANNEL,
            payload
        )
        .fetch_one(self.primary())
        .await
        .map(drop)
    }
}
