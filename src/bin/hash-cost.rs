//! Prints what one Argon2id password hash costs on this machine with the server's own
//! code and parameters (ARGON2_* from the environment, else the defaults), for the
//! login ceiling in `just bench`: logins/s <= cores / seconds per hash.
//! Usage: hash-cost [HASHES]

use std::time::Instant;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version, password_hash::SaltString};
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
    let salt = SaltString::encode_b64(b"hash-cost-salt!!").expect("a valid salt");
    argon2.hash_password(b"warm-up", &salt).expect("hashing");
    let started = Instant::now();
    for n in 0..hashes {
        argon2
            .hash_password(format!("password {n}").as_bytes(), &salt)
            .expect("hashing");
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
