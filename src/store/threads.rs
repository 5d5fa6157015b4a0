//! Threads: the chain of chirps a reply answers, up to its root, and the direct replies to a
//! chirp. A chain may be any number deep; one read returns only the nearest ancestors (a
//! recursive query bounded by depth, so a chain 10,000 long costs no more than a short one).

use uuid::Uuid;

use super::{
    Chirp, Statements, Store,
    paging::{Cursor, Page},
};

/// Ancestors one thread read returns at most: the nearest ones.
pub const MOST_ANCESTORS: i32 = 50;

/// A chirp in its thread.
pub struct Thread {
    /// The chain it answers, oldest first: up to the root, or to a deleted link, or to the
    /// [`MOST_ANCESTORS`] nearest.
    pub ancestors: Vec<Chirp>,
    /// Whether older ancestors exist beyond those (read the thread of the oldest for more).
    pub more_ancestors: bool,
    pub chirp: Chirp,
    /// Its direct replies after the cursor, oldest first.
    pub replies: Page<Chirp>,
}

impl Store {
    /// `id`'s thread, from the replica when it has the chirp; `None` when there is no such
    /// chirp.
    pub async fn thread(
        &self,
        id: Uuid,
        after: Cursor,
        limit: u32,
        viewer: Option<Uuid>,
    ) -> sqlx::Result<Option<Thread>> {
        let replica = self
            .replica_for(viewer)
            .await
            .filter(|_| !self.replica_may_be_stale_for(id));
        if let Some(replica) = replica {
            match thread(replica, id, after, limit, viewer).await {
                Ok(Some(thread)) => return Ok(Some(thread)),
                Ok(None) => {}
                Err(err) => self.replica_failed(&err),
            }
        }
        thread(self.primary(), id, after, limit, viewer).await
    }
}

async fn thread(
    db: Statements<&sqlx::PgPool>,
    id: Uuid,
    after: Cursor,
    limit: u32,
    viewer: Option<Uuid>,
) -> sqlx::Result<Option<Thread>> {
    let Some(chirp) = sqlx::query_file_as!(Chirp, "src/store/sql/chirp_by_id.sql", id)
        .fetch_optional(db.clone())
        .await?
    else {
        return Ok(None);
    };
    // A chirp of someone the viewer blocks, or who blocks them, is no thread of theirs.
    if let Some(viewer) = viewer
        && sqlx::query_scalar!(r#"select blocked_between($1, $2) as "blocked!""#, viewer, chirp.user_id)
            .fetch_one(db.clone())
            .await?
    {
        return Ok(None);
    }
    let mut ancestors = match chirp.reply_to {
        None => Vec::new(),
        Some(parent) => {
            sqlx::query_file_as!(
                Chirp,
                "src/store/sql/thread_ancestors.sql",
                parent,
                MOST_ANCESTORS + 1,
                viewer
            )
            .fetch_all(db.clone())
            .await?
        }
    };
    // Nearest first as read: the one beyond the bound only says that more exist.
    let more_ancestors = ancestors.len() > MOST_ANCESTORS as usize;
    ancestors.truncate(MOST_ANCESTORS as usize);
    ancestors.reverse();
    let Cursor {
        created_at,
        id: after_id,
    } = after;
    let replies = sqlx::query_file_as!(
        Chirp,
        "src/store/sql/thread_replies.sql",
        id,
        created_at,
        after_id,
        i64::from(limit) + 1,
        viewer
    )
    .fetch_all(db)
    .await?;
    Ok(Some(Thread {
        ancestors,
        more_ancestors,
        chirp,
        replies: Page::of(replies, limit, Chirp::cursor),
    }))
}
