//! What other instances changed, heard as it happens: one session per instance LISTENs on
//! [`store::CHANNEL`] (on `DATABASE_DIRECT_URL`: a transaction-mode pooler cannot hold a
//! LISTEN), and each change is handed to what keeps state about it.
//!
//! Notifications sent while the session is down are lost, so whatever relies on them is
//! told when listening stops and when it has started again (and so must assume it missed
//! something).

use std::{sync::Arc, time::Duration};

use serde::Deserialize;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    store::{self, Store},
    visits::Visits,
};

/// One change, as the database announced it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Change {
    /// A chirp was posted.
    Created { id: Uuid },
    /// A chirp was deleted.
    Deleted { id: Uuid },
    /// `/admin/reset`: every user and chirp is gone, the visit count is zero.
    Reset,
}

/// Everything that keeps state about changes.
#[derive(Clone)]
pub struct Subscribers {
    pub visits: Arc<Visits>,
}

impl Subscribers {
    fn apply(&self, change: &Change) {
        if let Change::Reset = change {
            self.visits.forget_pending();
        }
    }

    /// Listening stopped or started again: notifications may have been missed.
    fn missed_some(&self) {}
}

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
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(store.direct_options().clone());
        loop {
            if let Err(err) = listen(&pool, &store, &subscribers, &listening).await {
                tracing::warn!(error = %err, "listening for other instances' changes failed; retrying");
            }
            if listening.send_replace(false) {
                subscribers.missed_some();
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
    // Anything from before this point may have been missed.
    subscribers.missed_some();
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
        match serde_json::from_str::<Change>(notification.payload()) {
            Ok(change) => subscribers.apply(&change),
            Err(err) => tracing::error!(error = %err, payload = notification.payload(), "an unreadable change"),
        }
    }
}
