//! Prometheus metrics for `/metrics`: requests by route and status, latency histograms,
//! issuances, revocations, verifications and signing time.
//!
//! Each [`Metrics`] owns its own registry (not a process-global one), so several app
//! instances in one process — as in the tests — count separately.

use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests by method, route template and status.
    pub http_requests: IntCounterVec,
    /// HTTP latency by method and route template.
    pub http_duration: HistogramVec,
    /// Badges issued, by achievement.
    pub issued: IntCounterVec,
    /// Badges revoked, by achievement.
    pub revoked: IntCounterVec,
    /// Verifications, by result (`verified`, `failed`).
    pub verifications: IntCounterVec,
    /// Time to build, canonicalise and sign one credential.
    pub signing: HistogramVec,
    /// Holder mail send attempts, by outcome (`sent`, `retry`, `failed`).
    pub mail: IntCounterVec,
    /// Badge pages served from memory (`badge_pages_total{from="memory"}`), resolved once:
    /// it is counted on the hottest route.
    pub badge_pages_from_memory: IntCounter,
    /// Badge pages read from the database (`badge_pages_total{from="database"}`).
    pub badge_pages_from_database: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: T) -> T {
    registry
        .register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("partnership_badges".into()), None)
            .expect("valid registry prefix");
        let http_requests = register(
            &registry,
            IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests by route and status"),
                &["method", "route", "status"],
            )
            .expect("valid metric"),
        );
        let http_duration = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                    .buckets(vec![
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ]),
                &["method", "route"],
            )
            .expect("valid metric"),
        );
        let issued = register(
            &registry,
            IntCounterVec::new(
                Opts::new("credentials_issued_total", "Badges issued"),
                &["achievement"],
            )
            .expect("valid metric"),
        );
        let revoked = register(
            &registry,
            IntCounterVec::new(
                Opts::new("credentials_revoked_total", "Badges revoked"),
                &["achievement"],
            )
            .expect("valid metric"),
        );
        let verifications = register(
            &registry,
            IntCounterVec::new(
                Opts::new("verifications_total", "Credential verifications by result"),
                &["result"],
            )
            .expect("valid metric"),
        );
        let signing = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "signing_duration_seconds",
                    "Time to canonicalise and sign one credential",
                )
                .buckets(vec![
                    0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                ]),
                &["path"],
            )
            .expect("valid metric"),
        );
        let mail = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "mail_attempts_total",
                    "Holder mail send attempts by outcome",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
        );
        let badge_pages = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "badge_pages_total",
                    "Badge pages served, by where they came from (memory or database)",
                ),
                &["from"],
            )
            .expect("valid metric"),
        );
        Metrics {
            registry,
            mail,
            badge_pages_from_memory: badge_pages.with_label_values(&["memory"]),
            badge_pages_from_database: badge_pages.with_label_values(&["database"]),
            http_requests,
            http_duration,
            issued,
            revoked,
            verifications,
            signing,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }
}
