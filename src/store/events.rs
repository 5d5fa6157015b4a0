//! The log of chirps posted and deleted (`chirp_events`, written by a trigger in the same
//! transaction as the change), read in a fixed order for the live feed, and the NOTIFY that
//! tells every instance to look.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CHANNEL, Store, interval};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Deleted,
}

/// A chirp posted or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub position: Position,
    pub kind: EventKind,
    pub chirp_id: Uuid,
    pub user_id: Uuid,
    /// The chirp as posted (the body is empty for a deletion).
    pub chirp_created_at: DateTime<Utc>,
    pub chirp_updated_at: DateTime<Utc>,
    pub body: String,
}

impl Store {
    /// At most `limit` events after `after`, in order, of transactions that can no longer
    /// be joined by an earlier one.
    pub async fn events_after(&self, after: Position, limit: i64) -> sqlx::Result<Vec<Event>> {
        let rows = sqlx::query!(
            r#"select tx::text::bigint as "tx!", seq, kind, chirp_id, user_id, chirp_created_at, chirp_updated_at,
                      coalesce(body, '') as "body!"
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
        Ok(rows
            .into_iter()
            .map(|row| Event {
                position: Position {
                    tx: row.tx,
                    seq: row.seq,
                },
                kind: if row.kind == "created" {
                    EventKind::Created
                } else {
                    EventKind::Deleted
                },
                chirp_id: row.chirp_id,
                user_id: row.user_id,
                chirp_created_at: row.chirp_created_at,
                chirp_updated_at: row.chirp_updated_at,
                body: row.body,
            })
            .collect())
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
