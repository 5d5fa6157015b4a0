//! The home timeline: the chirps of a reader and of everyone they follow, newest first.
//!
//! Design: fan-out on read. Nothing is copied when a chirp is posted; each page is computed
//! from `follows` and the `(user_id, created_at, id)` index of `chirps` by the SQL function
//! `home_timeline` (in the migrations), in one statement, one of two ways chosen by how many
//! accounts the reader follows:
//! - a merge: each followee's newest chirp before the cursor (one index probe each) bounds
//!   the page from below, and only the `limit` followees at or above that bound are read, at
//!   most `limit` chirps each;
//! - a walk, when the reader follows a large share of everyone (the square of their
//!   followees above twice `limit` times the users): the newest chirps of all, kept when
//!   followed, stopping early; the merge answers when the walk does not fill the page.
//!
//! Why not fan-out on write (a home inbox per user, filled when a chirp is posted): every
//! post would write a row per follower (10,000 for the account everyone follows, in the
//! poster's request or behind it), every follow would backfill and every unfollow and
//! deletion would clean up, and the inbox would hold (chirps x followers) rows: a hundred
//! times the chirps table at the bench's median. Pages would be exact only where the inbox
//! is complete. Measured side by side in `just bench` (BENCHMARKS.md, "The home
//! timeline"), reads on the merge and the walk meet their targets without any of that.
//!
//! A page equals `chirps by (reader and followees) order by created_at desc, id desc`
//! exactly; it comes from the replica unless the reader wrote lately (see `freshness`).

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
