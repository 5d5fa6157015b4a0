use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version,
    password_hash::{self, PasswordHasher as _, SaltString, rand_core::OsRng},
};
use tokio::sync::{OnceCell, Semaphore};

use crate::{domain::Password, error::ApiError};

/// Argon2id cost. The default is OWASP's recommendation (19 MiB, 2 passes, 1 lane):
/// a few tens of milliseconds per hash, and bounded memory per concurrent login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords with Argon2id on the blocking pool, at most one per
/// core at a time, so a login storm queues here instead of starving other requests or
/// allocating Argon2's memory without bound.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// A hash to verify against when the email is unknown, so that case costs the same.
    dummy_hash: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    pub fn new(params: HashParams) -> Result<Self, password_hash::Error> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: Arc::default(),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        let argon2 = self.argon2.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
        })
        .await?
        .map_err(ApiError::internal)
    }

    /// Whether `password` matches `hash`, whatever parameters `hash` was made with.
    /// With no hash (unknown user) it verifies against a dummy and answers `false`,
    /// taking as long as a wrong password would.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, ApiError> {
        let known_user = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => self.dummy_hash().await?,
        };
        let matches = self
            .blocking(move || {
                let parsed = PasswordHash::new(&hash)?;
                match Argon2::default().verify_password(password.expose().as_bytes(), &parsed) {
                    Ok(()) => Ok(true),
                    Err(password_hash::Error::Password) => Ok(false),
                    Err(other) => Err(other),
                }
            })
            .await?
            .map_err(ApiError::internal)?;
        Ok(known_user && matches)
    }

    async fn dummy_hash(&self) -> Result<String, ApiError> {
        let dummy = Password::parse("chirpy dummy password".into()).expect("non-empty");
        self.dummy_hash.get_or_try_init(|| self.hash(dummy)).await.cloned()
    }

    async fn blocking<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(job).await.map_err(ApiError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(HashParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    fn pw(s: &str) -> Password {
        Password::parse(s.into()).unwrap()
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let hasher = cheap();
        let first = hasher.hash(pw("hunter2")).await.unwrap();
        let second = hasher.hash(pw("hunter2")).await.unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{first}");
        assert_ne!(first, second);
        assert!(hasher.verify(pw("hunter2"), Some(first.clone())).await.unwrap());
        assert!(!hasher.verify(pw("hunter3"), Some(first)).await.unwrap());
    }

    #[tokio::test]
    async fn verifies_hashes_made_with_other_parameters() {
        let stronger = PasswordHasher::new(HashParams {
            memory_kib: 2048,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        let hash = stronger.hash(pw("pa55")).await.unwrap();
        assert!(cheap().verify(pw("pa55"), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        assert!(!cheap().verify(pw("chirpy dummy password"), None).await.unwrap());
    }
}
