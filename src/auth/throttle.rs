//! Brute-force protection for `POST /api/login`: failed attempts are counted per email and
//! per client address in fixed windows; once either count reaches its limit, attempts for
//! that key get 429 until its window ends. Successful logins of other users, from other
//! addresses, are unaffected. State is in memory, per process.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Keys tracked per counter at most, so a spray of made-up emails cannot exhaust memory
/// (about 100 bytes each).
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    pub max_failures_per_email: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
}

#[derive(Debug)]
pub struct LoginThrottle {
    by_email: FailureCounter<String>,
    by_address: FailureCounter<IpAddr>,
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            by_email: FailureCounter::new(settings.max_failures_per_email, settings.window),
            by_address: FailureCounter::new(settings.max_failures_per_address, settings.window),
        }
    }

    /// Counts an attempt for this email and address, or `Err(wait)` while either is locked
    /// out. It is counted before the password is checked, so concurrent guesses cannot all
    /// slip in under the limit; [`LoginThrottle::succeeded`] takes a correct one back.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let email = email_key(email);
        self.by_email.try_count(&email, now)?;
        if let Some(address) = address
            && let Err(wait) = self.by_address.try_count(&address, now)
        {
            self.by_email.forgive_one(&email);
            return Err(wait);
        }
        Ok(())
    }

    /// A correct password clears the email's count and takes back this attempt from the
    /// address's, whose other failures stand: one known account must not let an address
    /// keep guessing others.
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        self.by_email.clear(&email_key(email));
        if let Some(address) = address {
            self.by_address.forgive_one(&address);
        }
    }
}

/// Emails are matched regardless of case at login, so they are counted that way too.
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[derive(Debug)]
struct FailureCounter<K> {
    max: u32,
    window: Duration,
    entries: Mutex<HashMap<K, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl<K: std::hash::Hash + Eq + Clone> FailureCounter<K> {
    fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            entries: Mutex::default(),
        }
    }

    /// Counts one more attempt for `key`, unless it already has its fill in this window.
    /// One lock for both, so concurrent attempts are admitted one at a time.
    fn try_count(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(w) = entries.get(key)
            && w.failures >= self.max
            && now < w.started + self.window
        {
            return Err(w.started + self.window - now);
        }
        if entries.len() >= MAX_TRACKED && !entries.contains_key(key) {
            entries.retain(|_, w| now < w.started + self.window);
            if entries.len() >= MAX_TRACKED {
                // Still full of live windows: forget the oldest rather than grow without bound.
                let oldest = entries.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        let window = entries.entry(key.clone()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now >= window.started + self.window {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        Ok(())
    }

    fn clear(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key);
    }

    fn forgive_one(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(window) = entries.get_mut(key) {
            window.failures = window.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_email: u32, per_address: u32) -> LoginThrottle {
        LoginThrottle::new(ThrottleSettings {
            max_failures_per_email: per_email,
            max_failures_per_address: per_address,
            window: Duration::from_secs(60),
        })
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));

    /// Attempts that fail: counted, never taken back.
    fn fail(t: &LoginThrottle, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        t.attempt(email, address)
    }

    #[test]
    fn locks_an_email_after_its_failures_whatever_the_case() {
        let t = throttle(3, 100);
        for _ in 0..3 {
            assert!(fail(&t, "Walt@Example.com", HOME).is_ok());
        }
        let wait = t.attempt("WALT@example.com", AWAY).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(
            t.attempt("jesse@example.com", HOME).is_ok(),
            "other emails are unaffected"
        );
    }

    #[test]
    fn locks_an_address_after_its_failures_across_emails() {
        let t = throttle(100, 4);
        for n in 0..4 {
            assert!(fail(&t, &format!("user{n}@example.com"), HOME).is_ok());
        }
        assert!(t.attempt("anyone@example.com", HOME).is_err());
        assert!(
            t.attempt("anyone@example.com", AWAY).is_ok(),
            "other addresses are unaffected"
        );
    }

    #[test]
    fn successes_are_taken_back_but_failures_stand() {
        let t = throttle(2, 3);
        for _ in 0..10 {
            t.attempt("saul@example.com", HOME).unwrap();
            t.succeeded("saul@example.com", HOME);
        }
        fail(&t, "walt@example.com", HOME).unwrap();
        fail(&t, "walt@example.com", HOME).unwrap();
        t.attempt("walt@example.com", AWAY).unwrap_err();
        fail(&t, "jesse@example.com", HOME).unwrap();
        assert!(
            t.attempt("saul@example.com", HOME).is_err(),
            "three failures from HOME in all"
        );
    }

    #[test]
    fn concurrent_guesses_cannot_exceed_the_limit() {
        let t = std::sync::Arc::new(throttle(5, 1000));
        let admitted: usize = (0..40)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || usize::from(t.attempt("walt@example.com", HOME).is_ok()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(admitted, 5);
    }

    #[test]
    fn windows_expire() {
        let counter = FailureCounter::new(1, Duration::from_secs(10));
        let start = Instant::now();
        counter.try_count(&"k", start).unwrap();
        assert!(counter.try_count(&"k", start + Duration::from_secs(9)).is_err());
        assert!(
            counter.try_count(&"k", start + Duration::from_secs(10)).is_ok(),
            "a new window counts afresh"
        );
        assert!(counter.try_count(&"k", start + Duration::from_secs(11)).is_err());
    }
}
