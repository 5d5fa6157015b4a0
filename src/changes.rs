//! What other instances changed, heard as it happens: one session per instance LISTENs on
//! [`store::CHANNEL`] (on `DATABASE_DIRECT_URL`: a transaction-mode pooler cannot hold a
//! LISTEN), and each change is handed to what keeps state about it.
//!
//! Notifications sent while the session is down are lost, so whatever relies on them is
//! told when listening stops and when it has started again (and so must assume it missed
//! something).
//!
//! The sending side, [`Announcer`], gathers this instance's posts and deletions and sends
//! them in batches after they commit (see `store::events` for why not inside the commit).

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::{
    cache::ChirpCache,
    feed::Feed,
    store::{self, Store},
    visits::Visits,
};

/// What an announcement says: chirps posted and deleted (a batch of them), or a reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<Uuid>,
    /// Chirps whose counts (likes, replies) changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counted: Vec<Uuid>,
    /// Users suspended: their tokens are refused and their chirps hidden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<Uuid>,
    /// `/admin/reset`: every user and chirp is gone, the visit count is zero.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// Everything that keeps state about changes.
#[derive(Clone)]
pub struct Subscribers {
    /// For its replica routing: what was deleted lately is read from the primary.
    pub store: Store,
    pub visits: Arc<Visits>,
    pub cache: Arc<ChirpCache>,
    pub feed: Arc<Feed>,
}

impl Subscribers {
    fn apply(&self, announcement: &Announcement) {
        if announcement.reset {
            self.visits.forget_pending();
            self.cache.empty();
            self.store.everything_deleted();
        }
        for id in &announcement.deleted {
            self.cache.deleted(*id);
            self.store.chirp_deleted(*id);
        }
        for id in &announcement.created {
            self.cache.posted(*id);
        }
        for id in &announcement.counted {
            self.cache.counts_changed(*id);
        }
        for id in &announcement.suspended {
            self.store.heard_suspended(*id);
        }
        if !announcement.suspended.is_empty() {
            self.cache.empty();
        }
        self.feed.wake();
    }

    /// Listening stopped or started again: announcements may have been missed.
    fn listening(&self, listening: bool) {
        if listening {
            // Suspensions announced while this instance could not hear.
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(err) = store.load_suspended().await {
                    tracing::warn!(error = %err, "could not read who is suspended");
                }
            });
            self.cache.trust();
        } else {
            self.cache.distrust();
        }
        self.feed.wake();
    }
}

/// The listening session's `application_name`.
pub const LISTENER_NAME: &str = "chirpy-listen";

/// How long to wait before listening again after the session was lost.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// How often the listening session is checked for being alive, when nothing arrives.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Whether this instance is listening now.
pub type Listening = watch::Receiver<bool>;

/// Listens until the process ends, reconnecting whenever the session is lost.
pub fn spawn(store: Store, subscribers: Subscribers) -> Listening {
    let (listening, receiver) = watch::channel(false);
    tokio::spawn(async move {
        // A pool of one, which PgListener wants; it never holds more than this session.
        // Named, so an operator (or a test) can tell it in pg_stat_activity.
        let options = store.direct_options().clone().application_name(LISTENER_NAME);
        let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
        loop {
            if let Err(err) = listen(&pool, &store, &subscribers, &listening).await {
                tracing::warn!(error = %err, "listening for other instances' changes failed; retrying");
            }
            if listening.send_replace(false) {
                subscribers.listening(false);
            }
            tokio::time::sleep(RETRY_AFTER).await;
        }
    });
    receiver
}

/// One listening session, until it is lost.
async fn listen(
    pool: &sqlx::PgPool,
    store: &Store,
    subscribers: &Subscribers,
    listening: &watch::Sender<bool>,
) -> sqlx::Result<()> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    let backend: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut listener)
        .await?;
    listener.listen(store::CHANNEL).await?;
    // Anything from before this point may have been missed: the cache starts empty.
    subscribers.listening(true);
    listening.send_replace(true);
    tracing::info!("listening for other instances' changes");
    // A session lost without a word (a network gone quiet) would otherwise go unnoticed.
    let gone = async {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            if let Ok(false) = store.backend_alive(backend).await {
                return;
            }
        }
    };
    tokio::pin!(gone);
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received?,
            () = &mut gone => None,
        };
        let Some(notification) = received else {
            return Err(sqlx::Error::Protocol("the listening session was lost".into()));
        };
        match serde_json::from_str::<Announcement>(notification.payload()) {
            Ok(announcement) => subscribers.apply(&announcement),
            Err(err) => tracing::error!(error = %err, payload = notification.payload(), "an unreadable change"),
        }
    }
}

/// What waits to be announced.
enum Queued {
    Posted { id: Uuid, reply_to: Option<Uuid> },
    Logged,
}

/// Ids in one announcement at most: NOTIFY payloads must stay under 8,000 bytes.
const MOST_PER_ANNOUNCEMENT: usize = 150;

/// Tells every instance about this one's posts (in batches: whatever is waiting goes in the
/// next NOTIFY, so a burst of posts costs a few announcements, and a post never waits for
/// one) and deletions (each at once). One that fails is logged and dropped; the other
/// instances still read the change from the log within a second.
#[derive(Clone)]
pub struct Announcer {
    /// Chirps posted (and the parents whose reply counts that moved), or nothing but a
    /// change that other instances need only look for in the log (a follow: live home feeds
    /// learn of it there).
    queue: mpsc::UnboundedSender<Queued>,
    store: Store,
}

impl Announcer {
    pub fn spawn(store: Store) -> Self {
        let (queue, mut waiting) = mpsc::unbounded_channel();
        let sender = store.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MOST_PER_ANNOUNCEMENT);
            while waiting.recv_many(&mut batch, MOST_PER_ANNOUNCEMENT / 2).await > 0 {
                let mut announcement = Announcement::default();
                for queued in batch.drain(..) {
                    if let Queued::Posted { id, reply_to } = queued {
                        announcement.created.push(id);
                        announcement.counted.extend(reply_to);
                    }
                }
                let payload = serde_json::to_string(&announcement).expect("ids always serialize");
                if let Err(err) = sender.announce(&payload).await {
                    tracing::warn!(error = %err, "could not announce posts to other instances");
                }
            }
        });
        Self { queue, store }
    }

    /// A chirp posted (replying to `reply_to`, if it does).
    pub fn posted(&self, id: Uuid, reply_to: Option<Uuid>) {
        let _ = self.queue.send(Queued::Posted { id, reply_to });
    }

    /// Something other instances find in the log only (a follow begun or ended): they are
    /// told to look now rather than at their next poll.
    pub fn logged(&self) {
        let _ = self.queue.send(Queued::Logged);
    }

    /// A deletion is announced at once, before its request is answered: a client that
    /// deletes and then reads through another instance should find it gone (and its
    /// parent's count down).
    pub async fn deleted(&self, id: Uuid, reply_to: Option<Uuid>) {
        let announcement = Announcement {
            deleted: vec![id],
            counted: reply_to.into_iter().collect(),
            ..Announcement::default()
        };
        self.now(&announcement, "a deletion").await;
    }

    /// A user was suspended: announced at once, before the moderator is answered.
    pub async fn suspended(&self, user: Uuid) {
        let announcement = Announcement {
            suspended: vec![user],
            ..Announcement::default()
        };
        self.now(&announcement, "a suspension").await;
    }

    /// A chirp's likes changed: announced at once, before the like is answered, so the
    /// liker reading through another instance sees the new count.
    pub async fn counted(&self, id: Uuid) {
        let announcement = Announcement {
            counted: vec![id],
            ..Announcement::default()
        };
        self.now(&announcement, "a like").await;
    }

    async fn now(&self, announcement: &Announcement, what: &str) {
        let payload = serde_json::to_string(announcement).expect("ids always serialize");
        if let Err(err) = self.store.announce(&payload).await {
            tracing::warn!(error = %err, "could not announce {what} to other instances");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_read_back_as_written_and_stay_small() {
        let ids: Vec<Uuid> = (0..MOST_PER_ANNOUNCEMENT as u128).map(Uuid::from_u128).collect();
        let full = Announcement {
            created: ids[..MOST_PER_ANNOUNCEMENT / 2].to_vec(),
            counted: ids[MOST_PER_ANNOUNCEMENT / 2..].to_vec(),
            deleted: vec![],
            suspended: vec![],
            reset: false,
        };
        let payload = serde_json::to_string(&full).unwrap();
        assert!(payload.len() < 8000, "{} bytes", payload.len());
        assert_eq!(serde_json::from_str::<Announcement>(&payload).unwrap(), full);
        let reset: Announcement = serde_json::from_str(r#"{"reset":true}"#).unwrap();
        assert!(reset.reset && reset.created.is_empty() && reset.deleted.is_empty());
    }
}
