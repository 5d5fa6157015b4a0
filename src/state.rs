use std::sync::Arc;

use crate::{
    auth::{AccessTokens, LoginThrottle, PasswordHasher},
    config::{Config, Platform, Secret},
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
    pub polka_key: Arc<Secret>,
    pub platform: Platform,
    /// Requests served under `/app/`, counted with every other instance's.
    pub visits: Arc<Visits>,
}

impl AppState {
    pub fn new(config: &Config, store: Store) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let ttl = chrono::Duration::from_std(config.access_token_ttl).unwrap_or(chrono::Duration::MAX);
        Ok(Self {
            passwords: PasswordHasher::new(config.hash_params)?,
            login_throttle: LoginThrottle::new(config.login_throttle, store.clone()),
            access_tokens: Arc::new(AccessTokens::new(&config.jwt_secret, ttl)),
            polka_key: Arc::new(config.polka_key.clone()),
            platform: config.platform,
            visits: Arc::new(Visits::new(store.clone())),
            store,
        })
    }
}
