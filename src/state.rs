use std::sync::Arc;

use crate::{
    api,
    auth::{AccessTokens, LoginThrottle, PasswordHasher, Successors},
    cache::ChirpCache,
    changes::Announcer,
    client_address::TrustedProxies,
    config::{Config, Platform, Secret},
    feed::Feed,
    metrics::{Metrics, Sources},
    rate_limits::Limiter,
    store::Store,
    visits::Visits,
};

/// Everything a request needs; cheap to clone (every field is shared).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub passwords: PasswordHasher,
    pub login_throttle: LoginThrottle,
    pub access_tokens: Arc<AccessTokens>,
    /// Each refresh token's successor, when it is rotated.
    pub successors: Arc<Successors>,
    pub polka_key: Arc<Secret>,
    pub platform: Platform,
    /// Requests served under `/app/`, counted with every other instance's.
    pub visits: Arc<Visits>,
    pub cache: Arc<ChirpCache>,
    pub feed: Arc<Feed>,
    /// Tells the other instances what this one posted and deleted.
    pub announcer: Announcer,
    /// `None` unless `METRICS_ADDR` is set: nothing is counted then.
    pub metrics: Option<Arc<Metrics>>,
    pub trusted_proxies: Arc<TrustedProxies>,
    pub limiter: Arc<Limiter>,
}

impl AppState {
    /// Starts the state's own tasks too (the hashing threads, the announcer), so it needs a
    /// runtime.
    pub fn new(config: &Config, store: Store) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let ttl = chrono::Duration::from_std(config.access_token_ttl).unwrap_or(chrono::Duration::MAX);
        let passwords = PasswordHasher::new(config.hash_params)?;
        let cache = Arc::new(ChirpCache::new(config.chirp_cache_mib));
        let feed = Feed::new(
            store.clone(),
            api::render_event,
            config.max_event_streams,
            config.stream_heartbeat,
        );
        let metrics = config.metrics_addr.map(|_| {
            Arc::new(Metrics::new(Sources {
                store: store.clone(),
                cache: cache.clone(),
                feed: feed.clone(),
                hashing: passwords.stats.clone(),
            }))
        });
        Ok(Self {
            passwords,
            login_throttle: LoginThrottle::new(config.login_throttle, store.clone()),
            access_tokens: Arc::new(AccessTokens::new(&config.jwt_secret, ttl)),
            successors: Arc::new(Successors::new(&config.jwt_secret)),
            polka_key: Arc::new(config.polka_key.clone()),
            platform: config.platform,
            visits: Arc::new(Visits::new(store.clone())),
            cache,
            feed,
            announcer: Announcer::spawn(store.clone()),
            metrics,
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            limiter: Arc::new(Limiter::new(config.rate_limits.clone(), store.clone())),
            store,
        })
    }
}
