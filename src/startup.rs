//! Assembling the app: routes, middleware, and the server that runs them.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use futures_util::FutureExt;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler, http::header, web::Redirect};

use crate::{
    api,
    config::{Config, Limits},
    metrics::{self, Metrics},
    middleware::{CorsForListedOrigins, json_errors, limit_body, limit_headers, nosniff, time_limit, web_app_headers},
    observe::observe,
    rate_limits, server,
    spec_rules::SpecRules,
    state::AppState,
    web_app::{Files, WebApp},
};

/// Every route: the API, its spec and Swagger UI, and the web app under `/app/`.
/// From the outside in: the request id, log span and metrics; CORS and security headers;
/// JSON errors; then the limits.
pub fn app(state: AppState, limits: Limits, cors_origins: &[String], files: Files) -> impl Endpoint + use<> {
    let api = api::service();
    let spec: serde_json::Value = serde_json::from_str(&api.spec()).expect("poem-openapi writes valid JSON");
    let rules = Arc::new(SpecRules::from_spec(&spec));
    let web_app = WebApp::new(files, state.visits.clone())
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
        .around({
            let rules = rules.clone();
            move |ep, req| {
                let rules = rules.clone();
                async move { limit_body(ep, req, limits.max_body_bytes, &rules).await }
            }
        })
        .around(move |ep, req| time_limit(ep, req, limits.request_timeout))
        .around(move |ep, req| limit_headers(ep, req, limits.max_header_bytes))
        .around({
            let (limiter, proxies) = (state.limiter.clone(), state.trusted_proxies.clone());
            move |ep, req| {
                let (limiter, proxies) = (limiter.clone(), proxies.clone());
                async move { rate_limits::around(ep, req, &limiter, &proxies).await }
            }
        })
        .around(move |ep, req| {
            let rules = rules.clone();
            async move { json_errors(ep, req, &rules).await }
        })
        .with(CorsForListedOrigins::new(cors_origins))
        .with(nosniff())
        .data(state.clone())
        .around(move |ep, req| {
            let (metrics, proxies) = (state.metrics.clone(), state.trusted_proxies.clone());
            async move { observe(ep, req, metrics.as_deref(), &proxies).await }
        })
}

/// `GET /metrics`, the only route on the metrics listener.
fn metrics_app(metrics: Arc<Metrics>) -> impl Endpoint + use<> {
    #[handler]
    fn scrape(metrics: poem::web::Data<&Arc<Metrics>>) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, metrics::CONTENT_TYPE)
            .body(metrics.render())
    }
    Route::new().at("/metrics", get(scrape)).data(metrics)
}

/// Connections Prometheus (or a curious operator) may hold open on the metrics listener.
const METRICS_MAX_CONNECTIONS: usize = 64;
const METRICS_TIMEOUT: Duration = Duration::from_secs(10);

/// The app, on a bound listener; and the metrics, on theirs if `METRICS_ADDR` is set.
pub struct Server {
    api: server::Server,
    metrics: Option<server::Server>,
}

impl Server {
    pub async fn bind(addr: impl Into<String>, state: AppState, config: &Config) -> io::Result<Self> {
        let limits = config.limits;
        let files = match &config.static_dir {
            Some(dir) => {
                Files::dir(dir).map_err(|err| io::Error::other(format!("STATIC_DIR {}: {err}", dir.display())))?
            }
            None => Files::embedded(),
        };
        let metrics = match (config.metrics_addr, &state.metrics) {
            (Some(addr), Some(metrics)) => {
                let app = metrics_app(metrics.clone());
                let bound = server::Server::bind(
                    &addr.to_string(),
                    app,
                    METRICS_MAX_CONNECTIONS,
                    METRICS_TIMEOUT,
                    METRICS_TIMEOUT,
                )
                .await
                .map_err(|err| io::Error::new(err.kind(), format!("METRICS_ADDR {addr}: {err}")))?;
                Some(bound)
            }
            _ => None,
        };
        let counted = state.metrics.clone();
        let app = app(state, limits, &config.cors_allowed_origins, files);
        let api = server::Server::bind(
            &addr.into(),
            app,
            limits.max_connections,
            limits.header_timeout,
            limits.write_timeout,
        )
        .await?;
        if let Some(counted) = counted {
            counted.count_connections(api.connections());
        }
        Ok(Self { api, metrics })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.api.local_addr()
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(server::Server::local_addr)
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let shutdown = shutdown.boxed().shared();
        match self.metrics {
            Some(metrics) => {
                let (api, metrics) = tokio::join!(self.api.run_until(shutdown.clone()), metrics.run_until(shutdown));
                api.and(metrics)
            }
            None => self.api.run_until(shutdown).await,
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. Both are caught from the moment this is
/// called, so a signal that arrives before the future is awaited still counts (a harness
/// may stop the server as soon as its ready file appears).
pub fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutdown signal received: finishing in-flight requests");
    })
}
