//! Paying the database once for many requests. Concurrent requests of one kind (chirps
//! read by id, chirps posted) wait in one queue; a few workers, each with a connection of
//! its own for its whole life, take whatever is waiting, up to a bound, and answer it all
//! with one round of statements. Nothing waits on a timer: a lone request is taken at once,
//! and under load a batch is what queued while the previous one was at the database. Owning
//! its connection, a worker pays no pool acquire and no ping on release (sqlx sends one per
//! pooled query).
//!
//! Each request gets its own outcome. A request whose caller has gone (a cancelled HTTP
//! request) before its batch is taken is dropped, never run; one that waited longer than the
//! pool's acquire timeout gets the pool's timeout (503), as a pooled query would. While the
//! database is known to be down, batches fail at once; a worker whose connection fails drops
//! it and connects again for its next batch.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::health::{Health, down_error};

/// One kind of batched work.
pub trait Work: Send + Sync + 'static {
    type In: Send + 'static;
    type Out: Send + 'static;

    /// Answers `inputs` on `conn`, one outcome each, in order. An `Err` means the whole batch
    /// failed (the connection, most likely): every request gets it.
    fn run<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        named: bool,
        inputs: Vec<Self::In>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<sqlx::Result<Self::Out>>>>;
}

/// Batches run, requests answered, and how long requests waited to be taken, since start.
#[derive(Debug, Default)]
pub struct BatchStats {
    pub batches: AtomicU64,
    pub requests: AtomicU64,
    pub waited_micros: AtomicU64,
    /// Requests whose caller had gone before their batch was taken.
    pub abandoned: AtomicU64,
}

/// Where and how the workers connect.
#[derive(Clone)]
pub struct Lane {
    pub options: PgConnectOptions,
    /// Statements may be kept on the server (not behind a transaction-mode pooler).
    pub named: bool,
    /// How long a request may wait to be taken, and a worker to connect.
    pub timeout: Duration,
    /// When given, batches fail at once while it says the database is down, and it hears
    /// of failures that look like an outage.
    pub health: Option<Arc<Health>>,
}

struct Job<W: Work> {
    input: W::In,
    reply: oneshot::Sender<sqlx::Result<W::Out>>,
    queued: Instant,
}

/// A queue of requests and the workers that answer it. Cheap to clone.
pub struct Batcher<W: Work> {
    queue: mpsc::UnboundedSender<Job<W>>,
    pub stats: Arc<BatchStats>,
}

impl<W: Work> Clone for Batcher<W> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<W: Work> std::fmt::Debug for Batcher<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("stats", &self.stats).finish()
    }
}

impl<W: Work> Batcher<W> {
    /// `workers` workers on `lane`, each taking at most `most` requests at a time. They end
    /// when the last clone of this is dropped.
    pub fn spawn(work: W, lane: Lane, workers: usize, most: usize) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        let stats = Arc::new(BatchStats::default());
        let work = Arc::new(work);
        for _ in 0..workers.max(1) {
            tokio::spawn(worker(work.clone(), lane.clone(), waiting.clone(), stats.clone(), most));
        }
        Self { queue, stats }
    }

    /// `input`'s own outcome, once its batch has run.
    pub async fn call(&self, input: W::In) -> sqlx::Result<W::Out> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            input,
            reply,
            queued: Instant::now(),
        };
        self.queue.send(job).map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.unwrap_or(Err(sqlx::Error::PoolClosed))
    }
}

async fn worker<W: Work>(
    work: Arc<W>,
    lane: Lane,
    waiting: Arc<Mutex<mpsc::UnboundedReceiver<Job<W>>>>,
    stats: Arc<BatchStats>,
    most: usize,
) {
    let mut conn: Option<Connected> = None;
    let mut last_used = Instant::now();
    let mut jobs = Vec::with_capacity(most);
    loop {
        // One worker gathers at a time; the others wait their turn for the next batch.
        {
            let mut waiting = waiting.lock().await;
            if waiting.recv_many(&mut jobs, most).await == 0 {
                return;
            }
        }
        let taken = Instant::now();
        let mut live = Vec::with_capacity(jobs.len());
        for job in jobs.drain(..) {
            let waited = taken.duration_since(job.queued);
            stats
                .waited_micros
                .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
            if job.reply.is_closed() {
                stats.abandoned.fetch_add(1, Ordering::Relaxed);
            } else if waited > lane.timeout {
                let _ = job.reply.send(Err(sqlx::Error::PoolTimedOut));
            } else {
                live.push(job);
            }
        }
        if live.is_empty() {
            continue;
        }
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.requests.fetch_add(live.len() as u64, Ordering::Relaxed);
        let (inputs, replies): (Vec<_>, Vec<_>) = live.into_iter().map(|job| (job.input, job.reply)).unzip();
        let idle = std::mem::replace(&mut last_used, Instant::now()).elapsed();
        let outcome = match connected(&mut conn, &lane, idle).await {
            Ok(conn) => work.run(&mut conn.conn, lane.named, inputs).await,
            Err(err) => Err(err),
        };
        match outcome {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(err) => {
                if let Some(health) = &lane.health {
                    health.suspect(&err);
                }
                // Whatever state the connection is in, a new one is certain.
                conn = None;
                tracing::debug!(error = %err, requests = replies.len(), "a batch failed");
                for reply in replies {
                    let _ = reply.send(Err(shared(&err)));
                }
            }
        }
    }
}

/// A connection idle this long is pinged before use (as the pool's are): the database may
/// have restarted meanwhile.
const STALE_AFTER: Duration = Duration::from_millis(500);

/// A worker's connection, and the outage count when it was made.
struct Connected {
    conn: PgConnection,
    outages: u64,
}

/// The worker's connection, made now if it has none, or if the one it has may be dead: made
/// before the database's last outage, or idle for `idle` and no longer answering.
async fn connected<'c>(
    conn: &'c mut Option<Connected>,
    lane: &Lane,
    idle: Duration,
) -> sqlx::Result<&'c mut Connected> {
    let outages = lane.health.as_ref().map_or(0, |health| health.outages());
    if lane.health.as_ref().is_some_and(|health| health.is_down()) {
        *conn = None;
        return Err(down_error());
    }
    if conn.as_ref().is_some_and(|conn| conn.outages != outages) {
        *conn = None;
    }
    if idle >= STALE_AFTER
        && let Some(live) = conn
        && live.conn.ping().await.is_err()
    {
        *conn = None;
    }
    if conn.is_none() {
        let connecting = PgConnection::connect_with(&lane.options);
        let made = tokio::time::timeout(lane.timeout, connecting)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        *conn = Some(Connected { conn: made, outages });
    }
    Ok(conn.as_mut().expect("connected just now"))
}

/// A copy of a batch's error for each of its requests (sqlx's errors cannot be cloned),
/// keeping what decides the answer: an outage or timeout stays one (503), anything else is
/// an internal error (500) with its message.
pub fn shared(err: &sqlx::Error) -> sqlx::Error {
    match err {
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| code.starts_with("57") || code.starts_with("08")) =>
        {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                db.message().to_owned(),
            ))
        }
        other => sqlx::Error::Protocol(format!("the batch failed: {other}")),
    }
}
