//! Assembling the app: routes, middleware, and the server that runs them.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use poem::{
    Endpoint, EndpointExt, IntoResponse, Route,
    endpoint::StaticFilesEndpoint,
    http::uri::Scheme,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
    middleware::Tracing,
    web::{LocalAddr, Redirect, RemoteAddr},
};
use tokio::net::TcpStream;

use crate::{
    allowed_methods::AllowedMethods,
    api,
    config::{Config, Limits},
    middleware::{CorsForListedOrigins, json_errors, limit_body, limit_headers, nosniff, time_limit, web_app_headers},
    state::AppState,
};

/// In-flight requests get this long to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Keep-alive connections with nothing to say are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Every route: the API, its spec and Swagger UI, and the web app under `/app/`.
/// From the outside in: a log span, security headers, JSON errors, then the limits.
pub fn app(state: AppState, limits: Limits, cors_origins: &[String]) -> impl Endpoint + use<> {
    let api = api::service();
    let spec: serde_json::Value = serde_json::from_str(&api.spec()).expect("poem-openapi writes valid JSON");
    let allowed = Arc::new(AllowedMethods::from_spec(&spec));
    let visits = state.visits.clone();
    let web_app = StaticFilesEndpoint::new(static_dir())
        .index_file("index.html")
        .before(move |req| {
            visits.count();
            async move { Ok(req) }
        })
        .with(web_app_headers())
        .around(|ep, req| async move {
            // Relative links in the page only resolve from the directory form of the URL.
            if req.original_uri().path() == "/app" {
                return Ok(Redirect::permanent("/app/").into_response());
            }
            ep.call(req).await.map(IntoResponse::into_response)
        });
    Route::new()
        .at("/openapi.json", api.spec_endpoint())
        .at("/openapi.yaml", api.spec_endpoint_yaml())
        .nest("/docs", api.swagger_ui())
        .nest("/app", web_app)
        .nest("/", api)
        .around(move |ep, req| limit_body(ep, req, limits.max_body_bytes))
        .around(move |ep, req| time_limit(ep, req, limits.request_timeout))
        .around(move |ep, req| limit_headers(ep, req, limits.max_header_bytes))
        .around(move |ep, req| {
            let allowed = allowed.clone();
            async move { json_errors(ep, req, &allowed).await }
        })
        .with(CorsForListedOrigins::new(cors_origins))
        .with(nosniff())
        .data(state)
        .with(Tracing)
}

/// `static/` in the working directory, else the one in the source tree (for a binary run
/// from elsewhere during development).
fn static_dir() -> PathBuf {
    let local = Path::new("static");
    if local.is_dir() {
        local.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("static")
    }
}

/// Accepts TCP connections with Nagle's algorithm off. With it on, the last small write of
/// a response (the end of a chunked body) waited for the client's delayed ACK: 40 ms per
/// request, measured in `just bench`.
struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(TcpStream, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, local, remote, scheme) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok((stream, local, remote, scheme))
    }
}

/// A bound listener and the app it will serve.
pub struct Server {
    acceptor: NoDelay,
    state: AppState,
    limits: Limits,
    cors_origins: Vec<String>,
}

impl Server {
    pub async fn bind(addr: impl Into<String>, state: AppState, config: &Config) -> io::Result<Self> {
        let acceptor = NoDelay(TcpListener::bind(addr.into()).into_acceptor().await?);
        Ok(Self {
            acceptor,
            state,
            limits: config.limits,
            cors_origins: config.cors_allowed_origins.clone(),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
    }

    /// Serves until `shutdown` completes, then stops accepting and lets in-flight
    /// requests finish (for at most [`SHUTDOWN_GRACE`]).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> io::Result<()> {
        poem::Server::new_with_acceptor(self.acceptor)
            .idle_timeout(IDLE_TIMEOUT)
            .run_with_graceful_shutdown(
                app(self.state, self.limits, &self.cors_origins),
                shutdown,
                Some(SHUTDOWN_GRACE),
            )
            .await
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let sigterm = async {
        match terminate.as_mut() {
            Some(term) => drop(term.recv().await),
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = sigterm => {}
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
