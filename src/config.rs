//! Configuration from the environment (and `.env`), exactly the variables of the contract.

use std::{fmt, time::Duration};

use crate::auth::HashParams;

/// A value that must never be printed: `Debug` shows only that it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Local development: `/admin/reset` works and secrets have defaults.
    Dev,
    Prod,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: run a private PostgreSQL cluster under `.data/`.
    pub database_url: Option<Secret>,
    pub jwt_secret: Secret,
    pub polka_key: Secret,
    pub platform: Platform,
    pub host: String,
    pub port: u16,
    /// `ACCESS_TOKEN_TTL` seconds (default one hour); tests shorten it.
    pub access_token_ttl: Duration,
    pub hash_params: HashParams,
    pub max_body_bytes: usize,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be set (outside PLATFORM=dev)")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Adds the variables of `.env`, if there is one, to the environment; variables already
/// set win. Called before logging starts, so `RUST_LOG` may be set there too.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Err(err) if !err.not_found() => Err(ConfigError::Invalid {
            name: ".env",
            reason: err.to_string(),
        }),
        _ => Ok(()),
    }
}

pub const DEV_JWT_SECRET: &str = "chirpy-dev-jwt-secret-do-not-use-in-production";
pub const DEV_POLKA_KEY: &str = "chirpy-dev-polka-key";

impl Config {
    /// Reads the process environment (after [`load_dotenv`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Builds the configuration from any variable source; `from_env` passes the real one.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let either = |name, alias| var(name).or_else(|| var(alias));
        let database_url = either("DATABASE_URL", "DB_URL").map(Secret::new);
        // The embedded database exists for development, so without DATABASE_URL the
        // platform defaults to dev; a real deployment names its database and gets prod.
        let platform = match var("PLATFORM").as_deref() {
            Some("dev") => Platform::Dev,
            Some("prod") => Platform::Prod,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "PLATFORM",
                    reason: format!("{other:?} is not `dev` or `prod`"),
                });
            }
            None if database_url.is_none() => Platform::Dev,
            None => Platform::Prod,
        };
        let secret = |value: Option<String>, name, dev_default: &str| match (value, platform) {
            (Some(value), _) => Ok(Secret::new(value)),
            (None, Platform::Dev) => {
                tracing::warn!("{name} is not set: using the built-in dev value (PLATFORM=dev)");
                Ok(Secret::new(dev_default.to_owned()))
            }
            (None, Platform::Prod) => Err(ConfigError::Missing(name)),
        };
        let jwt_secret = secret(either("JWT_SECRET", "TOKEN_STRING"), "JWT_SECRET", DEV_JWT_SECRET)?;
        let polka_key = secret(var("POLKA_KEY"), "POLKA_KEY", DEV_POLKA_KEY)?;
        let port = match var("PORT") {
            None => 8080,
            Some(port) => port.parse().map_err(|_| ConfigError::Invalid {
                name: "PORT",
                reason: format!("{port:?} is not a port number"),
            })?,
        };
        // Not in the original contract: browser tests need tokens that expire in seconds.
        let access_token_ttl = match var("ACCESS_TOKEN_TTL") {
            None => Duration::from_secs(60 * 60),
            Some(secs) => match secs.parse::<u64>() {
                Ok(secs @ 1..=86_400) => Duration::from_secs(secs),
                _ => {
                    let reason = format!("{secs:?} is not a number of seconds from 1 to 86400");
                    return Err(ConfigError::Invalid {
                        name: "ACCESS_TOKEN_TTL",
                        reason,
                    });
                }
            },
        };
        Ok(Self {
            database_url,
            jwt_secret,
            polka_key,
            platform,
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port,
            access_token_ttl,
            hash_params: HashParams::default(),
            max_body_bytes: 64 * 1024,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn no_database_means_dev_with_defaults() {
        let config = config(&[]).unwrap();
        assert_eq!(config.platform, Platform::Dev);
        assert_eq!(config.database_url, None);
        assert_eq!(config.jwt_secret.expose(), DEV_JWT_SECRET);
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8080));
    }

    #[test]
    fn prod_requires_each_secret_by_name() {
        let url = ("DATABASE_URL", "postgres://db/chirpy");
        assert_eq!(config(&[url]).unwrap_err(), ConfigError::Missing("JWT_SECRET"));
        assert_eq!(
            config(&[url, ("JWT_SECRET", "s")]).unwrap_err(),
            ConfigError::Missing("POLKA_KEY")
        );
        assert!(config(&[url, ("JWT_SECRET", "s"), ("POLKA_KEY", "k")]).is_ok());
        let explicit = config(&[("PLATFORM", "prod"), ("POLKA_KEY", "k")]).unwrap_err();
        assert_eq!(explicit, ConfigError::Missing("JWT_SECRET"));
    }

    #[test]
    fn accepts_the_original_variable_names() {
        let config = config(&[("DB_URL", "postgres://db/x"), ("TOKEN_STRING", "t"), ("POLKA_KEY", "k")]).unwrap();
        assert_eq!(config.database_url.unwrap().expose(), "postgres://db/x");
        assert_eq!(config.jwt_secret.expose(), "t");
    }

    #[test]
    fn refuses_bad_values_by_name() {
        assert!(matches!(
            config(&[("PLATFORM", "staging")]),
            Err(ConfigError::Invalid { name: "PLATFORM", .. })
        ));
        assert!(matches!(
            config(&[("PORT", "eighty")]),
            Err(ConfigError::Invalid { name: "PORT", .. })
        ));
        for ttl in ["0", "-5", "1h", "86401"] {
            let refused = config(&[("ACCESS_TOKEN_TTL", ttl)]);
            assert!(
                matches!(
                    refused,
                    Err(ConfigError::Invalid {
                        name: "ACCESS_TOKEN_TTL",
                        ..
                    })
                ),
                "{ttl}"
            );
        }
    }

    #[test]
    fn access_tokens_live_an_hour_unless_configured() {
        assert_eq!(config(&[]).unwrap().access_token_ttl, Duration::from_secs(3600));
        assert_eq!(
            config(&[("ACCESS_TOKEN_TTL", "5")]).unwrap().access_token_ttl,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let config = config(&[
            ("JWT_SECRET", "jwt-value"),
            ("POLKA_KEY", "polka-value"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
        ])
        .unwrap();
        let shown = format!("{config:?}");
        for secret in ["jwt-value", "polka-value", "pw@h"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
