//! Chirps: reading one, reading the feed a keyset page at a time, posting and deleting.
//! The statements live in `store/sql/` so that `just bench` can run the very same SQL in
//! pgbench.

use chrono::{DateTime, Utc};
use futures_util::{Stream, TryStreamExt, stream::BoxStream};
use uuid::Uuid;

use super::{
    Statements, Store,
    batch::Work,
    paging::{Cursor, Order, Page},
};

/// A chirp as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chirp {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub body: String,
    pub user_id: Uuid,
    /// The chirp this replies to (which may have been deleted since).
    pub reply_to: Option<Uuid>,
    pub like_count: i64,
    pub reply_count: i64,
}

impl Chirp {
    /// Where a page that ends with this chirp ends.
    pub fn cursor(&self) -> Cursor {
        Cursor::at(self.created_at, self.id)
    }
}

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChirpDeletion {
    /// Gone; it replied to `reply_to`, whose count went down.
    Deleted {
        reply_to: Option<Uuid>,
    },
    /// The chirp exists and is someone else's.
    NotTheAuthor,
    NotFound,
}

impl Store {
    /// One chirp, from the replica when it has it, read in a batch with whatever other
    /// chirps are being read (see `batch`). A chirp the replica does not have may be one just
    /// posted that it has not replayed yet, so the primary is asked then too; and one deleted
    /// lately is read from the primary only, as the replica may still have it.
    pub async fn chirp(&self, id: Uuid) -> sqlx::Result<Option<Chirp>> {
        let replica = self
            .replica_chirps_by_id
            .as_ref()
            .filter(|_| self.replica_usable() == Some(true) && !self.replica_may_be_stale_for(id));
        if let Some(replica) = replica {
            match replica.call(id).await {
                Ok(Some(chirp)) => return Ok(Some(chirp)),
                Ok(None) => {}
                Err(err) => self.replica_failed(&err),
            }
        }
        self.chirps_by_id.call(id).await
    }

    /// A chirp's likes and replies, as the primary has them now (read in a batch with
    /// whatever other counts are being read); `None` when there is no such chirp.
    pub async fn chirp_counts(&self, id: Uuid) -> sqlx::Result<Option<(i64, i64)>> {
        self.counts_by_id.call(id).await
    }

    /// Whether every read comes from the primary (there is no replica): what is read is
    /// never behind.
    pub fn reads_only_primary(&self) -> bool {
        self.replica.is_none()
    }

    /// At most `limit` chirps after `after` (from the replica when there is a healthy one,
    /// so a page may lag the primary by up to the replica's allowed lag).
    pub async fn chirps_page(
        &self,
        author: Option<Uuid>,
        order: Order,
        after: Cursor,
        limit: u32,
    ) -> sqlx::Result<Page<Chirp>> {
        if let Some(replica) = self.replica() {
            match page(replica, author, order, after, limit).await {
                Ok(page) => return Ok(page),
                Err(err) => self.replica_failed(&err),
            }
        }
        page(self.primary(), author, order, after, limit).await
    }

    /// The feed's first page, from the primary (whatever the replica says): what the cache
    /// keeps, so it must not be stale.
    pub async fn fresh_chirps_page(&self, order: Order, limit: u32) -> sqlx::Result<Page<Chirp>> {
        page(self.primary(), None, order, Cursor::start(order), limit).await
    }

    /// Every chirp after `after`, read `page` at a time, each on a connection held only for
    /// that page, so a slow reader never pins a connection.
    pub fn chirps_after(
        &self,
        author: Option<Uuid>,
        order: Order,
        after: Cursor,
        page: u32,
    ) -> impl Stream<Item = sqlx::Result<Chirp>> + Send + 'static {
        let store = self.clone();
        futures_util::stream::try_unfold(Some(after), move |after| {
            let store = store.clone();
            async move {
                let Some(after) = after else {
                    return Ok::<_, sqlx::Error>(None);
                };
                let page = store.chirps_page(author, order, after, page).await?;
                Ok(Some((
                    futures_util::stream::iter(page.items.into_iter().map(Ok)),
                    page.next,
                )))
            }
        })
        .try_flatten()
    }

    /// Deletes the chirp if `author` wrote it.
    pub async fn delete_chirp(&self, id: Uuid, author: Uuid) -> sqlx::Result<ChirpDeletion> {
        let deleted = sqlx::query!(
            "delete from chirps where id = $1 and user_id = $2 returning reply_to",
            id,
            author
        )
        .fetch_optional(self.primary())
        .await?;
        if let Some(deleted) = deleted {
            self.chirp_deleted(id);
            self.wrote(author);
            return Ok(ChirpDeletion::Deleted {
                reply_to: deleted.reply_to,
            });
        }
        // Nothing deleted: say whether the chirp is someone else's or does not exist.
        let exists = sqlx::query_scalar!(r#"select exists(select 1 from chirps where id = $1) as "exists!""#, id)
            .fetch_one(self.primary())
            .await?;
        Ok(if exists {
            ChirpDeletion::NotTheAuthor
        } else {
            ChirpDeletion::NotFound
        })
    }
}

/// The batched work of reading chirps by id: one statement for the batch, and each id its
/// own chirp or none.
pub struct ChirpsById;

impl Work for ChirpsById {
    type In = Uuid;
    type Out = Option<Chirp>;

    fn run<'c>(
        &'c self,
        conn: &'c mut sqlx::PgConnection,
        named: bool,
        ids: Vec<Uuid>,
    ) -> futures_util::future::BoxFuture<'c, sqlx::Result<Vec<sqlx::Result<Option<Chirp>>>>> {
        Box::pin(async move {
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            let read = |conn| sqlx::query_file_as!(Chirp, "src/store/sql/chirps_by_ids.sql", &unique).fetch_all(conn);
            let chirps = if named {
                read(Statements::new(&mut *conn, true)).await?
            } else {
                // Behind a transaction-mode pooler, a statement needs a transaction of its own.
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let chirps = read(Statements::new(&mut *tx, false)).await?;
                tx.commit().await?;
                chirps
            };
            let found: std::collections::HashMap<Uuid, Chirp> = chirps.into_iter().map(|c| (c.id, c)).collect();
            Ok(ids.iter().map(|id| Ok(found.get(id).cloned())).collect())
        })
    }
}

/// The batched work of reading chirps' counts by id, always on the primary: what the cache
/// keeps of them must not lag.
pub struct CountsById;

impl Work for CountsById {
    type In = Uuid;
    /// Likes and replies; `None` for a chirp that does not exist.
    type Out = Option<(i64, i64)>;

    fn run<'c>(
        &'c self,
        conn: &'c mut sqlx::PgConnection,
        named: bool,
        ids: Vec<Uuid>,
    ) -> futures_util::future::BoxFuture<'c, sqlx::Result<Vec<sqlx::Result<Option<(i64, i64)>>>>> {
        Box::pin(async move {
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            let read = |conn| sqlx::query_file!("src/store/sql/chirps_counts.sql", &unique).fetch_all(conn);
            let rows = if named {
                read(Statements::new(&mut *conn, true)).await?
            } else {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let rows = read(Statements::new(&mut *tx, false)).await?;
                tx.commit().await?;
                rows
            };
            let found: std::collections::HashMap<Uuid, (i64, i64)> = rows
                .into_iter()
                .map(|row| (row.id, (row.like_count, row.reply_count)))
                .collect();
            Ok(ids.iter().map(|id| Ok(found.get(id).copied())).collect())
        })
    }
}

/// At most `limit` chirps after `after`; one more is read to learn whether others follow.
async fn page(
    db: Statements<&sqlx::PgPool>,
    author: Option<Uuid>,
    order: Order,
    after: Cursor,
    limit: u32,
) -> sqlx::Result<Page<Chirp>> {
    let chirps = chirps_after(db, author, order, after, i64::from(limit) + 1)
        .try_collect()
        .await?;
    Ok(Page::of(chirps, limit, Chirp::cursor))
}

/// The four list statements: fixed rather than built at run time, so each is checked at
/// compile time and each gets a plan that walks its index from the cursor.
fn chirps_after<'e>(
    db: Statements<&'e sqlx::PgPool>,
    author: Option<Uuid>,
    order: Order,
    after: Cursor,
    limit: i64,
) -> BoxStream<'e, sqlx::Result<Chirp>> {
    let Cursor { created_at, id } = after;
    match (author, order) {
        (None, Order::Asc) => {
            sqlx::query_file_as!(Chirp, "src/store/sql/chirps_asc.sql", created_at, id, limit).fetch(db)
        }
        (None, Order::Desc) => {
            sqlx::query_file_as!(Chirp, "src/store/sql/chirps_desc.sql", created_at, id, limit).fetch(db)
        }
        (Some(author), Order::Asc) => sqlx::query_file_as!(
            Chirp,
            "src/store/sql/chirps_by_author_asc.sql",
            author,
            created_at,
            id,
            limit
        )
        .fetch(db),
        (Some(author), Order::Desc) => sqlx::query_file_as!(
            Chirp,
            "src/store/sql/chirps_by_author_desc.sql",
            author,
            created_at,
            id,
            limit
        )
        .fetch(db),
    }
}
