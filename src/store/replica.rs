//! A read replica, used only while it is reachable and close behind the primary. A read
//! that fails on it is made on the primary at once; a task checks it every second and
//! sends reads back once it is healthy again.
//!
//! How far behind it is comes from the primary's WAL position, sampled at each check: the
//! replica's lag is the age of the newest sample it has replayed past. (The replica alone
//! cannot tell: one cut off from the primary looks caught up, and one just restarted looks
//! behind until the primary writes again; both seen in `just cluster-test`.)

use std::{
    collections::{HashSet, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use uuid::Uuid;

use super::Statements;

/// How often the replica's health and lag are checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Replica {
    pool: PgPool,
    usable: Arc<AtomicBool>,
    /// Chirps deleted lately, and users who changed what their own reads show lately (on
    /// this instance, or as another told).
    deletions: Arc<Mutex<RecentChanges>>,
    writers: Arc<Mutex<RecentChanges>>,
    /// How long after a change a usable replica may still lack it.
    may_lag_by: Duration,
}

impl Replica {
    /// Starts checking the replica behind `pool` against `primary`; it is not read from
    /// until a check passes. The check stops when the last clone of this is dropped.
    pub fn watch(pool: PgPool, primary: PgPool, max_lag: Duration, named_statements: bool) -> Self {
        let usable = Arc::new(AtomicBool::new(false));
        let watched = Arc::downgrade(&usable);
        let checked = pool.clone();
        tokio::spawn(async move {
            let mut positions = Positions::default();
            let mut every = tokio::time::interval(CHECK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(usable) = watched.upgrade() else { return };
                if let Ok(Some(position)) = wal_position(Statements::new(&primary, named_statements)).await {
                    positions.sampled(Instant::now(), position, max_lag);
                }
                let lag = lag(Statements::new(&checked, named_statements), &positions).await;
                let healthy = lag.is_some_and(|lag| lag <= max_lag);
                if usable.swap(healthy, Ordering::Relaxed) != healthy {
                    if healthy {
                        tracing::info!("the read replica is healthy: chirp reads go to it");
                    } else {
                        tracing::warn!(
                            ?lag,
                            "the read replica is unreachable or behind: chirp reads go to the primary"
                        );
                    }
                }
            }
        });
        let may_lag_by = max_lag + 2 * CHECK_EVERY;
        let recent = || Arc::new(Mutex::new(RecentChanges::remembering_for(may_lag_by)));
        Self {
            pool,
            usable,
            deletions: recent(),
            writers: recent(),
            may_lag_by,
        }
    }

    /// `id` was deleted (here, or by another instance): the replica may still have it
    /// until it has replayed the deletion, so reads of it go to the primary meanwhile.
    pub fn deleted(&self, id: Uuid) {
        lock(&self.deletions).changed(id, Instant::now());
    }

    /// Everything was deleted (`/admin/reset`): chirp reads go to the primary meanwhile.
    pub fn everything_deleted(&self) {
        lock(&self.deletions).everything_changed(Instant::now());
    }

    /// Whether the replica may still have `id` after its deletion.
    pub fn may_be_stale_for(&self, id: Uuid) -> bool {
        lock(&self.deletions).may_be_stale_for(id, Instant::now())
    }

    /// `user` changed what their own reads show (here): until the replica has surely
    /// replayed that, those reads go to the primary.
    pub fn wrote(&self, user: Uuid) {
        lock(&self.writers).changed(user, Instant::now());
    }

    /// Whether this instance knows of a change by `user` that the replica may lack.
    pub fn may_lack_writes_of(&self, user: Uuid) -> bool {
        lock(&self.writers).may_be_stale_for(user, Instant::now())
    }

    /// How long after a change the replica may lack it while it counts as usable.
    pub fn may_lag_by(&self) -> Duration {
        self.may_lag_by
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// A read failed on the replica: stop using it until a check passes.
    pub fn failed(&self, err: &sqlx::Error) {
        if self.usable.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %err, "a read on the replica failed: chirp reads go to the primary");
        }
    }
}

fn lock(recent: &Mutex<RecentChanges>) -> std::sync::MutexGuard<'_, RecentChanges> {
    recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Ids changed lately (chirps deleted, users who wrote), for as long as a usable replica
/// may lag behind the change.
#[derive(Debug)]
struct RecentChanges {
    keep_for: Duration,
    /// Oldest first, and as a set.
    order: VecDeque<(Instant, Uuid)>,
    ids: HashSet<Uuid>,
    /// Until when everything counts as deleted (after a reset).
    all_until: Option<Instant>,
}

/// Changes remembered at most; past this the oldest are forgotten early (a mass deletion:
/// reads of those may then find them on the replica until it catches up).
const MOST_REMEMBERED: usize = 100_000;

impl RecentChanges {
    fn remembering_for(keep_for: Duration) -> Self {
        Self {
            keep_for,
            order: VecDeque::new(),
            ids: HashSet::new(),
            all_until: None,
        }
    }

    fn changed(&mut self, id: Uuid, now: Instant) {
        self.forget_older(now);
        if self.order.len() == MOST_REMEMBERED
            && let Some((_, oldest)) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        if self.ids.insert(id) {
            self.order.push_back((now, id));
        }
    }

    fn everything_changed(&mut self, now: Instant) {
        self.all_until = Some(now + self.keep_for);
    }

    fn may_be_stale_for(&mut self, id: Uuid, now: Instant) -> bool {
        self.forget_older(now);
        self.all_until.is_some_and(|until| now < until) || self.ids.contains(&id)
    }

    fn forget_older(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.order.front() {
            if now.duration_since(at) <= self.keep_for {
                break;
            }
            self.order.pop_front();
            self.ids.remove(&id);
        }
    }
}

/// The primary's WAL positions at recent checks, oldest first.
#[derive(Debug, Default)]
struct Positions(VecDeque<(Instant, u64)>);

impl Positions {
    /// Keeps samples as far back as `max_lag` and a little more.
    fn sampled(&mut self, at: Instant, position: u64, max_lag: Duration) {
        self.0.push_back((at, position));
        while self
            .0
            .front()
            .is_some_and(|(oldest, _)| at.duration_since(*oldest) > max_lag + 2 * CHECK_EVERY)
        {
            self.0.pop_front();
        }
    }

    /// How far behind a replica that has replayed up to `replayed` is: the age of the
    /// newest sample it has passed; at least the oldest one's age if it passed none.
    fn lag(&self, replayed: u64, now: Instant) -> Option<Duration> {
        let passed = self.0.iter().rev().find(|(_, position)| *position <= replayed);
        let (at, _) = passed.or(self.0.front())?;
        Some(now.duration_since(*at))
    }
}

/// The lag of the replica, or `None` if it cannot be had (unreachable, or nothing known of
/// the primary yet). A server that is not a standby has none.
async fn lag(replica: Statements<&PgPool>, positions: &Positions) -> Option<Duration> {
    let replayed =
        sqlx::query!(r#"select pg_is_in_recovery() as "standby!", pg_last_wal_replay_lsn()::text as replayed"#)
            .fetch_one(replica);
    let state = match tokio::time::timeout(CHECK_EVERY, replayed).await {
        Ok(Ok(state)) => state,
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "replica check failed");
            return None;
        }
        Err(_) => return None,
    };
    if !state.standby {
        // Usable all the same (a test's stand-in, or a deliberate choice), but never quietly.
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| tracing::warn!("{}", crate::diagnosis::NOT_A_STANDBY));
        return Some(Duration::ZERO);
    }
    let replayed = state.replayed.as_deref().and_then(parse_lsn)?;
    positions.lag(replayed, Instant::now())
}

async fn wal_position(primary: Statements<&PgPool>) -> sqlx::Result<Option<u64>> {
    let lsn = sqlx::query_scalar!(r#"select pg_current_wal_lsn()::text as "lsn!""#)
        .fetch_one(primary)
        .await?;
    Ok(parse_lsn(&lsn))
}

/// `16/B374D848` as the number it stands for.
fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    Some((u64::from_str_radix(high, 16).ok()? << 32) | u64::from_str_radix(low, 16).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_are_remembered_for_as_long_as_the_replica_may_lag() {
        let start = Instant::now();
        let mut recent = RecentChanges::remembering_for(Duration::from_secs(7));
        let (gone, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        recent.changed(gone, start);
        assert!(recent.may_be_stale_for(gone, start + Duration::from_secs(7)));
        assert!(!recent.may_be_stale_for(other, start + Duration::from_secs(1)));
        assert!(!recent.may_be_stale_for(gone, start + Duration::from_secs(8)));
        assert!(recent.ids.is_empty() && recent.order.is_empty(), "forgotten, not kept");
        recent.everything_changed(start + Duration::from_secs(10));
        assert!(recent.may_be_stale_for(other, start + Duration::from_secs(16)));
        assert!(!recent.may_be_stale_for(other, start + Duration::from_secs(18)));
    }

    #[test]
    fn a_mass_deletion_is_remembered_up_to_a_bound() {
        let now = Instant::now();
        let mut recent = RecentChanges::remembering_for(Duration::from_secs(60));
        for n in 0..=MOST_REMEMBERED as u128 {
            recent.changed(Uuid::from_u128(n), now);
        }
        assert_eq!(recent.ids.len(), MOST_REMEMBERED);
        assert!(
            !recent.may_be_stale_for(Uuid::from_u128(0), now),
            "the oldest went first"
        );
        assert!(recent.may_be_stale_for(Uuid::from_u128(MOST_REMEMBERED as u128), now));
    }

    #[test]
    fn lsns_parse_as_positions() {
        assert_eq!(parse_lsn("0/3170A18"), Some(0x3170A18));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374D848));
        assert_eq!(parse_lsn("nope"), None);
    }

    #[test]
    fn the_lag_is_the_age_of_the_newest_position_replayed() {
        let start = Instant::now();
        let max = Duration::from_secs(5);
        let mut positions = Positions::default();
        for (second, position) in [(0, 100), (1, 200), (2, 200), (3, 300)] {
            positions.sampled(start + Duration::from_secs(second), position, max);
        }
        let now = start + Duration::from_secs(3);
        assert_eq!(positions.lag(300, now), Some(Duration::ZERO), "caught up");
        assert_eq!(
            positions.lag(350, now),
            Some(Duration::ZERO),
            "ahead of the last sample"
        );
        assert_eq!(
            positions.lag(250, now),
            Some(Duration::from_secs(1)),
            "passed the sample of second 2"
        );
        assert_eq!(
            positions.lag(50, now),
            Some(Duration::from_secs(3)),
            "behind them all: at least the oldest"
        );
        assert_eq!(Positions::default().lag(50, now), None, "nothing known of the primary");
        for second in 4..20 {
            positions.sampled(start + Duration::from_secs(second), 300, max);
        }
        assert!(
            positions.0.len() <= 8,
            "only as far back as the lag allowed: {}",
            positions.0.len()
        );
    }
}
