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

    /// `Err(wait)` while this email or address is locked out.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let by_address = address.map_or(Ok(()), |a| self.by_address.check(&a, now));
        self.by_email.check(&email_key(email), now).and(by_address)
    }

    pub fn record_failure(&self, email: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        self.by_email.record(email_key(email), now);
        if let Some(address) = address {
            self.by_address.record(address, now);
        }
    }

    /// A correct password clears the email's count, not the address's: one known account
    /// must not let an address keep guessing others.
    pub fn record_success(&self, email: &str) {
        self.by_email.clear(&email_key(email));
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

    fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match entries.get(key) {
            Some(w) if w.failures >= self.max && now < w.started + self.window => Err(w.started + self.window - now),
            _ => Ok(()),
        }
    }

    fn record(&self, key: K, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= MAX_TRACKED && !entries.contains_key(&key) {
            entries.retain(|_, w| now < w.started + self.window);
            if entries.len() >= MAX_TRACKED {
                // Still full of live windows: forget the oldest rather than grow without bound.
                let oldest = entries.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        let window = entries.entry(key).or_insert(Window {
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
    }

    fn clear(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key);
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

    #[test]
    fn locks_an_email_after_its_failures_whatever_the_case() {
        let t = throttle(3, 100);
        for _ in 0..3 {
            assert!(t.check("walt@example.com", HOME).is_ok());
            t.record_failure("Walt@Example.com", HOME);
        }
        let wait = t.check("WALT@example.com", AWAY).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(
            t.check("jesse@example.com", HOME).is_ok(),
            "other emails are unaffected"
        );
    }

    #[test]
    fn locks_an_address_after_its_failures_across_emails() {
        let t = throttle(100, 4);
        for n in 0..4 {
            t.record_failure(&format!("user{n}@example.com"), HOME);
        }
        assert!(t.check("anyone@example.com", HOME).is_err());
        assert!(
            t.check("anyone@example.com", AWAY).is_ok(),
            "other addresses are unaffected"
        );
    }

    #[test]
    fn success_clears_the_email_but_not_the_address() {
        let t = throttle(2, 3);
        t.record_failure("walt@example.com", HOME);
        t.record_failure("walt@example.com", HOME);
        t.record_success("walt@example.com");
        assert!(t.check("walt@example.com", AWAY).is_ok());
        t.record_failure("jesse@example.com", HOME);
        assert!(
            t.check("saul@example.com", HOME).is_err(),
            "three failures from HOME in all"
        );
    }

    #[test]
    fn windows_expire() {
        let counter = FailureCounter::new(1, Duration::from_secs(10));
        let start = Instant::now();
        counter.record("k", start);
        assert!(counter.check(&"k", start + Duration::from_secs(9)).is_err());
        assert!(counter.check(&"k", start + Duration::from_secs(10)).is_ok());
        counter.record("k", start + Duration::from_secs(11));
        assert!(
            counter.check(&"k", start + Duration::from_secs(12)).is_err(),
            "a new window counts afresh"
        );
    }
}
