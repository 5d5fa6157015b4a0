//! Blocks and mutes. A block ends the follows between the two, both ways, in its own
//! transaction; from then neither can follow, reply to or like the other, and the read
//! paths leave each out of what the other sees (their queries call `blocked_between`). A mute
//! only hides the muted account from the muter's home timeline, notifications and live feed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Store,
    paging::{Cursor, Page},
    violates,
};

/// What blocking or muting came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shield {
    Done,
    NoSuchUser,
}

/// Which list of one's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShieldList {
    Blocks,
    Mutes,
}

/// Someone blocked or muted, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shielded {
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// `blocker` blocks `blocked` (again, harmlessly), and the follows between them end.
    pub async fn block(&self, blocker: Uuid, blocked: Uuid) -> sqlx::Result<Shield> {
        let mut tx = self.begin().await?;
        let added = sqlx::query!(
            "insert into blocks (blocker_id, blocked_id) values ($1, $2) on conflict do nothing",
            blocker,
            blocked
        )
        .execute(self.on(&mut tx))
        .await;
        match added {
            Err(err) if violates(&err, "blocks_blocked_id_fkey") || violates(&err, "blocks_blocker_id_fkey") => {
                let _ = tx.rollback().await;
                return Ok(Shield::NoSuchUser);
            }
            other => other?,
        };
        sqlx::query!(
            "delete from follows
              where (follower_id = $1 and followee_id = $2) or (follower_id = $2 and followee_id = $1)",
            blocker,
            blocked
        )
        .execute(self.on(&mut tx))
        .await?;
        wrote(self, &mut tx, blocker).await?;
        tx.commit().await?;
        self.wrote(blocker);
        self.wrote(blocked);
        Ok(Shield::Done)
    }

    /// `muter` mutes `muted` (again, harmlessly).
    pub async fn mute(&self, muter: Uuid, muted: Uuid) -> sqlx::Result<Shield> {
        // What the muter's own reads show changes: their wrote_at moves with it.
        let added = sqlx::query!(
            "with wrote as (update users set wrote_at = clock_timestamp() where id = $1)
             insert into mutes (muter_id, muted_id) values ($1, $2) on conflict do nothing",
            muter,
            muted
        )
        .execute(self.primary())
        .await;
        match added {
            Err(err) if violates(&err, "mutes_muted_id_fkey") || violates(&err, "mutes_muter_id_fkey") => {
                Ok(Shield::NoSuchUser)
            }
            Err(err) => Err(err),
            Ok(_) => {
                self.wrote(muter);
                Ok(Shield::Done)
            }
        }
    }

    /// Ends a block or a mute (whether or not there was one); `false` when there is no such
    /// user.
    pub async fn unshield(&self, list: ShieldList, by: Uuid, of: Uuid) -> sqlx::Result<bool> {
        let exists = match list {
            ShieldList::Blocks => {
                sqlx::query_scalar!(
                    r#"with ended as (delete from blocks where blocker_id = $1 and blocked_id = $2)
                   select exists(select 1 from users where id = $2) as "exists!""#,
                    by,
                    of
                )
                .fetch_one(self.primary())
                .await?
            }
            ShieldList::Mutes => {
                sqlx::query_scalar!(
                    r#"with ended as (delete from mutes where muter_id = $1 and muted_id = $2)
                   select exists(select 1 from users where id = $2) as "exists!""#,
                    by,
                    of
                )
                .fetch_one(self.primary())
                .await?
            }
        };
        self.wrote(by);
        Ok(exists)
    }

    /// Whether either of `a` and `b` blocks the other.
    pub async fn blocked_between(&self, a: Uuid, b: Uuid) -> sqlx::Result<bool> {
        sqlx::query_scalar!(r#"select blocked_between($1, $2) as "blocked!""#, a, b)
            .fetch_one(self.primary())
            .await
    }

    /// Whether either of `a` and the author of `chirp` blocks the other (`false` for no such
    /// chirp).
    pub async fn blocked_with_author_of(&self, a: Uuid, chirp: Uuid) -> sqlx::Result<bool> {
        sqlx::query_scalar!(
            r#"select coalesce((select blocked_between($1, user_id) from chirps where id = $2), false) as "blocked!""#,
            a,
            chirp
        )
        .fetch_one(self.primary())
        .await
    }

    /// A page of whom `user` blocks or mutes, newest first.
    pub async fn shield_page(
        &self,
        user: Uuid,
        list: ShieldList,
        after: Cursor,
        limit: u32,
    ) -> sqlx::Result<Page<Shielded>> {
        let Cursor { created_at, id } = after;
        let limit = i64::from(limit) + 1;
        let rows = match list {
            ShieldList::Blocks => {
                sqlx::query_as!(
                    Shielded,
                    "select blocked_id as user_id, created_at from blocks
                      where blocker_id = $1 and (created_at, blocked_id) < ($2, $3)
                      order by created_at desc, blocked_id desc limit $4",
                    user,
                    created_at,
                    id,
                    limit
                )
                .fetch_all(self.primary())
                .await?
            }
            ShieldList::Mutes => {
                sqlx::query_as!(
                    Shielded,
                    "select muted_id as user_id, created_at from mutes
                      where muter_id = $1 and (created_at, muted_id) < ($2, $3)
                      order by created_at desc, muted_id desc limit $4",
                    user,
                    created_at,
                    id,
                    limit
                )
                .fetch_all(self.primary())
                .await?
            }
        };
        Ok(Page::of(rows, (limit - 1) as u32, |row| {
            Cursor::at(row.created_at, row.user_id)
        }))
    }
}

/// `user` changed what their own reads show, in this transaction (see `freshness`).
async fn wrote(store: &Store, tx: &mut sqlx::PgConnection, user: Uuid) -> sqlx::Result<()> {
    sqlx::query!("update users set wrote_at = clock_timestamp() where id = $1", user)
        .execute(store.on(tx))
        .await
        .map(drop)
}
