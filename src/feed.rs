//! The live feed behind `GET /api/chirps/stream`: one task per instance reads the event log
//! (`store::events`) in order, woken by every instance's announcements (and once a second
//! in case one was lost), and hands each event to every open stream. A stream that resumes
//! from a position reads the log from there first, then joins the live events, skipping
//! what it has already sent: nothing lost, nothing twice.
//!
//! Bounded: the live events wait in one ring for all streams; a stream that falls a whole
//! ring behind is ended (its client reconnects with `Last-Event-ID` and loses nothing), and
//! at most `max_streams` are open at once.

use std::{collections::HashSet, sync::Arc, time::Duration};

use futures_util::{Stream, StreamExt, stream::BoxStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast, watch};
use uuid::Uuid;

use crate::store::{Batch, Change, Event, Position, Store};

/// Events a stream may fall behind before it is ended.
const RING: usize = 1024;
/// Events read from the log at a time.
const BATCH: i64 = 500;
/// How often the log is read even when no announcement arrived.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// An event as streams send it: rendered once, shared by every stream.
#[derive(Debug)]
pub struct FeedEvent {
    pub position: Position,
    pub event: Event,
    /// The `data:` line's JSON.
    pub json: String,
}

/// Turns an event into the JSON a client receives (the wire format is the API's).
pub type Render = fn(&Event) -> String;

pub struct Feed {
    store: Store,
    render: Render,
    live: broadcast::Sender<Arc<FeedEvent>>,
    /// Where the tail has read up to (`None` until it has found where the log ends).
    tail: watch::Sender<Option<Position>>,
    wake: Notify,
    streams: Arc<Semaphore>,
    max_streams: usize,
    heartbeat: Duration,
    closing: watch::Sender<bool>,
}

/// Why a stream could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// `max_streams` are open.
    Full,
    /// The server is shutting down.
    Closing,
    /// What the stream needs to start could not be read (the database is unreachable).
    Unavailable,
}

impl Feed {
    pub fn new(store: Store, render: Render, max_streams: usize, heartbeat: Duration) -> Arc<Self> {
        Arc::new(Self {
            store,
            render,
            live: broadcast::channel(RING).0,
            tail: watch::channel(None).0,
            wake: Notify::new(),
            streams: Arc::new(Semaphore::new(max_streams)),
            max_streams,
            heartbeat,
            closing: watch::channel(false).0,
        })
    }

    /// Something happened: read the log now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Ends every stream, and refuses new ones (shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
        self.streams.close();
    }

    /// How many streams are open (every open stream listens to the live events).
    pub fn open_streams(&self) -> usize {
        self.live.receiver_count()
    }

    pub fn max_streams(&self) -> usize {
        self.max_streams
    }

    /// How often a quiet stream gets a comment line, so proxies keep it open.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// Reads the log and hands on what is new, until the process ends. Whatever it reads is
    /// also given to `seen` (the cache's backstop, for announcements that never came).
    pub fn spawn_tail(self: &Arc<Self>, seen: impl Fn(&Event) + Send + 'static) {
        let feed = self.clone();
        tokio::spawn(async move {
            let mut position = loop {
                match feed.store.latest_event_position().await {
                    Ok(position) => break position,
                    Err(err) => {
                        tracing::warn!(error = %err, "the live feed cannot read the event log yet");
                        tokio::time::sleep(POLL_EVERY).await;
                    }
                }
            };
            feed.tail.send_replace(Some(position));
            loop {
                let _ = tokio::time::timeout(POLL_EVERY, feed.wake.notified()).await;
                loop {
                    let Batch { events, last, full } = match feed.store.events_after(position, BATCH).await {
                        Ok(batch) => batch,
                        Err(err) => {
                            tracing::warn!(error = %err, "the live feed could not read the event log");
                            break;
                        }
                    };
                    let Some(last) = last else { break };
                    position = last;
                    // A short batch is all there was: asking again would cost a query (and
                    // sqlx's ping) per wake-up for nothing. Anything committed meanwhile is
                    // announced, and that wakes this loop again.
                    for event in events {
                        seen(&event);
                        let _ = feed.live.send(Arc::new(feed.rendered(event)));
                    }
                    feed.tail.send_replace(Some(position));
                    if !full {
                        break;
                    }
                }
            }
        });
    }

    fn rendered(&self, event: Event) -> FeedEvent {
        FeedEvent {
            position: event.position,
            json: (self.render)(&event),
            event,
        }
    }

    /// A stream of the events after `after` (or from now) that `audience` sees. It holds
    /// one of the `max_streams` places while it lives, and ends at `until` if given.
    ///
    /// "Now" is fixed before this returns, so before the client sees the response: a
    /// chirp it posts once the stream has answered is always on it. (Fixed when the body
    /// was first read, a post could slip in between and be taken as already sent.)
    pub async fn subscribe(
        self: &Arc<Self>,
        after: Option<Position>,
        audience: Audience,
        until: Option<tokio::time::Instant>,
    ) -> Result<BoxStream<'static, Arc<FeedEvent>>, Refused> {
        if *self.closing.borrow() {
            return Err(Refused::Closing);
        }
        let permit = self.streams.clone().try_acquire_owned().map_err(|err| match err {
            tokio::sync::TryAcquireError::Closed => Refused::Closing,
            tokio::sync::TryAcquireError::NoPermits => Refused::Full,
        })?;
        // Subscribed before the log is read, so nothing falls between the two.
        let live = self.live.subscribe();
        let mut tail = self.tail.subscribe();
        // Without a position to resume from, the stream starts where the log ends now (not
        // where this instance's reader of it has got to, which may be behind).
        let start = match after {
            Some(after) => Some(after),
            None => self.store.latest_event_position().await.ok(),
        };
        // A home feed needs a start to know whom its reader followed there: without one (the
        // log unreadable), it cannot open.
        let filter = match audience {
            Audience::Chirps { author } => Filter::Chirps { author },
            Audience::Home { reader } => {
                let start = start.ok_or(Refused::Unavailable)?;
                let following = self
                    .store
                    .following_at(reader, start)
                    .await
                    .map_err(|_| Refused::Unavailable)?;
                Filter::Home { reader, following }
            }
        };
        let subscription = Subscription {
            feed: self.clone(),
            live,
            sent: Position::START,
            filter,
            _permit: permit,
        };
        let stream = futures_util::stream::once(async move {
            let start = match start {
                Some(start) => start,
                None => tail
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|tail| *tail)
                    .unwrap_or_default(),
            };
            Subscription {
                sent: start,
                ..subscription
            }
            .into_stream()
        })
        .flatten();
        let mut closing = self.closing.subscribe();
        let ended = async move {
            let closed = closing.wait_for(|closing| *closing);
            match until {
                Some(until) => {
                    tokio::select! {
                        _ = closed => {}
                        () = tokio::time::sleep_until(until) => {}
                    }
                }
                None => {
                    let _ = closed.await;
                }
            }
        };
        Ok(stream.take_until(ended).boxed())
    }
}

/// Whose events a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every chirp posted and deleted, or one author's (`GET /api/chirps/stream`).
    Chirps { author: Option<Uuid> },
    /// A reader's home: their own chirps and those of whom they follow, and their follows
    /// and unfollows (`GET /api/timelines/home/stream`).
    Home { reader: Uuid },
}

/// What a stream lets through, kept up to date as its events go by.
enum Filter {
    Chirps {
        author: Option<Uuid>,
    },
    /// Whom the reader follows as of the last event the stream has passed: their follow
    /// events change it in the log's own order, so each chirp is judged by the follows of
    /// its moment.
    Home {
        reader: Uuid,
        following: HashSet<Uuid>,
    },
}

impl Filter {
    /// Whether `event` is sent; a home feed's own follow events also update whom it follows.
    fn passes(&mut self, event: &Event) -> bool {
        match self {
            Self::Chirps { author } => {
                let chirp = matches!(event.change, Change::Posted(_) | Change::Deleted { .. });
                chirp && author.is_none_or(|author| author == event.user_id)
            }
            Self::Home { reader, following } => match event.change {
                Change::Posted(_) | Change::Deleted { .. } => {
                    event.user_id == *reader || following.contains(&event.user_id)
                }
                Change::Followed { followee } if event.user_id == *reader => {
                    following.insert(followee);
                    true
                }
                Change::Unfollowed { followee } if event.user_id == *reader => {
                    following.remove(&followee);
                    true
                }
                Change::Followed { .. } | Change::Unfollowed { .. } => false,
                Change::Notified { .. } => event.user_id == *reader,
            },
        }
    }
}

struct Subscription {
    feed: Arc<Feed>,
    live: broadcast::Receiver<Arc<FeedEvent>>,
    /// The last position sent (or the one to start after).
    sent: Position,
    filter: Filter,
    _permit: OwnedSemaphorePermit,
}

impl Subscription {
    fn into_stream(self) -> impl Stream<Item = Arc<FeedEvent>> + Send + 'static {
        futures_util::stream::unfold((self, Vec::new()), |(mut sub, mut backlog)| async move {
            loop {
                if let Some(event) = backlog.pop() {
                    return Some((event, (sub, backlog)));
                }
                // Catching up from the log, while it is ahead of the live tail.
                let tail = sub.feed.tail.borrow().unwrap_or_default();
                if sub.sent < tail {
                    let batch = sub.feed.store.events_after(sub.sent, BATCH).await.ok()?;
                    if let Some(last) = batch.last {
                        sub.sent = last;
                        let mut kept = Vec::new();
                        for event in batch.events {
                            if sub.filter.passes(&event) {
                                kept.push(Arc::new(sub.feed.rendered(event)));
                            }
                        }
                        kept.reverse();
                        backlog = kept;
                        continue;
                    }
                }
                match sub.live.recv().await {
                    Ok(event) if event.position > sub.sent => {
                        sub.sent = event.position;
                        if sub.filter.passes(&event.event) {
                            return Some((event, (sub, backlog)));
                        }
                    }
                    Ok(_already_sent) => {}
                    // A whole ring behind: end it; the client resumes from its last id.
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::info!(missed, "a live feed reader fell behind; closing its stream");
                        return None;
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}

impl Position {
    /// `<tx>-<seq>`, the events' `id:`.
    pub fn encode(&self) -> String {
        format!("{}-{}", self.tx, self.seq)
    }

    /// Any two numbers joined by `-`; beyond what positions reach means "after everything".
    pub fn parse(text: &str) -> Option<Self> {
        let (tx, seq) = text.trim().split_once('-')?;
        let number = |digits: &str| {
            let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            all_digits.then(|| digits.parse::<i64>().unwrap_or(i64::MAX))
        };
        Some(Self {
            tx: number(tx)?,
            seq: number(seq)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_refuse_anything_else() {
        let position = Position { tx: 812, seq: 40 };
        assert_eq!(Position::parse(&position.encode()), Some(position));
        for bad in ["", "812", "812-", "-40", "a-b", "812-40-1", "-1-2", "1--2", "+1-2"] {
            assert_eq!(Position::parse(bad), None, "{bad:?}");
        }
        let far = Position::parse("99999999999999999999-1").unwrap();
        assert_eq!(far, Position { tx: i64::MAX, seq: 1 }, "past every position");
        assert!(Position { tx: 1, seq: 9 } < Position { tx: 2, seq: 1 });
    }
}
