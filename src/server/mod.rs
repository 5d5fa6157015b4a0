//! The HTTP server: accepts connections and serves the app on each with hyper (HTTP/1.1,
//! and HTTP/2 over cleartext with prior knowledge, for proxies that speak it). Driven here
//! rather than by poem's server because that one has no deadline for a request's headers,
//! no cap on connections, and retries a failing `accept()` at once, forever: a flood of
//! slow-header clients exhausted the file limit, spun a core and locked everyone out.
//!
//! Here: a deadline for every request's headers (and a new connection's first byte), a
//! cap below the file limit with the longest-waiting connection making room for a
//! newcomer (see `connections`), stuck writes closed, accept errors backed off and logged,
//! and freed memory handed back once a flood has gone.

pub mod connections;
mod io;

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use http_body::{Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use poem::{
    Endpoint, EndpointExt,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub use connections::ConnectionLimits;
use connections::{Admission, Connection, Registry};

use crate::os;

/// In-flight requests get this long to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Connections are checked for overdue headers and stuck writes this often, at least.
const SWEEP_EVERY: Duration = Duration::from_millis(500);
/// File descriptors kept for everything but client connections: the database pools, the
/// listener, files.
const RESERVED_FILES: u64 = 128;
/// Once this many connections have closed since memory was last handed back, it is again.
const TRIM_AFTER_CLOSED: usize = 512;

type AppBody = BoxBody<bytes::Bytes, std::io::Error>;
type App = Arc<poem::endpoint::BoxEndpoint<'static, poem::Response>>;

/// A bound listener and the app it will serve.
pub struct Server {
    listener: TcpListener,
    app: App,
    registry: Arc<Registry>,
}

impl Server {
    /// Binds `addr`. The soft file limit is raised to the hard one first (as Go servers
    /// do), and `max_connections` (0: as many as the file limit leaves room for) is capped
    /// below it, so accepting can never run out of files.
    pub async fn bind(
        addr: &str,
        app: impl Endpoint + 'static,
        max_connections: usize,
        header_timeout: Duration,
        write_timeout: Duration,
    ) -> std::io::Result<Self> {
        let files = os::raise_file_limit();
        let room = files.saturating_sub(RESERVED_FILES).max(1) as usize;
        let max = if max_connections == 0 {
            room
        } else {
            max_connections.min(room)
        };
        tracing::debug!(files, max_connections = max, "connection cap");
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            app: Arc::new(app.map_to_response().boxed()),
            registry: Registry::new(ConnectionLimits {
                max,
                header_timeout,
                write_timeout,
            }),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.registry.limits()
    }

    /// The connections it has open (none until it runs).
    pub fn connections(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests
    /// finish (for at most [`SHUTDOWN_GRACE`]) and closes what is left.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let local = self
            .local_addr()
            .ok_or_else(|| std::io::Error::other("no local address"))?;
        let registry = self.registry.clone();
        let stopping = CancellationToken::new();
        let sweeper = tokio::spawn(sweep(registry.clone()));
        let mut backoff = AcceptBackoff::default();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, remote) = match accepted {
                Ok(accepted) => {
                    backoff.succeeded();
                    accepted
                }
                Err(err) => {
                    backoff.failed(&err).await;
                    continue;
                }
            };
            let conn = match registry.admit() {
                Admission::Admitted(conn) => conn,
                // Every connection is answering a request: the newcomer must wait its turn.
                Admission::Refused => continue,
            };
            let _ = stream.set_nodelay(true);
            let task = serve(stream, local, remote, conn.clone(), self.app.clone(), stopping.clone());
            let registry = registry.clone();
            tokio::spawn(async move {
                task.await;
                registry.remove(&conn);
            });
        }
        drop(self.listener);
        stopping.cancel();
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while !registry.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        registry.close_all();
        sweeper.abort();
        Ok(())
    }
}

/// One connection, until it ends, is closed, or the server stops (then gracefully).
async fn serve(
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    conn: Arc<Connection>,
    app: App,
    stopping: CancellationToken,
) {
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let (app, conn) = (app.clone(), conn.clone());
            async move {
                conn.request_started();
                let req = poem::Request::from((req, LocalAddr(local.into()), RemoteAddr(remote.into()), Scheme::HTTP));
                let resp: hyper::Response<AppBody> = app.get_response(req).await.into();
                // The request counts as answered once the whole body is sent (or dropped).
                Ok::<_, Infallible>(resp.map(|body| Answered::new(body, conn)))
            }
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // The registry enforces it, for every protocol and the first byte too.
        .header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(Some(100));
    let io = TokioIo::new(io::Io::new(stream, conn.clone()));
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = conn.closed.cancelled() => return,
        () = stopping.cancelled() => {}
    }
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        _ = connection => {}
        () = conn.closed.cancelled() => {}
    }
}

/// A response body that marks its request answered when it is done or dropped.
struct Answered {
    body: AppBody,
    conn: Option<Arc<Connection>>,
}

impl Answered {
    fn new(body: AppBody, conn: Arc<Connection>) -> Self {
        Self { body, conn: Some(conn) }
    }

    fn finish(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.request_finished();
        }
    }
}

impl Drop for Answered {
    fn drop(&mut self) {
        self.finish();
    }
}

impl http_body::Body for Answered {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        if let std::task::Poll::Ready(None) = polled {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Closes overdue connections, and hands freed memory back after a wave of closes: once
/// the open connections have fallen well below their peak and stayed there for a couple of
/// sweeps (the closed ones' tasks must have let go of their buffers first).
async fn sweep(registry: Arc<Registry>) {
    let limits = registry.limits();
    let every = SWEEP_EVERY
        .min(limits.header_timeout / 4)
        .max(Duration::from_millis(50));
    let mut peak = 0;
    let mut quiet_sweeps = 0;
    loop {
        tokio::time::sleep(every).await;
        let overdue = registry.sweep();
        if overdue > 0 {
            tracing::debug!(overdue, "closed connections that waited or were stuck too long");
        }
        let open = registry.len();
        peak = peak.max(open);
        // Counting the sweeps since the last close of the wave, not the first.
        quiet_sweeps = if overdue == 0 { quiet_sweeps + 1 } else { 0 };
        if peak - open >= TRIM_AFTER_CLOSED && quiet_sweeps >= TRIM_AFTER_SWEEPS {
            tracing::debug!(
                peak,
                open,
                "handing freed memory back after a wave of closed connections"
            );
            os::release_free_memory();
            peak = open;
        }
    }
}

/// Quiet sweeps to wait after a wave of closes before handing memory back.
const TRIM_AFTER_SWEEPS: u32 = 2;

/// Waits before accepting again after `accept()` failed (out of files, say), longer each
/// time it fails again, and logs it at most every ten seconds.
#[derive(Default)]
struct AcceptBackoff {
    failures: u32,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptBackoff {
    const LOG_EVERY: Duration = Duration::from_secs(10);
    const LONGEST: Duration = Duration::from_secs(1);

    fn succeeded(&mut self) {
        self.failures = 0;
    }

    async fn failed(&mut self, err: &std::io::Error) {
        self.failures = self.failures.saturating_add(1);
        self.unlogged += 1;
        if self.last_logged.is_none_or(|at| at.elapsed() >= Self::LOG_EVERY) {
            tracing::error!(error = %err, failures = self.unlogged, "accepting connections failed; backing off");
            self.last_logged = Some(Instant::now());
            self.unlogged = 0;
        }
        let wait = Duration::from_millis(1) * 2u32.saturating_pow(self.failures.min(10));
        tokio::time::sleep(wait.min(Self::LONGEST)).await;
    }
}
