//! The home timeline: the chirps of a reader and of everyone they follow, newest first.
//!
//! Design: fan-out on read. Nothing is copied when a chirp is posted; each page is computed
//! from `follows` and the indexes of `chirps` by the SQL function `home_timeline` (in the
//! migrations), in one statement:
//! - first a walk of the newest chirps of all, kept when followed, within a budget (16 rows
//!   per author followed): where followed accounts post much, as popular ones do, this is
//!   all a page needs;
//! - else a merge: each followee's newest chirp before the cursor (one index probe each)
//!   bounds the page from below, and only the `limit` followees at or above that bound are
//!   read, at most `limit` chirps each.
//!
//! Why not fan-out on write (a home inbox per user, filled when a chirp is posted): measured
//! side by side in `just bench` (BENCHMARKS.md, section 9), an inbox reads a page about five
//! times faster than the obvious query, but one post by the account everyone follows writes
//! 10,000 rows (68 ms at the median, and behind 32 readers it falls seconds behind), every
//! follow must backfill and every unfollow, block, mute, deletion and suspension clean up,
//! and the inbox holds (chirps x followers) rows. A hybrid (inboxes for all but the most
//! followed) measured best at the SQL level and is the next step where reads dominate; it
//! is not built. Pages here are exact with no copy to keep right.
//!
//! A page equals `chirps by (reader and followees) order by created_at desc, id desc`
//! exactly (less what the reader mutes, and hidden chirps); it comes from the replica unless
//! the reader wrote lately (see `freshness`).

use uuid::Uuid;

use super::{
    Chirp, Statements, Store,
    paging::{Cursor, Order, Page},
};

impl Store {
    /// At most `limit` chirps of `reader`'s home timeline after `after`.
    pub async fn home_page(&self, reader: Uuid, after: Cursor, limit: u32) -> sqlx::Result<Page<Chirp>> {
        if let Some(replica) = self.replica_for(Some(reader)).await {
            match home_page(replica, reader, after, limit).await {
                Ok(page) => return Ok(page),
                Err(err) => self.replica_failed(&err),
            }
        }
        home_page(self.primary(), reader, after, limit).await
    }
}

/// The first page starts at [`Cursor::start`] of [`Order::Desc`].
pub fn home_start() -> Cursor {
    Cursor::start(Order::Desc)
}

async fn home_page(
    db: Statements<&sqlx::PgPool>,
    reader: Uuid,
    after: Cursor,
    limit: u32,
) -> sqlx::Result<Page<Chirp>> {
    let chirps = sqlx::query_file_as!(
        Chirp,
        "src/store/sql/home_timeline.sql",
        reader,
        after.created_at,
        after.id,
        limit as i32 + 1,
    )
    .fetch_all(db)
    .await?;
    Ok(Page::of(chirps, limit, Chirp::cursor))
}
