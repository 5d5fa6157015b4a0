//! Prometheus metrics (the `prometheus-client` crate), served at `/metrics` on a listener of
//! their own (`METRICS_ADDR`), never on the API's port. Labels are bounded: an operation is
//! the spec's operation id (or `webApp`, `docs`, `spec`, `unmatched`), never a path.
//!
//! The request path updates the request metrics as it goes; everything else (pools, cache,
//! hashing, streams) is read from the parts that own it when Prometheus scrapes.

use std::{
    fmt,
    sync::{Arc, OnceLock, atomic::Ordering},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, prometheus_text::encode},
    metrics::{
        MetricType, counter::ConstCounter, counter::Counter, family::Family, gauge::ConstGauge, gauge::Gauge,
        histogram::Histogram,
    },
    registry::{Registry, Unit},
};

use crate::{auth::HashStats, cache::ChirpCache, feed::Feed, server::connections, store::Store};

/// Seconds a request may take, in buckets from half a millisecond to ten seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The content type of [`Metrics::render`]'s text: Prometheus's own text format, which
/// every Prometheus and `promtool` reads (2.42's `promtool check metrics` rejects
/// OpenMetrics' `info` type).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

/// Everything exported; the request path's own metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<OperationLabels, Histogram>,
    in_flight: Gauge,
    login_throttled: Counter,
    connections: Arc<OnceLock<Arc<connections::Registry>>>,
}

/// What the rest of the metrics are read from.
#[derive(Clone)]
pub struct Sources {
    pub store: Store,
    pub cache: Arc<ChirpCache>,
    pub feed: Arc<Feed>,
    pub hashing: Arc<HashStats>,
}

impl Metrics {
    pub fn new(sources: Sources) -> Self {
        let mut registry = Registry::with_prefix("chirpy");
        let metrics = Self {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            in_flight: Gauge::default(),
            login_throttled: Counter::default(),
            connections: Arc::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by operation, method and status",
            metrics.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request (until its response starts), by operation",
            Unit::Seconds,
            metrics.durations.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Requests being answered now",
            metrics.in_flight.clone(),
        );
        registry.register(
            "login_throttled",
            "Logins refused with 429: too many recent failures for the account or the address",
            metrics.login_throttled.clone(),
        );
        registry.register_with_unit(
            "password_hash_duration",
            "Time each Argon2id hash or verification took on its hashing thread",
            Unit::Seconds,
            sources.hashing.seconds.clone(),
        );
        registry.register_collector(Box::new(Scraped {
            sources,
            connections: metrics.connections.clone(),
        }));
        Self { registry, ..metrics }
    }

    /// Counts `registry`'s connections as the open ones (the API listener's, once bound).
    pub fn count_connections(&self, registry: Arc<connections::Registry>) {
        let _ = self.connections.set(registry);
    }

    pub fn request_started(&self) {
        self.in_flight.inc();
    }

    /// A request was answered: counts it, and records how long it took.
    pub fn request_answered(&self, operation: &'static str, method: &'static str, status: u16, seconds: f64) {
        self.in_flight.dec();
        self.requests
            .get_or_create(&RequestLabels {
                operation,
                method,
                status,
            })
            .inc();
        self.durations
            .get_or_create(&OperationLabels { operation })
            .observe(seconds);
    }

    pub fn login_throttled(&self) {
        self.login_throttled.inc();
    }

    /// The exposition, in the Prometheus text format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// The metrics read at each scrape.
struct Scraped {
    sources: Sources,
    connections: Arc<OnceLock<Arc<connections::Registry>>>,
}

impl fmt::Debug for Scraped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scraped")
    }
}

impl Collector for Scraped {
    fn encode(&self, mut out: DescriptorEncoder) -> fmt::Result {
        let Sources {
            store,
            cache,
            feed,
            hashing,
        } = &self.sources;
        let pools = store.pools();
        let by_pool = |value: fn(&crate::store::PoolReading) -> i64| {
            pools
                .iter()
                .map(move |pool| ([("pool", pool.name)], value(pool)))
                .collect::<Vec<_>>()
        };
        gauges(
            &mut out,
            "db_pool_connections",
            "Connections the pool holds open (in use or idle)",
            by_pool(|pool| i64::from(pool.size)),
        )?;
        gauges(
            &mut out,
            "db_pool_idle_connections",
            "Connections open and idle",
            by_pool(|pool| pool.idle as i64),
        )?;
        gauges(
            &mut out,
            "db_pool_max_connections",
            "The pool's limit (DB_MAX_CONNECTIONS)",
            by_pool(|pool| i64::from(pool.max)),
        )?;
        gauges(
            &mut out,
            "db_pool_waiting",
            "Queries waiting for a connection now",
            by_pool(|pool| pool.waiting as i64),
        )?;
        let timeouts = pools.iter().map(|pool| ([("pool", pool.name)], pool.timed_out));
        counters(
            &mut out,
            "db_pool_acquire_timeouts",
            "Waits for a connection that ran out (DB_ACQUIRE_TIMEOUT_MS; the request got 503)",
            timeouts,
        )?;
        let batches = store.batches();
        for (name, help, value) in [
            (
                "db_batches",
                "Batches of requests answered together, by work (chirp_by_id, post, counts_by_id, like, rate_count)",
                (|stats| &stats.batches) as fn(&crate::store::BatchStats) -> &std::sync::atomic::AtomicU64,
            ),
            ("db_batched_requests", "Requests answered in batches", |stats| {
                &stats.requests
            }),
            (
                "db_batch_abandoned",
                "Requests whose caller had gone before their batch was taken (never run)",
                |stats| &stats.abandoned,
            ),
        ] {
            let values = batches
                .iter()
                .map(|(work, stats)| ([("work", *work)], value(stats).load(Ordering::Relaxed)));
            counters(&mut out, name, help, values)?;
        }
        {
            let mut waited = out.encode_descriptor(
                "db_batch_wait_seconds",
                "Time requests waited to be taken into a batch, summed (divide by db_batched_requests)",
                None,
                MetricType::Counter,
            )?;
            for (work, stats) in &batches {
                let seconds = stats.waited_micros.load(Ordering::Relaxed) as f64 / 1e6;
                ConstCounter::new(seconds).encode(waited.encode_family(&[("work", *work)])?)?;
            }
        }
        gauge(
            &mut out,
            "db_up",
            "1 while the background check finds the primary answering, else 0",
            i64::from(store.is_up()),
        )?;
        if let Some(usable) = store.replica_usable() {
            gauge(
                &mut out,
                "db_replica_usable",
                "1 while chirp reads go to the replica (reachable, within DB_REPLICA_MAX_LAG_MS), else 0",
                i64::from(usable),
            )?;
        }
        gauge(
            &mut out,
            "listening",
            "1 while this instance hears the other instances' changes (its LISTEN session is up); \
             the cache is bypassed at 0",
            i64::from(cache.trusted()),
        )?;
        let stats = &cache.stats;
        for (name, help, value) in [
            ("cache_hits", "Chirp and page reads the cache answered", &stats.hits),
            (
                "cache_misses",
                "Chirp and page reads the cache could not answer",
                &stats.misses,
            ),
            (
                "cache_evictions",
                "Cache entries pushed out to make room",
                &stats.evictions,
            ),
        ] {
            counter(&mut out, name, help, value.load(Ordering::Relaxed))?;
        }
        let bytes = out.encode_descriptor(
            "cache_size",
            "What the chirp cache holds, as it weighs entries",
            Some(&Unit::Bytes),
            MetricType::Gauge,
        )?;
        ConstGauge::new(cache.weight() as i64).encode(bytes)?;
        gauge(
            &mut out,
            "event_streams_open",
            "Live feed streams open now",
            feed.open_streams() as i64,
        )?;
        gauge(
            &mut out,
            "event_streams_max",
            "Live feed streams allowed at once (MAX_EVENT_STREAMS); more get 503",
            feed.max_streams() as i64,
        )?;
        gauge(
            &mut out,
            "password_hash_queued",
            "Password hashes waiting for a hashing thread",
            hashing.queued.load(Ordering::Relaxed) as i64,
        )?;
        counter(
            &mut out,
            "password_hash_abandoned",
            "Password hashes skipped because their request had timed out or its client left",
            hashing.abandoned.load(Ordering::Relaxed),
        )?;
        if let Some(connections) = self.connections.get() {
            gauge(
                &mut out,
                "http_connections_open",
                "Client connections open now",
                connections.len() as i64,
            )?;
            gauge(
                &mut out,
                "http_connections_max",
                "Client connections allowed at once (MAX_CONNECTIONS, or what the file limit leaves room for)",
                connections.limits().max as i64,
            )?;
        }
        let mut build = out.encode_descriptor("build", "The running build, as labels", None, MetricType::Info)?;
        build.encode_info(&[("version", env!("CARGO_PKG_VERSION"))])
    }
}

fn gauge(out: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> fmt::Result {
    ConstGauge::new(value).encode(out.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

fn gauges<L: EncodeLabelSet>(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (L, i64)>,
) -> fmt::Result {
    let mut metric = out.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in values {
        ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

fn counter(out: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> fmt::Result {
    ConstCounter::new(value).encode(out.encode_descriptor(name, help, None, MetricType::Counter)?)
}

fn counters<L: EncodeLabelSet>(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (L, u64)>,
) -> fmt::Result {
    let mut metric = out.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in values {
        ConstCounter::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The HTTP method as a bounded label.
pub fn method_label(method: &poem::http::Method) -> &'static str {
    use poem::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}
