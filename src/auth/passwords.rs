use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::Instant,
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{self, Output, ParamsString, Salt, SaltString, rand_core::OsRng},
};
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::{OnceCell, oneshot};

use crate::{domain::Password, os};

/// Hashing failed: the hashing threads are gone, or a stored hash is malformed.
pub type HashError = Box<dyn std::error::Error + Send + Sync>;

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

/// Work for a hashing thread, given that thread's own Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords with Argon2id on threads of its own, one per core:
/// - a login storm queues here rather than on the async runtime;
/// - the threads run at idle priority, so requests that need a core get it first;
/// - each thread reuses its own working memory, so memory stays at one Argon2 block per
///   core however many logins arrive, and no hash pays for a fresh 19 MiB allocation.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    params: Params,
    /// A hash to verify against when the email is unknown, so that case costs the same.
    dummy_hash: Arc<OnceCell<String>>,
    pub stats: Arc<HashStats>,
}

/// What the metrics show of the hashing.
#[derive(Debug)]
pub struct HashStats {
    /// Hashes waiting for a thread.
    pub queued: AtomicUsize,
    /// Hashes skipped because their request was gone by their turn.
    pub abandoned: AtomicU64,
    /// Seconds each hash (or verification) took on its thread.
    pub seconds: Histogram,
}

impl Default for HashStats {
    fn default() -> Self {
        Self {
            queued: AtomicUsize::new(0),
            abandoned: AtomicU64::new(0),
            // From 5 ms (a cheap test setting) to 2.5 s (a machine far too busy).
            seconds: Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
        }
    }
}

impl PasswordHasher {
    /// Starts the hashing threads; they stop when the last clone of this is dropped.
    pub fn new(params: HashParams) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..thread::available_parallelism().map_or(1, |n| n.get()) {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || hashing_thread(&queue))?;
        }
        Ok(Self {
            jobs,
            params,
            dummy_hash: Arc::default(),
            stats: Arc::default(),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let params = self.params.clone();
        self.on_hashing_thread(move |memory| {
            let salt = SaltString::generate(&mut OsRng);
            let hash = compute(
                Algorithm::Argon2id,
                Version::V0x13,
                params,
                password.expose().as_bytes(),
                salt.as_salt(),
                memory,
            );
            hash.map(|hash| hash.to_string())
        })
        .await?
        .map_err(Into::into)
    }

    /// Whether `password` matches `hash`, whatever parameters `hash` was made with.
    /// With no hash (unknown user) it verifies against a dummy and answers `false`,
    /// taking as long as a wrong password would.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, HashError> {
        let known_user = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => self.dummy_hash().await?,
        };
        let matches = self
            .on_hashing_thread(move |memory| matches(&hash, password.expose().as_bytes(), memory))
            .await??;
        Ok(known_user && matches)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        let dummy = Password::parse("chirpy dummy password".into()).expect("non-empty");
        self.dummy_hash.get_or_try_init(|| self.hash(dummy)).await.cloned()
    }

    async fn on_hashing_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (answer, answered) = oneshot::channel();
        let stats = self.stats.clone();
        let job: Job = Box::new(move |memory| {
            stats.queued.fetch_sub(1, Ordering::Relaxed);
            // Its request is gone (timed out, or the client left): no one wants the hash.
            if answer.is_closed() {
                stats.abandoned.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let started = Instant::now();
            let outcome = work(memory);
            stats.seconds.observe(started.elapsed().as_secs_f64());
            let _ = answer.send(outcome);
        });
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        self.jobs.send(job).map_err(|_| {
            self.stats.queued.fetch_sub(1, Ordering::Relaxed);
            "the hashing threads have stopped"
        })?;
        Ok(answered.await.map_err(|_| "a hashing thread dropped its work")?)
    }
}

fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>) {
    os::lower_this_threads_priority();
    let mut memory = Vec::new();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            // Every sender is gone: the server is shutting down.
            Err(mpsc::RecvError) => return,
        }
    }
}

/// What the argon2 crate's `hash_password` does, but in `memory` (grown when needed and
/// reused afterwards) instead of a fresh allocation per hash.
fn compute<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
    memory: &mut Vec<Block>,
) -> password_hash::Result<PasswordHash<'a>> {
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut memory[..])?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// What the argon2 crate's `verify_password` does, in `memory`: recompute with the stored
/// hash's own algorithm, version, parameters and salt, and compare in constant time.
fn matches(stored: &str, password: &[u8], memory: &mut Vec<Block>) -> password_hash::Result<bool> {
    let stored = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return Err(password_hash::Error::PhcStringField);
    };
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = stored.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let params = Params::try_from(&stored)?;
    let computed = compute(algorithm, version, params, password, salt, memory)?;
    // Output's equality is constant-time.
    Ok(computed.hash == Some(expected))
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
    async fn verifies_hashes_made_by_the_argon2_crate_itself() {
        use argon2::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"interop", &salt).unwrap().to_string();
        assert!(cheap().verify(pw("interop"), Some(theirs.clone())).await.unwrap());
        assert!(!cheap().verify(pw("interoq"), Some(theirs)).await.unwrap());
        let ours = cheap().hash(pw("interop")).await.unwrap();
        use argon2::PasswordVerifier as _;
        assert!(
            Argon2::default()
                .verify_password(b"interop", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_match() {
        assert!(
            cheap()
                .verify(pw("x"), Some("$argon2id$v=19$garbage".into()))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_hash_whose_request_is_gone_is_skipped() {
        use futures_util::FutureExt;
        let hasher = PasswordHasher::new(HashParams {
            memory_kib: 8 * 1024,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        // Each queued, then dropped (a request that timed out or whose client left).
        for _ in 0..40 {
            assert!(hasher.hash(pw("abandoned")).now_or_never().is_none());
        }
        hasher.hash(pw("wanted")).await.unwrap();
        let abandoned = hasher.stats.abandoned.load(Ordering::Relaxed);
        // Only those a thread took up in the moment before they were dropped ran.
        assert!(abandoned >= 30, "{abandoned} of 40 skipped");
        assert_eq!(hasher.stats.queued.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        assert!(!cheap().verify(pw("chirpy dummy password"), None).await.unwrap());
    }
}
