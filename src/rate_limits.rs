//! Rate limits on every write, per account and per client address (behind `TRUSTED_PROXIES`,
//! the address they forwarded; IPv6 by its /64), shared by every instance; and a generous
//! per-address limit on reads, kept by each instance alone.
//!
//! A write is counted first here, in fixed windows like the shared count's: a client over
//! its quota on this instance alone is refused without touching the database. What passes is
//! counted in PostgreSQL (`store::rate_counts`, in groups), which has the last word. Reads are
//! only ever counted here, so a read never costs a database write.
//!
//! Every response of a limited route says where its client stands, in the IETF fields
//! (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "post-account";q=300;w=300`
//! and `RateLimit: "post-account";r=287;t=113`; a 429 also has `Retry-After`.

use std::{
    cell::RefCell,
    collections::HashMap,
    fmt::Write as _,
    net::IpAddr,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use poem::http::HeaderValue;
use uuid::Uuid;

use crate::{
    client_address::address_key,
    error::ApiError,
    store::{Hit, Store},
};

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Signup,
    /// Changing one's email and password, or profile.
    Account,
    Post,
    Delete,
    Follow,
    Like,
    Report,
    Read,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Signup,
        Kind::Account,
        Kind::Post,
        Kind::Delete,
        Kind::Follow,
        Kind::Like,
        Kind::Report,
        Kind::Read,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Signup => "signup",
            Kind::Account => "account",
            Kind::Post => "post",
            Kind::Delete => "delete",
            Kind::Follow => "follow",
            Kind::Like => "like",
            Kind::Report => "report",
            Kind::Read => "read",
        }
    }

    /// The variable that sets its quota.
    pub fn variable(self) -> &'static str {
        match self {
            Kind::Signup => "RATE_LIMIT_SIGNUP",
            Kind::Account => "RATE_LIMIT_ACCOUNT",
            Kind::Post => "RATE_LIMIT_POST",
            Kind::Delete => "RATE_LIMIT_DELETE",
            Kind::Follow => "RATE_LIMIT_FOLLOW",
            Kind::Like => "RATE_LIMIT_LIKE",
            Kind::Report => "RATE_LIMIT_REPORT",
            Kind::Read => "RATE_LIMIT_READ",
        }
    }

    /// Its default quota per account (per address for sign-ups and reads).
    pub fn default_quota(self) -> Quota {
        let (requests, seconds) = match self {
            Kind::Signup => (10, 3600),
            Kind::Account => (30, 3600),
            Kind::Post => (300, 300),
            Kind::Delete => (300, 300),
            Kind::Follow => (300, 300),
            Kind::Like => (600, 300),
            Kind::Report => (20, 3600),
            Kind::Read => (3000, 60),
        };
        Quota { requests, seconds }
    }

    /// Whether it is counted per account (and then per address too, at
    /// [`ADDRESS_SHARE`] times the quota: several people may share one address).
    fn per_account(self) -> bool {
        !matches!(self, Kind::Signup | Kind::Read)
    }
}

/// An address may make this many times an account's quota of a write.
pub const ADDRESS_SHARE: u32 = 4;

/// At most `requests` in each window of `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub seconds: u32,
}

impl Quota {
    /// `N/S`: N requests per S seconds.
    pub fn parse(text: &str) -> Option<Self> {
        let (requests, seconds) = text.trim().split_once('/')?;
        let quota = Self {
            requests: requests.trim().parse().ok()?,
            seconds: seconds.trim().parse().ok()?,
        };
        (quota.requests >= 1 && (1..=86_400).contains(&quota.seconds)).then_some(quota)
    }
}

/// `RATE_LIMITS` and the quotas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `RATE_LIMITS=off` turns every limit here off (the login throttle stays).
    pub on: bool,
    pub quotas: HashMap<Kind, Quota>,
}

impl RateLimitSettings {
    pub fn quota(&self, kind: Kind) -> Quota {
        self.quotas.get(&kind).copied().unwrap_or_else(|| kind.default_quota())
    }
}

/// One limit a request was counted against, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Standing {
    policy: String,
    quota: Quota,
    remaining: i64,
    reset_secs: i64,
}

/// What a request is limited by, gathered as it is handled, for its response's fields.
#[derive(Default)]
struct Request {
    client: Option<IpAddr>,
    standings: Vec<Standing>,
}

tokio::task_local! {
    static REQUEST: RefCell<Request>;
}

/// The request's client address, for the limits (`observe` knows it first).
pub async fn scope<F: Future>(client: Option<IpAddr>, handle: F) -> (F::Output, Option<Fields>) {
    let request = RefCell::new(Request {
        client,
        standings: Vec::new(),
    });
    REQUEST
        .scope(request, async move {
            let output = handle.await;
            let fields = REQUEST.with(|request| Fields::of(&request.borrow().standings));
            (output, fields)
        })
        .await
}

/// The `RateLimit-Policy` and `RateLimit` field values for a response.
pub struct Fields {
    pub policy: HeaderValue,
    pub limit: HeaderValue,
}

impl Fields {
    fn of(standings: &[Standing]) -> Option<Self> {
        if standings.is_empty() {
            return None;
        }
        let (mut policy, mut limit) = (String::new(), String::new());
        for (n, standing) in standings.iter().enumerate() {
            let sep = if n == 0 { "" } else { ", " };
            let Quota { requests, seconds } = standing.quota;
            let _ = write!(policy, "{sep}\"{}\";q={requests};w={seconds}", standing.policy);
            let _ = write!(
                limit,
                "{sep}\"{}\";r={};t={}",
                standing.policy,
                standing.remaining.max(0),
                standing.reset_secs.max(0)
            );
        }
        Some(Self {
            policy: HeaderValue::from_str(&policy).ok()?,
            limit: HeaderValue::from_str(&limit).ok()?,
        })
    }
}

/// Counts per key in this instance's current windows.
#[derive(Default)]
struct LocalWindows {
    counts: Mutex<HashMap<String, (u64, u32)>>,
}

impl LocalWindows {
    /// Counts a hit on `key` in its window of `seconds` at `now` (seconds since the epoch):
    /// the hits so far, and the seconds until the window ends.
    fn hit(&self, key: &str, seconds: u32, now: u64) -> (u32, u64) {
        let window = now / u64::from(seconds);
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(key.to_owned()).or_insert((window, 0));
        if count.0 != window {
            *count = (window, 0);
        }
        count.1 = count.1.saturating_add(1);
        let ends = (window + 1) * u64::from(seconds);
        (count.1, ends - now)
    }

    /// Forgets the windows that ended before `now`.
    fn forget_ended(&self, now: u64, seconds_of: impl Fn(&str) -> u32) {
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.retain(|key, (window, _)| (*window + 1) * u64::from(seconds_of(key)) > now);
    }
}

/// The limits, for every request of one instance.
pub struct Limiter {
    settings: RateLimitSettings,
    local: LocalWindows,
    store: Store,
}

impl Limiter {
    pub fn new(settings: RateLimitSettings, store: Store) -> Self {
        Self {
            settings,
            local: LocalWindows::default(),
            store,
        }
    }

    pub fn on(&self) -> bool {
        self.settings.on
    }

    /// Counts one `kind` request by `account` (if it is counted per account) and by the
    /// request's client address: `Err` (429) when either is over its quota. Reads are counted
    /// on this instance only; writes with every instance.
    pub async fn check(&self, kind: Kind, account: Option<Uuid>) -> Result<(), ApiError> {
        if !self.settings.on {
            return Ok(());
        }
        let client = REQUEST.try_with(|request| request.borrow().client).ok().flatten();
        let quota = self.settings.quota(kind);
        let mut limits = Vec::with_capacity(2);
        if let Some(account) = account.filter(|_| kind.per_account()) {
            limits.push((
                format!("{}-account", kind.name()),
                format!("{}:user:{account}", kind.name()),
                quota,
            ));
        }
        if let Some(client) = client {
            let share = if kind.per_account() { ADDRESS_SHARE } else { 1 };
            let quota = Quota {
                requests: quota.requests.saturating_mul(share),
                ..quota
            };
            limits.push((
                format!("{}-address", kind.name()),
                format!("{}:{}", kind.name(), address_key(client)),
                quota,
            ));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut standings = Vec::with_capacity(limits.len());
        for (policy, key, quota) in &limits {
            let (hits, reset_secs) = self.local.hit(key, quota.seconds, now);
            standings.push(Standing {
                policy: policy.clone(),
                quota: *quota,
                remaining: i64::from(quota.requests) - i64::from(hits),
                reset_secs: reset_secs as i64,
            });
        }
        // Over on this instance alone: refused without asking the database.
        if kind != Kind::Read && standings.iter().all(|standing| standing.remaining >= 0) {
            let counted = limits.iter().map(|(_, key, quota)| {
                self.store.count_hit(Hit {
                    key: key.clone(),
                    window_secs: quota.seconds as i32,
                })
            });
            for (standing, counted) in standings
                .iter_mut()
                .zip(futures_util::future::try_join_all(counted).await?)
            {
                standing.remaining = i64::from(standing.quota.requests) - counted.hits;
                standing.reset_secs = counted.reset_secs;
            }
        }
        let refused = standings
            .iter()
            .filter(|standing| standing.remaining < 0)
            .map(|standing| standing.reset_secs)
            .max();
        let _ = REQUEST.try_with(|request| request.borrow_mut().standings.extend(standings));
        match refused {
            None => Ok(()),
            Some(wait) => Err(ApiError::TooManyRequests {
                message: "Too many requests; try again later",
                retry_after_secs: wait.max(1) as u64,
            }),
        }
    }

    /// Forgets this instance's ended windows (housekeeping).
    pub fn forget_ended(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let longest = Kind::ALL
            .iter()
            .map(|kind| self.settings.quota(*kind).seconds)
            .max()
            .unwrap_or(1);
        let seconds_of = |key: &str| {
            Kind::ALL
                .iter()
                .find(|kind| key.starts_with(kind.name()))
                .map_or(longest, |kind| self.settings.quota(*kind).seconds)
        };
        self.local.forget_ended(now, seconds_of);
    }
}

/// Counts every read under `/api/` against its client's read quota (on this instance only),
/// and gives every response of a limited route its `RateLimit-Policy` and `RateLimit`.
pub async fn around<E: poem::Endpoint>(
    next: E,
    req: poem::Request,
    limiter: &Limiter,
    proxies: &crate::client_address::TrustedProxies,
) -> poem::Result<poem::Response> {
    use poem::IntoResponse;
    let client = proxies.client_of(req.remote_addr(), req.headers());
    let path = req.uri().path();
    let read = matches!(*req.method(), poem::http::Method::GET | poem::http::Method::HEAD)
        && path.starts_with("/api/")
        && !matches!(path, "/api/healthz" | "/api/readyz");
    // Boxed: the layers' futures nest, and in a debug build their frames are large.
    let (answered, fields) = Box::pin(scope(client, async move {
        if read && let Err(refused) = limiter.check(Kind::Read, None).await {
            return Ok(refused.into_response());
        }
        next.call(req).await.map(IntoResponse::into_response)
    }))
    .await;
    // An operation's error responses come back as errors made from responses.
    let mut resp = match answered {
        Ok(resp) => resp,
        Err(err) if err.is_from_response() => err.into_response(),
        Err(err) => return Err(err),
    };
    if let Some(fields) = fields {
        resp.headers_mut().insert("ratelimit-policy", fields.policy);
        resp.headers_mut().insert("ratelimit", fields.limit);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_read_as_requests_per_seconds() {
        assert_eq!(
            Quota::parse("300/300"),
            Some(Quota {
                requests: 300,
                seconds: 300
            })
        );
        assert_eq!(
            Quota::parse(" 5 / 60 "),
            Some(Quota {
                requests: 5,
                seconds: 60
            })
        );
        for bad in ["", "300", "0/60", "5/0", "5/86401", "x/60", "5/-1", "5/60/1"] {
            assert_eq!(Quota::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn local_windows_count_and_start_again() {
        let windows = LocalWindows::default();
        assert_eq!(windows.hit("k", 60, 120), (1, 60));
        assert_eq!(windows.hit("k", 60, 150), (2, 30));
        assert_eq!(windows.hit("k", 60, 180), (1, 60), "a new window");
        windows.forget_ended(300, |_| 60);
        assert!(windows.counts.lock().unwrap().is_empty());
    }

    #[test]
    fn fields_follow_the_draft() {
        let standing = |policy: &str, remaining| Standing {
            policy: policy.into(),
            quota: Quota {
                requests: 300,
                seconds: 300,
            },
            remaining,
            reset_secs: 7,
        };
        let fields = Fields::of(&[standing("post-account", 5), standing("post-address", -1)]).unwrap();
        assert_eq!(
            fields.policy,
            "\"post-account\";q=300;w=300, \"post-address\";q=300;w=300"
        );
        assert_eq!(fields.limit, "\"post-account\";r=5;t=7, \"post-address\";r=0;t=7");
        assert!(Fields::of(&[]).is_none());
    }
}
