//! Posting chirps, group-committed: the posts that arrive together are written in one
//! transaction (one multi-row insert, one WAL flush for all), each keeping its own outcome.
//!
//! In a group, in this order: the `Idempotency-Key`s are locked (a key locked by another
//! transaction is `InFlight`; the same key twice in the group, the second is); keys used
//! before answer for their request (`Replayed` or `Mismatch`); the rest are inserted, in the
//! order they came, each with its own `created_at` (a post whose author is gone is
//! `NoAuthor`); their keys are remembered; and all of it commits. Nothing is answered before
//! that commit. A group without keys is one statement, committed on its own.
//!
//! A statement that fails (a constraint no one foresaw) rolls the group back, and each post
//! is written again alone, so one bad post fails by itself. A lost connection fails the
//! whole group with an outage error (503) and nothing is retried: its commit may or may not
//! have happened, and a retry could post twice.

use std::collections::{HashMap, HashSet};

use futures_util::{FutureExt, future::BoxFuture};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::{Chirp, KEY_LIFETIME, Statements, Store, batch::Work, interval};

/// A chirp to post, and the key it was sent with.
pub struct NewPost {
    pub author: Uuid,
    /// The censored body.
    pub body: String,
    /// The chirp this replies to.
    pub reply_to: Option<Uuid>,
    pub key: Option<PostKey>,
}

/// An `Idempotency-Key` and what to remember under it.
pub struct PostKey {
    pub key: String,
    /// A hash of what the request asked for.
    pub request_hash: Vec<u8>,
    /// Renders the response to remember, from the chirp as posted.
    pub respond: Respond,
}

pub type Respond = Box<dyn FnOnce(&Chirp) -> String + Send>;

/// What posting came to.
#[derive(Debug)]
pub enum PostOutcome {
    Posted(Chirp),
    /// The key was used before for this same request: the response it got then.
    Replayed(String),
    /// The key was used before for a different request.
    Mismatch,
    /// A request with this key is still being handled.
    InFlight,
    /// The author no longer exists.
    NoAuthor,
    /// The chirp it replies to does not exist.
    NoParent,
    /// The author of the chirp it replies to, or the poster, blocks the other.
    Blocked,
}

impl Store {
    /// Posts `post`, in a group with whatever else is being posted.
    pub async fn post_chirp(&self, post: NewPost) -> sqlx::Result<PostOutcome> {
        let author = post.author;
        let outcome = self.posts.call(post).await?;
        if matches!(outcome, PostOutcome::Posted(_)) {
            self.wrote(author);
        }
        Ok(outcome)
    }
}

/// The batched work of posting.
pub struct Posts;

impl Work for Posts {
    type In = NewPost;
    type Out = PostOutcome;

    fn run<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        named: bool,
        posts: Vec<NewPost>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<sqlx::Result<PostOutcome>>>> {
        async move {
            if posts.len() == 1 {
                return Ok(vec![Ok(group(conn, named, posts).await?.remove(0))]);
            }
            let (together, alone) = split_for_retry(posts);
            match group(conn, named, together).await {
                Ok(outcomes) => Ok(outcomes.into_iter().map(Ok).collect()),
                Err(err) if is_statement_error(&err) => {
                    tracing::warn!(error = %err, posts = alone.len(), "a group of posts failed; posting each alone");
                    let mut outcomes = Vec::with_capacity(alone.len());
                    for post in alone {
                        outcomes.push(match group(conn, named, vec![post]).await {
                            Ok(mut outcome) => Ok(outcome.remove(0)),
                            Err(err) if is_statement_error(&err) => Err(err),
                            Err(err) => return Err(err),
                        });
                    }
                    Ok(outcomes)
                }
                Err(err) => Err(err),
            }
        }
        .boxed()
    }
}

/// A failure of the statements, after which the connection is fine and the transaction
/// rolled back: the group's posts can be tried again one by one. (An outage or a lost
/// connection is not: the outcome of its commit is unknown.)
fn is_statement_error(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if !db.code().is_some_and(|code| code.starts_with("57") || code.starts_with("08")))
}

/// The group to post, and a copy of each post to post alone should the group fail. A post's
/// `respond` can be called once only, so the copies render their responses through the same
/// closure, shared.
fn split_for_retry(posts: Vec<NewPost>) -> (Vec<NewPost>, Vec<NewPost>) {
    use std::sync::{Arc, Mutex};
    let mut together = Vec::with_capacity(posts.len());
    let mut alone = Vec::with_capacity(posts.len());
    for post in posts {
        let (key, copy) = match post.key {
            None => (None, None),
            Some(PostKey {
                key,
                request_hash,
                respond,
            }) => {
                let respond = Arc::new(Mutex::new(Some(respond)));
                let shared = |respond: Arc<Mutex<Option<Respond>>>| PostKey {
                    key: key.clone(),
                    request_hash: request_hash.clone(),
                    respond: Box::new(move |chirp: &Chirp| {
                        let respond = respond.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
                        respond.map_or_else(String::new, |respond| respond(chirp))
                    }),
                };
                (Some(shared(respond.clone())), Some(shared(respond)))
            }
        };
        together.push(NewPost {
            author: post.author,
            body: post.body.clone(),
            reply_to: post.reply_to,
            key,
        });
        alone.push(NewPost {
            author: post.author,
            body: post.body,
            reply_to: post.reply_to,
            key: copy,
        });
    }
    (together, alone)
}

/// Writes `posts` in one transaction (a group of one included), returning each one's
/// outcome in order; any error means nothing was written. Ended here, not when dropped: a
/// dropped transaction's rollback waits for the connection's next use, holding its keys'
/// locks until then.
async fn group(conn: &mut PgConnection, named: bool, posts: Vec<NewPost>) -> sqlx::Result<Vec<PostOutcome>> {
    // Without keys, the insert is all there is: one statement, committed on its own (one round
    // trip, as a client of PostgreSQL alone would post). Behind a transaction-mode pooler a
    // statement needs a transaction of its own all the same.
    if named && posts.iter().all(|post| post.key.is_none()) {
        let mut outcomes: Vec<Option<PostOutcome>> = posts.iter().map(|_| None).collect();
        insert(conn, named, posts, &mut outcomes).await?;
        return Ok(outcomes
            .into_iter()
            .map(|outcome| outcome.expect("every post has an outcome"))
            .collect());
    }
    let mut tx = conn.begin().await?;
    match write(&mut tx, named, posts).await {
        Ok(outcomes) => {
            tx.commit().await?;
            Ok(outcomes)
        }
        Err(err) => {
            // A rollback that fails too leaves the connection to be dropped: the first error
            // says what went wrong.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

async fn write(tx: &mut PgConnection, named: bool, posts: Vec<NewPost>) -> sqlx::Result<Vec<PostOutcome>> {
    let mut outcomes: Vec<Option<PostOutcome>> = posts.iter().map(|_| None).collect();

    // Keys: each (author, key) locked once per group, for this transaction (a key locked
    // elsewhere is in flight); a key used before answers for every request that sends it; a
    // new key sent twice in one group posts once, and the second is told it is in flight.
    let mut firsts = HashSet::new();
    let (keyed, repeats): (Vec<usize>, Vec<usize>) = (0..posts.len())
        .filter(|&i| posts[i].key.is_some())
        .partition(|&i| firsts.insert((posts[i].author, key_of(&posts[i]))));
    if !keyed.is_empty() {
        let authors: Vec<Uuid> = keyed.iter().map(|&i| posts[i].author).collect();
        let keys: Vec<String> = keyed.iter().map(|&i| key_of(&posts[i]).to_owned()).collect();
        let locked = sqlx::query_scalar!(
            r#"select pg_try_advisory_xact_lock(hashtextextended(author::text || ':' || key, 0)) as "locked!"
                 from unnest($1::uuid[], $2::text[]) with ordinality as keyed (author, key, n)
                order by n"#,
            &authors,
            &keys,
        )
        .fetch_all(Statements::new(&mut *tx, named))
        .await?;
        let earlier: HashMap<(Uuid, String), (Vec<u8>, String)> = sqlx::query!(
            "select user_id, key, request_hash, response from idempotency_keys
              where (user_id, key) in (select * from unnest($1::uuid[], $2::text[]))
                and created_at > now() - $3::interval",
            &authors,
            &keys,
            interval(KEY_LIFETIME),
        )
        .fetch_all(Statements::new(&mut *tx, named))
        .await?
        .into_iter()
        .map(|row| ((row.user_id, row.key), (row.request_hash, row.response)))
        .collect();
        let used_before = |post: &NewPost| {
            let (hash, response) = earlier.get(&(post.author, key_of(post).to_owned()))?;
            let same = post.key.as_ref().is_some_and(|key| *hash == key.request_hash);
            Some(if same {
                PostOutcome::Replayed(response.clone())
            } else {
                PostOutcome::Mismatch
            })
        };
        for (&i, locked) in keyed.iter().zip(locked) {
            outcomes[i] = if locked {
                used_before(&posts[i])
            } else {
                Some(PostOutcome::InFlight)
            };
        }
        for &i in &repeats {
            outcomes[i] = Some(used_before(&posts[i]).unwrap_or(PostOutcome::InFlight));
        }
    }

    insert(tx, named, posts, &mut outcomes).await?;
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every post has an outcome"))
        .collect())
}

/// Inserts the posts that have no outcome yet, in order, and remembers their keys; a reply
/// to a chirp that does not exist is `NoParent`, a post whose author is gone `NoAuthor`. (An
/// author deleted while this runs fails the statement on the foreign key instead: the group
/// is then written again post by post. A parent deleted meanwhile is no matter: a reply may
/// outlive its parent.)
async fn insert(
    conn: &mut PgConnection,
    named: bool,
    mut posts: Vec<NewPost>,
    outcomes: &mut [Option<PostOutcome>],
) -> sqlx::Result<()> {
    let parents: Vec<Uuid> = (0..posts.len())
        .filter(|&i| outcomes[i].is_none())
        .filter_map(|i| posts[i].reply_to)
        .collect();
    if !parents.is_empty() {
        let repliers: Vec<Uuid> = (0..posts.len())
            .filter(|&i| outcomes[i].is_none() && posts[i].reply_to.is_some())
            .map(|i| posts[i].author)
            .collect();
        // Each parent that exists, and whether its author and the replier block each other.
        let parents_found: HashMap<(Uuid, Uuid), bool> = sqlx::query!(
            r#"select reply.parent as "parent!", reply.author as "author!",
                      blocked_between(reply.author, chirps.user_id) as "blocked!"
                 from unnest($1::uuid[], $2::uuid[]) as reply (parent, author)
                 join chirps on chirps.id = reply.parent and chirps.hidden_at is null"#,
            &parents,
            &repliers,
        )
        .fetch_all(Statements::new(&mut *conn, named))
        .await?
        .into_iter()
        .map(|row| ((row.parent, row.author), row.blocked))
        .collect();
        for (post, outcome) in posts.iter().zip(outcomes.iter_mut()) {
            let Some(parent) = post.reply_to.filter(|_| outcome.is_none()) else {
                continue;
            };
            *outcome = match parents_found.get(&(parent, post.author)) {
                None => Some(PostOutcome::NoParent),
                Some(true) => Some(PostOutcome::Blocked),
                Some(false) => None,
            };
        }
    }
    let to_insert: Vec<usize> = (0..posts.len()).filter(|&i| outcomes[i].is_none()).collect();
    if to_insert.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = to_insert.iter().map(|_| new_id()).collect::<Result<_, _>>()?;
    let bodies: Vec<String> = to_insert.iter().map(|&i| std::mem::take(&mut posts[i].body)).collect();
    let authors: Vec<Uuid> = to_insert.iter().map(|&i| posts[i].author).collect();
    let reply_tos: Vec<Option<Uuid>> = to_insert.iter().map(|&i| posts[i].reply_to).collect();
    let mut inserted: HashMap<Uuid, Chirp> = sqlx::query_file_as!(
        Chirp,
        "src/store/sql/insert_chirps.sql",
        &ids,
        &bodies,
        &authors,
        &reply_tos as &[Option<Uuid>]
    )
    .fetch_all(Statements::new(&mut *conn, named))
    .await?
    .into_iter()
    .map(|chirp| (chirp.id, chirp))
    .collect();
    let (mut key_authors, mut keys, mut hashes, mut chirp_ids, mut responses) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (&i, id) in to_insert.iter().zip(&ids) {
        let Some(chirp) = inserted.remove(id) else {
            outcomes[i] = Some(PostOutcome::NoAuthor);
            continue;
        };
        if let Some(key) = posts[i].key.take() {
            key_authors.push(posts[i].author);
            keys.push(key.key);
            hashes.push(key.request_hash);
            chirp_ids.push(chirp.id);
            responses.push((key.respond)(&chirp));
        }
        outcomes[i] = Some(PostOutcome::Posted(chirp));
    }
    if !keys.is_empty() {
        sqlx::query_file!(
            "src/store/sql/idempotency_keys_remember.sql",
            &key_authors,
            &keys,
            &hashes,
            &chirp_ids,
            &responses,
        )
        .execute(Statements::new(&mut *conn, named))
        .await?;
    }
    Ok(())
}

fn key_of(post: &NewPost) -> &str {
    post.key.as_ref().map_or("", |key| key.key.as_str())
}

/// A chirp's id: random (version 4), made here so each post of a group knows its row.
fn new_id() -> sqlx::Result<Uuid> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| sqlx::Error::Protocol(format!("no randomness for an id: {err}")))?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}
