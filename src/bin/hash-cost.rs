//! Prints what one Argon2id password hash costs on this machine with the server's
//! parameters (ARGON2_* from the environment, else the defaults) and, like the server's
//! hashing threads, in reused memory: the login ceiling in `just bench` is
//! cores / seconds per hash.
//! Usage: hash-cost [HASHES]

use std::time::Instant;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use chirpy::config::Config;

fn main() {
    let hashes: u32 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20);
    let config = Config::from_lookup(|name| std::env::var(name).ok()).unwrap_or_else(|err| {
        eprintln!("{err}");
        std::process::exit(2);
    });
    let p = config.hash_params;
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None).expect("valid Argon2 parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let (salt, mut out) = (b"hash-cost-salt!!", [0u8; 32]);
    let mut memory = vec![Block::default(); argon2.params().block_count()];
    let mut hash = |password: &[u8]| {
        argon2
            .hash_password_into_with_memory(password, salt, &mut out, &mut memory)
            .expect("hashing");
    };
    hash(b"warm-up");
    let started = Instant::now();
    for n in 0..hashes {
        hash(format!("password {n}").as_bytes());
    }
    let per_hash = started.elapsed().as_secs_f64() / f64::from(hashes);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "argon2id m={} t={} p={}: {:.2} ms per hash on one core; ceiling {:.1} logins/s on {cores} cores",
        p.memory_kib,
        p.iterations,
        p.parallelism,
        per_hash * 1e3,
        cores as f64 / per_hash
    );
}
