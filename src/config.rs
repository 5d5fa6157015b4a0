//! Configuration from the environment (and `.env`), exactly the variables of the contract.

use std::time::Duration;

pub use crate::secret::Secret;
use crate::{
    auth::{HashParams, ThrottleSettings},
    cli::Launch,
    client_address::TrustedProxies,
    rate_limits::{Kind, Quota, RateLimitSettings},
    store::{PoolMode, PoolSettings},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Local development: `/admin/reset` works and secrets have defaults.
    Dev,
    Prod,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub jwt_secret: Secret,
    pub polka_key: Secret,
    pub platform: Platform,
    pub host: String,
    pub port: u16,
    /// `ACCESS_TOKEN_TTL` seconds (default one hour); tests shorten it.
    pub access_token_ttl: Duration,
    pub hash_params: HashParams,
    pub limits: Limits,
    pub login_throttle: ThrottleSettings,
    /// `CHIRP_CACHE_MIB` (96): the chirp cache's size; 0 turns it off.
    pub chirp_cache_mib: u64,
    /// `MAX_EVENT_STREAMS` (1000): live feeds open at once; more get 503.
    pub max_event_streams: usize,
    /// `STREAM_HEARTBEAT_SECS` (15): how often a quiet live feed gets a comment line.
    pub stream_heartbeat: Duration,
    /// `CORS_ALLOWED_ORIGINS`: browser origins (`https://app.example.com`) that may call
    /// the API from their pages; none by default.
    pub cors_allowed_origins: Vec<String>,
    /// `STATIC_DIR`: serve the web app from this directory instead of the copy built into
    /// the binary (for working on it without rebuilding).
    pub static_dir: Option<std::path::PathBuf>,
    /// `METRICS_ADDR` (`127.0.0.1:9464`): where Prometheus scrapes `/metrics`, a listener
    /// apart from the API's; no metrics when unset.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `TRUSTED_PROXIES`: load balancers whose `X-Forwarded-For` names the client for the
    /// per-address login limit; none by default (the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// `RATE_LIMITS` (`on`) and each `RATE_LIMIT_<KIND>` quota (`N/S`).
    pub rate_limits: RateLimitSettings,
}

/// Bounds on what one request may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `MAX_BODY_BYTES` (64 KiB): larger bodies get 413.
    pub max_body_bytes: usize,
    /// `MAX_HEADER_BYTES` (16 KiB): more header bytes get 431.
    pub max_header_bytes: usize,
    /// `REQUEST_TIMEOUT_SECS` (30): a request still running then gets 503.
    pub request_timeout: Duration,
    /// `HEADER_TIMEOUT_SECS` (30): how long a connection may take to send a request's
    /// headers (a new one's first byte, or a kept-alive one's next request, included).
    pub header_timeout: Duration,
    /// `WRITE_TIMEOUT_SECS` (30): how long a response may wait for a client that reads
    /// nothing before the connection is closed.
    pub write_timeout: Duration,
    /// `MAX_CONNECTIONS` (0: as many as the open-file limit leaves room for).
    pub max_connections: usize,
}

/// Where the database is and how to reach it.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `DATABASE_URL`; `None`: run a private PostgreSQL cluster under `.data/`.
    pub url: Option<Secret>,
    /// `DATABASE_DIRECT_URL`: for what needs a session (migrations, LISTEN); default `url`.
    pub direct_url: Option<Secret>,
    /// `DATABASE_REPLICA_URL`: where chirps are read from, when set.
    pub replica_url: Option<Secret>,
    /// `DATABASE_POOL_MODE`: `session` (default) or `transaction` (behind PgBouncer).
    pub mode: PoolMode,
    /// `DB_MAX_CONNECTIONS` (10) and `DB_ACQUIRE_TIMEOUT_MS` (2000).
    pub pool: PoolSettings,
    /// `DB_REPLICA_MAX_LAG_MS` (5000): a replica further behind is not read from.
    pub replica_max_lag: Duration,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be set (outside PLATFORM=dev)")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "refusing to serve PLATFORM=dev on HOST={0}: the network could reach /admin/reset and the published \
         dev secrets. Set PLATFORM=prod with JWT_SECRET and POLKA_KEY, or HOST=127.0.0.1, or \
         ALLOW_DEV_ON_NETWORK=true to accept that"
    )]
    DevOnNetwork(String),
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

/// Reads an integer setting within `range`, or `default` when unset.
fn number(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(text) = var(name) else { return Ok(default) };
    match text.trim().parse::<u64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

/// An environment variable; empty counts as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every variable that names a database, all of which a throwaway database replaces.
const DATABASE_VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DB_URL",
    "DATABASE_DIRECT_URL",
    "DATABASE_REPLICA_URL",
    "DATABASE_POOL_MODE",
];

/// Whether `host` can only be reached from this machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated origins, each a scheme, a host and maybe a
/// port, exactly as browsers send `Origin` (no path, no trailing slash).
fn origins(list: &str) -> Result<Vec<String>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let (scheme, rest) = origin.split_once("://").unwrap_or(("", origin));
            let host_ok = !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '*']);
            if matches!(scheme, "http" | "https") && host_ok {
                Ok(origin.to_owned())
            } else {
                Err(ConfigError::Invalid {
                    name: "CORS_ALLOWED_ORIGINS",
                    reason: format!("{origin:?} is not an origin like https://app.example.com"),
                })
            }
        })
        .collect()
}

pub const DEV_JWT_SECRET: &str = "chirpy-dev-jwt-secret-do-not-use-in-production";
pub const DEV_POLKA_KEY: &str = "chirpy-dev-polka-key";

impl Config {
    /// Reads the process environment (after [`load_dotenv`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_var)
    }

    /// The environment as `launch` sees it: with `--throwaway-db`, without the database URLs.
    pub fn from_env_for(launch: &Launch) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| {
            let hidden = launch.throwaway_db && DATABASE_VARIABLES.contains(&name);
            if hidden { None } else { env_var(name) }
        })
    }

    /// Builds the configuration from any variable source; `from_env` passes the real one.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let either = |name, alias| var(name).or_else(|| var(alias));
        let database_url = either("DATABASE_URL", "DB_URL").map(Secret::new);
        for other in ["DATABASE_DIRECT_URL", "DATABASE_REPLICA_URL"] {
            if database_url.is_none() && var(other).is_some() {
                return Err(ConfigError::Invalid {
                    name: other,
                    reason: "it needs DATABASE_URL too (without it Chirpy runs its own database)".into(),
                });
            }
        }
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
        if platform == Platform::Prod && jwt_secret.expose().len() < 32 {
            // Not refused, so an existing deployment keeps running; but HS256 wants 256 bits.
            tracing::warn!("JWT_SECRET is shorter than 32 bytes: generate one with `openssl rand -hex 32`");
        }
        let polka_key = secret(var("POLKA_KEY"), "POLKA_KEY", DEV_POLKA_KEY)?;
        let number = |name, default, range| number(&var, name, default, range);
        let port = number("PORT", 8080, 0..=65535)? as u16;
        let secs = |name, default, range| number(name, default, range).map(Duration::from_secs);
        let millis = |name, default, range| number(name, default, range).map(Duration::from_millis);
        let limits = Limits {
            max_body_bytes: number("MAX_BODY_BYTES", 64 * 1024, 1..=16 * 1024 * 1024)? as usize,
            max_header_bytes: number("MAX_HEADER_BYTES", 16 * 1024, 1024..=1024 * 1024)? as usize,
            request_timeout: secs("REQUEST_TIMEOUT_SECS", 30, 1..=3600)?,
            header_timeout: secs("HEADER_TIMEOUT_SECS", 30, 1..=300)?,
            write_timeout: secs("WRITE_TIMEOUT_SECS", 30, 1..=3600)?,
            max_connections: number("MAX_CONNECTIONS", 0, 0..=10_000_000)? as usize,
        };
        let mode = match var("DATABASE_POOL_MODE").as_deref() {
            None | Some("session") => PoolMode::Session,
            Some("transaction") => PoolMode::Transaction,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "DATABASE_POOL_MODE",
                    reason: format!("{other:?} is not `session` or `transaction`"),
                });
            }
        };
        let direct_url = var("DATABASE_DIRECT_URL").map(Secret::new);
        if mode == PoolMode::Transaction && direct_url.is_none() {
            // Migrations' advisory lock and LISTEN would silently misbehave through the pooler.
            return Err(ConfigError::Invalid {
                name: "DATABASE_DIRECT_URL",
                reason: "must be set with DATABASE_POOL_MODE=transaction: migrations and LISTEN need a session \
                         of their own, which a transaction-mode pooler does not give"
                    .into(),
            });
        }
        let database = DatabaseConfig {
            url: database_url,
            direct_url,
            replica_url: var("DATABASE_REPLICA_URL").map(Secret::new),
            mode,
            pool: PoolSettings {
                max_connections: number("DB_MAX_CONNECTIONS", 10, 1..=1000)? as u32,
                acquire_timeout: millis("DB_ACQUIRE_TIMEOUT_MS", 2000, 10..=60_000)?,
            },
            replica_max_lag: millis("DB_REPLICA_MAX_LAG_MS", 5000, 0..=3_600_000)?,
        };
        let login_throttle = ThrottleSettings {
            max_failures_per_email: number("LOGIN_MAX_FAILURES_PER_EMAIL", 5, 1..=10_000)? as u32,
            max_failures_per_address: number("LOGIN_MAX_FAILURES_PER_ADDRESS", 50, 1..=100_000)? as u32,
            window: secs("LOGIN_FAILURE_WINDOW_SECS", 15 * 60, 1..=86_400)?,
        };
        let defaults = HashParams::default();
        let hash_params = HashParams {
            memory_kib: number("ARGON2_MEMORY_KIB", defaults.memory_kib.into(), 8..=4 * 1024 * 1024)? as u32,
            iterations: number("ARGON2_ITERATIONS", defaults.iterations.into(), 1..=100)? as u32,
            parallelism: number("ARGON2_PARALLELISM", defaults.parallelism.into(), 1..=64)? as u32,
        };
        // Not in the original contract: browser tests need tokens that expire in seconds.
        let access_token_ttl = secs("ACCESS_TOKEN_TTL", 60 * 60, 1..=86_400)?;
        let cors_allowed_origins = var("CORS_ALLOWED_ORIGINS")
            .map(|list| origins(&list))
            .transpose()?
            .unwrap_or_default();
        let metrics_addr = var("METRICS_ADDR")
            .map(|addr| {
                addr.parse().map_err(|_| ConfigError::Invalid {
                    name: "METRICS_ADDR",
                    reason: format!("{addr:?} is not an IP address and port, such as 127.0.0.1:9464"),
                })
            })
            .transpose()?;
        let trusted_proxies = TrustedProxies::parse(&var("TRUSTED_PROXIES").unwrap_or_default()).map_err(|reason| {
            ConfigError::Invalid {
                name: "TRUSTED_PROXIES",
                reason,
            }
        })?;
        let rate_limits = RateLimitSettings {
            on: match var("RATE_LIMITS").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "RATE_LIMITS",
                        reason: format!("{other:?} is not `on` or `off`"),
                    });
                }
            },
            quotas: Kind::ALL
                .into_iter()
                .map(|kind| {
                    match var(kind.variable()) {
                    None => Ok((kind, kind.default_quota())),
                    Some(text) => Quota::parse(&text).map(|quota| (kind, quota)).ok_or(ConfigError::Invalid {
                        name: kind.variable(),
                        reason: format!(
                            "{text:?} is not requests per seconds, such as 300/300 (at least 1 per 1 to 86400 seconds)"
                        ),
                    }),
                }
                })
                .collect::<Result<_, _>>()?,
        };
        let host = var("HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
        if platform == Platform::Dev && !is_loopback(&host) && var("ALLOW_DEV_ON_NETWORK").as_deref() != Some("true") {
            return Err(ConfigError::DevOnNetwork(host));
        }
        Ok(Self {
            database,
            jwt_secret,
            polka_key,
            platform,
            host,
            port,
            access_token_ttl,
            hash_params,
            limits,
            login_throttle,
            chirp_cache_mib: number("CHIRP_CACHE_MIB", 96, 0..=64 * 1024)?,
            max_event_streams: number("MAX_EVENT_STREAMS", 1000, 1..=100_000)? as usize,
            stream_heartbeat: secs("STREAM_HEARTBEAT_SECS", 15, 1..=300)?,
            cors_allowed_origins,
            rate_limits,
            static_dir: var("STATIC_DIR").map(Into::into),
            metrics_addr,
            trusted_proxies,
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
        assert!(config.database.url.is_none());
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
        assert_eq!(config.database.url.unwrap().expose(), "postgres://db/x");
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
    fn database_settings_are_checked_by_name() {
        let url = ("DATABASE_URL", "postgres://db/chirpy");
        let refused = |vars: &[(&str, &str)], name: &str| match config(vars) {
            Err(ConfigError::Invalid { name: refused, .. }) => assert_eq!(refused, name, "{vars:?}"),
            other => panic!("{vars:?} should be refused: {other:?}"),
        };
        refused(
            &[("DATABASE_REPLICA_URL", "postgres://replica/chirpy")],
            "DATABASE_REPLICA_URL",
        );
        refused(
            &[("DATABASE_DIRECT_URL", "postgres://db/chirpy")],
            "DATABASE_DIRECT_URL",
        );
        let dev = ("PLATFORM", "dev");
        refused(&[url, dev, ("DATABASE_POOL_MODE", "statement")], "DATABASE_POOL_MODE");
        refused(
            &[url, dev, ("DATABASE_POOL_MODE", "transaction")],
            "DATABASE_DIRECT_URL",
        );
        let pooled = config(&[
            url,
            ("DATABASE_POOL_MODE", "transaction"),
            ("DATABASE_DIRECT_URL", "postgres://db:5432/chirpy"),
            ("DATABASE_REPLICA_URL", "postgres://replica/chirpy"),
            ("DB_REPLICA_MAX_LAG_MS", "250"),
            ("JWT_SECRET", "s"),
            ("POLKA_KEY", "k"),
        ])
        .unwrap()
        .database;
        assert_eq!(pooled.mode, PoolMode::Transaction);
        assert_eq!(pooled.direct_url.unwrap().expose(), "postgres://db:5432/chirpy");
        assert_eq!(pooled.replica_url.unwrap().expose(), "postgres://replica/chirpy");
        assert_eq!(pooled.replica_max_lag, Duration::from_millis(250));
    }

    #[test]
    fn cors_origins_are_a_checked_list() {
        let origins = config(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:5173,",
        )])
        .unwrap()
        .cors_allowed_origins;
        assert_eq!(origins, ["https://app.example.com", "http://localhost:5173"]);
        assert!(config(&[]).unwrap().cors_allowed_origins.is_empty());
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "*",
            "ftp://x",
            "https://",
        ] {
            assert!(
                matches!(
                    config(&[("CORS_ALLOWED_ORIGINS", bad)]),
                    Err(ConfigError::Invalid {
                        name: "CORS_ALLOWED_ORIGINS",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn dev_defaults_never_face_a_network_unless_asked() {
        for host in ["0.0.0.0", "::", "192.168.1.10", "chirpy.example.com"] {
            assert_eq!(
                config(&[("HOST", host)]).unwrap_err(),
                ConfigError::DevOnNetwork(host.to_owned()),
                "{host}"
            );
            assert!(config(&[("HOST", host), ("ALLOW_DEV_ON_NETWORK", "true")]).is_ok());
            let prod = [
                ("HOST", host),
                ("PLATFORM", "prod"),
                ("JWT_SECRET", "s"),
                ("POLKA_KEY", "k"),
            ];
            assert!(config(&prod).is_ok(), "{host} in prod");
        }
        for host in ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"] {
            assert!(config(&[("HOST", host)]).is_ok(), "{host}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_and_networks() {
        assert_eq!(config(&[]).unwrap().trusted_proxies, TrustedProxies::default());
        let set = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).unwrap();
        assert_eq!(
            set.trusted_proxies,
            TrustedProxies::parse("10.0.0.0/8,127.0.0.1").unwrap()
        );
        let err = config(&[("TRUSTED_PROXIES", "10.0.0.0/40")]).unwrap_err().to_string();
        assert!(err.contains("TRUSTED_PROXIES") && err.contains("10.0.0.0/40"), "{err}");
    }

    #[test]
    fn metrics_addr_is_an_ip_and_port_or_unset() {
        assert_eq!(config(&[]).unwrap().metrics_addr, None);
        let set = config(&[("METRICS_ADDR", "127.0.0.1:9464")]).unwrap();
        assert_eq!(set.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        for bad in ["9464", "localhost:9464", "127.0.0.1", "127.0.0.1:99999"] {
            let err = config(&[("METRICS_ADDR", bad)]).unwrap_err().to_string();
            assert!(err.contains("METRICS_ADDR"), "{bad}: {err}");
        }
    }

    /// Every variable the configuration reads, defaults and all.
    fn variables_read() -> std::collections::BTreeSet<String> {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        Config::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            None
        })
        .unwrap();
        asked.into_inner()
    }

    /// `.env.example` is where a newcomer learns the settings: it names every one.
    #[test]
    fn the_example_env_file_lists_every_variable() {
        let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
        let missing: Vec<String> = variables_read()
            .into_iter()
            .filter(|name| !example.contains(&format!("{name}=")))
            .collect();
        assert!(missing.is_empty(), ".env.example does not mention {missing:?}");
    }

    /// `docs/configuration.md` is the settings' reference: it names every one, as `NAME`.
    #[test]
    fn the_configuration_page_lists_every_variable() {
        let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md")).unwrap();
        let missing: Vec<String> = variables_read()
            .into_iter()
            .filter(|name| !page.contains(&format!("`{name}`")))
            .collect();
        assert!(missing.is_empty(), "docs/configuration.md does not mention {missing:?}");
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
