//! Structured logs on stderr, filtered by `RUST_LOG` (default: `info`).
//! Requests are logged as a span with method, URI and status; headers (and so tokens) never are.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, never into files or pipes.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
