//! Brute-force protection for `POST /api/login`: failed attempts are counted per email and
//! per client address in fixed windows; once either count reaches its limit, attempts for
//! that key get 429 until its window ends. Successful logins of other users, from other
//! addresses, are unaffected. The counts are in PostgreSQL, so the limits hold across every
//! instance, and no amount of other traffic can push a lock out.

use std::{net::IpAddr, time::Duration};

use crate::{client_address::address_key, domain, store::Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    pub max_failures_per_email: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    store: Store,
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings, store: Store) -> Self {
        Self { settings, store }
    }

    /// Counts an attempt for this email and address, or `Err(wait)` while either is locked
    /// out. It is counted before the password is checked, so concurrent guesses cannot all
    /// slip in under the limit; [`LoginThrottle::succeeded`] takes a correct one back.
    pub async fn attempt(&self, email: &str, address: Option<IpAddr>) -> sqlx::Result<Result<(), Duration>> {
        let ThrottleSettings { window, .. } = self.settings;
        let email = email_key(email);
        if let Err(wait) = self
            .store
            .count_attempt(&email, self.settings.max_failures_per_email, window)
            .await?
        {
            return Ok(Err(wait));
        }
        if let Some(address) = address {
            let counted = self
                .store
                .count_attempt(&address_key(address), self.settings.max_failures_per_address, window)
                .await?;
            if let Err(wait) = counted {
                self.store.forgive_attempt(&email).await?;
                return Ok(Err(wait));
            }
        }
        Ok(Ok(()))
    }

    /// A correct password clears the email's count and takes back this attempt from the
    /// address's, whose other failures stand: one known account must not let an address
    /// keep guessing others.
    pub async fn succeeded(&self, email: &str, address: Option<IpAddr>) -> sqlx::Result<()> {
        self.store.clear_attempts(&email_key(email)).await?;
        if let Some(address) = address {
            self.store.forgive_attempt(&address_key(address)).await?;
        }
        Ok(())
    }

    /// Deletes counts whose window has ended (housekeeping, on any instance).
    pub async fn delete_expired(&self) -> sqlx::Result<u64> {
        self.store.delete_expired_attempts(self.settings.window).await
    }
}

/// Emails are matched by their key at login, so they are counted that way too: every
/// spelling of one address shares a count. A NUL (which no stored email has, and
/// PostgreSQL text cannot hold) counts as U+FFFD.
fn email_key(email: &str) -> String {
    format!("email:{}", domain::email_key(email.trim()).replace('\0', "\u{fffd}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_bit_network() {
        let key = |text: &str| address_key(text.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "address:203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "address:2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }
}
