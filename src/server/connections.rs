//! Every open connection, and the bounds on them: at most `max` at once; a connection
//! waiting for a request (its first byte, the rest of its headers, or its next request on
//! keep-alive) for longer than the header deadline is closed, and so is one whose writes
//! have been stuck for longer than the write deadline (a reader that stopped reading).
//! At the cap, a newcomer is served and the connection that has waited longest for a
//! request makes room: a flood of slow clients cannot lock out a normal one.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

/// Bounds on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most.
    pub max: usize,
    /// How long a connection may wait for a request's headers to be complete.
    pub header_timeout: Duration,
    /// How long a write may stay stuck before the connection is closed.
    pub write_timeout: Duration,
}

/// One connection's state, shared between its task, its IO and the registry.
#[derive(Debug)]
pub struct Connection {
    id: u64,
    /// Requests being answered (a response counts until its body is sent).
    in_flight: AtomicUsize,
    /// Since when it has waited for a request, in ms since the registry started; 0 while
    /// it is answering one.
    waiting_since: AtomicU64,
    /// Since when a write has been stuck, likewise; 0 while writes go through.
    stuck_since: AtomicU64,
    /// Cancelled to close the connection at once.
    pub closed: CancellationToken,
    clock: Clock,
}

impl Connection {
    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.waiting_since.store(0, Ordering::Release);
    }

    pub fn request_finished(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.waiting_since.store(self.clock.now(), Ordering::Release);
        }
    }

    pub fn write_stuck(&self) {
        let _ = self
            .stuck_since
            .compare_exchange(0, self.clock.now(), Ordering::AcqRel, Ordering::Acquire);
    }

    pub fn write_went_through(&self) {
        self.stuck_since.store(0, Ordering::Release);
    }

    /// How long it has waited for a request, if it is waiting.
    fn waiting(&self, now: u64) -> Option<u64> {
        let since = self.waiting_since.load(Ordering::Acquire);
        (since != 0 && self.in_flight.load(Ordering::Acquire) == 0).then(|| now.saturating_sub(since))
    }

    fn stuck(&self, now: u64) -> Option<u64> {
        let since = self.stuck_since.load(Ordering::Acquire);
        (since != 0).then(|| now.saturating_sub(since))
    }
}

/// Milliseconds since the registry started, never 0 (0 means "not").
#[derive(Debug, Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now(&self) -> u64 {
        self.0.elapsed().as_millis() as u64 + 1
    }
}

/// What became of a newcomer.
pub enum Admission {
    Admitted(Arc<Connection>),
    /// At the cap with nothing waiting to make room for it: every connection is busy.
    Refused,
}

#[derive(Debug)]
pub struct Registry {
    limits: ConnectionLimits,
    clock: Clock,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Registry {
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            clock: Clock(Instant::now()),
            next_id: AtomicU64::new(1),
            open: Mutex::default(),
        })
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn len(&self) -> usize {
        self.open().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Admits a new connection, closing the longest-waiting one if that is what it takes.
    pub fn admit(&self) -> Admission {
        let now = self.clock.now();
        let mut open = self.open();
        if open.len() >= self.limits.max {
            let longest = open
                .values()
                .filter_map(|conn| conn.waiting(now).map(|waited| (waited, conn.id)))
                .max()
                .map(|(_, id)| id);
            let Some(id) = longest else {
                return Admission::Refused;
            };
            if let Some(evicted) = open.remove(&id) {
                evicted.closed.cancel();
            }
        }
        let conn = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            in_flight: AtomicUsize::new(0),
            waiting_since: AtomicU64::new(now),
            stuck_since: AtomicU64::new(0),
            closed: CancellationToken::new(),
            clock: self.clock,
        });
        open.insert(conn.id, conn.clone());
        Admission::Admitted(conn)
    }

    /// The connection's task is done with it.
    pub fn remove(&self, conn: &Connection) {
        self.open().remove(&conn.id);
    }

    /// Closes what has waited or been stuck too long; returns how many.
    pub fn sweep(&self) -> usize {
        let now = self.clock.now();
        let header_ms = self.limits.header_timeout.as_millis() as u64;
        let write_ms = self.limits.write_timeout.as_millis() as u64;
        let mut open = self.open();
        let before = open.len();
        open.retain(|_, conn| {
            let overdue = conn.waiting(now).is_some_and(|waited| waited > header_ms)
                || conn.stuck(now).is_some_and(|stuck| stuck > write_ms);
            if overdue {
                conn.closed.cancel();
            }
            !overdue
        });
        before - open.len()
    }

    /// Closes every connection at once (the end of a graceful shutdown's grace).
    pub fn close_all(&self) {
        for conn in self.open().drain().map(|(_, conn)| conn) {
            conn.closed.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(max: usize, header_ms: u64) -> Arc<Registry> {
        Registry::new(ConnectionLimits {
            max,
            header_timeout: Duration::from_millis(header_ms),
            write_timeout: Duration::from_millis(header_ms),
        })
    }

    fn admitted(registry: &Registry) -> Arc<Connection> {
        match registry.admit() {
            Admission::Admitted(conn) => conn,
            Admission::Refused => panic!("refused"),
        }
    }

    #[test]
    fn at_the_cap_the_longest_waiting_makes_room() {
        let registry = registry(2, 60_000);
        let oldest = admitted(&registry);
        std::thread::sleep(Duration::from_millis(5));
        let busy = admitted(&registry);
        busy.request_started();
        let newcomer = admitted(&registry);
        assert!(oldest.closed.is_cancelled(), "the idle one went");
        assert!(!busy.closed.is_cancelled() && !newcomer.closed.is_cancelled());
        assert_eq!(registry.len(), 2);
    }

    #[test]
    fn when_all_are_busy_a_newcomer_is_refused() {
        let registry = registry(1, 60_000);
        let busy = admitted(&registry);
        busy.request_started();
        assert!(matches!(registry.admit(), Admission::Refused));
        busy.request_finished();
        assert!(
            matches!(registry.admit(), Admission::Admitted(_)),
            "idle again: it makes room"
        );
    }

    #[test]
    fn waiting_too_long_for_a_request_or_a_stuck_write_closes() {
        let registry = registry(10, 20);
        let idle = admitted(&registry);
        let answering = admitted(&registry);
        answering.request_started();
        let stuck = admitted(&registry);
        stuck.request_started();
        stuck.write_stuck();
        let flowing = admitted(&registry);
        flowing.request_started();
        flowing.write_stuck();
        std::thread::sleep(Duration::from_millis(30));
        flowing.write_went_through();
        assert_eq!(registry.sweep(), 2);
        assert!(idle.closed.is_cancelled() && stuck.closed.is_cancelled());
        assert!(!answering.closed.is_cancelled() && !flowing.closed.is_cancelled());
        answering.request_finished();
        assert_eq!(registry.sweep(), 0, "it has only just started waiting");
    }
}
