//! Abuse limits: who a client is, per-client rate limits, request body sizes and the request
//! timeout.
//!
//! - [`ClientKey`]: the peer address of the connection, or with `TRUST_FORWARDED_FOR` the
//!   address the load balancer in front saw. IPv6 clients are keyed by their /64, the
//!   smallest block a single subscriber usually gets, so walking through one's own addresses
//!   does not buy fresh limits.
//! - [`KeyedLimiter`]: a GCRA token bucket per client in a bounded table (at most
//!   [`MAX_TRACKED_CLIENTS`] entries), so a flood of distinct addresses cannot make memory
//!   grow without limit; past it, new clients share one overflow bucket.
//! - [`verify_rate`] limits `POST /verify`; [`admin_auth_failures`] counts `401`s on the admin
//!   API and, past the limit, answers `429` before the token is even looked at.
//! - [`body_limit`] bounds every body, declared or chunked, answering `413` problem+json;
//!   [`timeout`] ends requests that take too long (`408` slow client, `503` slow service).
//!
//! The limits are per instance: several instances behind a load balancer each keep their
//! own table, so a client's effective limit is at most the per-instance limit times the
//! number of instances.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Settings;
use crate::error::AppError;

/// Most clients one limiter tracks individually (about 40 bytes each, so a few MB at most).
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Who a request comes from, for per-client limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An IPv4 address, or an IPv6 /64 (the rest of the address zeroed).
    Ip(IpAddr),
    /// No address known: a request handed to the router in-process, without a connection.
    /// All such requests share one bucket.
    Unknown,
    /// New clients while the table is full share this one.
    Overflow,
}

impl ClientKey {
    /// The key of an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64.
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => ClientKey::Ip(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::Ip(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientKey::Ip(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// The client of `req`: the right-most `X-Forwarded-For` address when `trust_forwarded`
    /// and the header has one, else the connection's peer address (from
    /// `into_make_service_with_connect_info`, or `MockConnectInfo` in tests), else
    /// [`ClientKey::Unknown`].
    pub fn of(req: &Request, trust_forwarded: bool) -> Self {
        if trust_forwarded {
            if let Some(ip) = forwarded_for(req.headers()) {
                return ClientKey::from_ip(ip);
            }
        }
        let ext = req.extensions();
        ext.get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .or_else(|| ext.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0))
            .map_or(ClientKey::Unknown, |addr| ClientKey::from_ip(addr.ip()))
    }
}

/// The right-most address of the last `X-Forwarded-For` header: the one the proxy in front
/// appended. Everything left of it came from the client and proves nothing.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last.to_str().ok()?.rsplit(',').next()?.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        // Some proxies add the port: `1.2.3.4:5678` or `[2001:db8::1]:5678`.
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// What a [`KeyedLimiter`] counts by: a client, or (for sign-in links) an address.
pub trait LimitKey: Copy + Eq + std::hash::Hash {
    /// The key new entries share while the table is full.
    const OVERFLOW: Self;
}

impl LimitKey for ClientKey {
    const OVERFLOW: Self = ClientKey::Overflow;
}

/// An email address as a limit key: 128 bits of its SHA-256 (the table never holds the
/// address itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(u128);

impl AddressKey {
    /// The key of a normalised address.
    pub fn of(address: &str) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(address.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        AddressKey(u128::from_be_bytes(first) | 1)
    }
}

impl LimitKey for AddressKey {
    // Real keys have the low bit set, so none is the overflow key.
    const OVERFLOW: Self = AddressKey(0);
}

/// A per-client rate limit: the generic cell rate algorithm (a token bucket kept as one
/// timestamp per client). `rate` events per `period` on average, `burst` at once.
pub struct KeyedLimiter<K: LimitKey = ClientKey> {
    /// Time one event costs: `period / rate`.
    interval: Duration,
    /// How far ahead of now a client's schedule may run: `burst × interval`.
    tolerance: Duration,
    capacity: usize,
    table: Mutex<Table<K>>,
}

struct Table<K> {
    /// Per client, the theoretical arrival time: when its bucket is full again.
    tats: HashMap<K, Instant>,
    last_sweep: Instant,
}

impl<K: LimitKey> KeyedLimiter<K> {
    /// `rate` events per `period` with bursts of `burst`; `None` (no limit) when `rate` is 0.
    pub fn new(rate: u32, period: Duration, burst: u32) -> Option<Self> {
        Self::with_capacity(rate, period, burst, MAX_TRACKED_CLIENTS)
    }

    /// [`KeyedLimiter::new`] with an explicit table size (tests).
    pub fn with_capacity(rate: u32, period: Duration, burst: u32, capacity: usize) -> Option<Self> {
        if rate == 0 || period.is_zero() {
            return None;
        }
        let interval = period / rate;
        Some(KeyedLimiter {
            interval,
            tolerance: interval * burst.max(1),
            capacity: capacity.max(1),
            table: Mutex::new(Table {
                tats: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        })
    }

    /// Takes one event for `key` if its bucket allows; else how long until it would.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.update(key, true, false)
    }

    /// Whether one event for `key` would be allowed now, without taking it.
    pub fn peek(&self, key: K) -> Result<(), Duration> {
        self.update(key, false, false)
    }

    /// Takes one event for `key` whether or not its bucket allows (an event that already
    /// happened, such as a failed authentication).
    pub fn record(&self, key: K) {
        let _ = self.update(key, true, true);
    }

    /// Clients tracked now (tests and metrics).
    pub fn tracked(&self) -> usize {
        self.lock().tats.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<K>> {
        // A panic while holding the lock cannot leave a half-updated timestamp; go on.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, key: K, take: bool, always: bool) -> Result<(), Duration> {
        let now = Instant::now();
        let mut table = self.lock();
        let key = self.admit(&mut table, key, now);
        let tat = table.tats.get(&key).copied().unwrap_or(now).max(now);
        let next = tat + self.interval;
        let allowed = next - now <= self.tolerance;
        if take && (allowed || always) {
            // Capped, so a client recorded while over the limit is not pushed out forever.
            let capped = next.min(now + self.tolerance + self.interval);
            table.tats.insert(key, capped);
        }
        if allowed {
            Ok(())
        } else {
            Err(next - now - self.tolerance)
        }
    }

    /// The key to account `key` under: itself if tracked or if there is room (after
    /// dropping clients whose bucket has refilled, at most once a second), else the shared
    /// overflow bucket.
    fn admit(&self, table: &mut Table<K>, key: K, now: Instant) -> K {
        if table.tats.len() < self.capacity || table.tats.contains_key(&key) {
            return key;
        }
        if now.duration_since(table.last_sweep) >= Duration::from_secs(1) {
            // A refilled bucket is the same as no entry at all.
            table.tats.retain(|_, tat| *tat > now);
            table.last_sweep = now;
            if table.tats.len() < self.capacity {
                return key;
            }
        }
        K::OVERFLOW
    }
}

/// The window of `STAFF_SIGN_IN_FAILURES`: failures are forgiven at this pace.
pub const STAFF_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The per-client limiters of one instance, built from the settings.
pub struct Limits {
    /// `POST /verify` requests.
    pub verify: Option<KeyedLimiter>,
    /// Failed admin authentications.
    pub auth_failures: Option<KeyedLimiter>,
    /// `/me/login` requests per client.
    pub login: Option<KeyedLimiter>,
    /// Sign-in links sent per address.
    pub login_links: Option<KeyedLimiter<AddressKey>>,
    /// Wrong staff passwords per account (by email).
    pub staff_account_failures: Option<KeyedLimiter<AddressKey>>,
    /// Wrong staff passwords per client.
    pub staff_client_failures: Option<KeyedLimiter>,
    /// Whether client addresses come from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// The settings the limits' answers name (taken at start, like the limiters).
    verify_rate_per_minute: u32,
    verify_rate_burst: u32,
    auth_failure_limit: u32,
    auth_failure_window_secs: u64,
    request_timeout: Duration,
}

impl Limits {
    /// The limiters `settings` ask for.
    pub fn new(settings: &Settings) -> Self {
        Limits {
            verify: KeyedLimiter::new(
                settings.verify_rate_per_minute,
                Duration::from_secs(60),
                settings.verify_rate_burst,
            ),
            auth_failures: KeyedLimiter::new(
                settings.auth_failure_limit,
                Duration::from_secs(settings.auth_failure_window_secs),
                settings.auth_failure_limit,
            ),
            login: KeyedLimiter::new(
                settings.login_rate_per_hour,
                Duration::from_secs(3600),
                settings.login_rate_per_hour,
            ),
            login_links: KeyedLimiter::new(
                settings.login_links_per_hour,
                Duration::from_secs(3600),
                settings.login_links_per_hour,
            ),
            staff_account_failures: KeyedLimiter::new(
                settings.staff_sign_in_failures,
                STAFF_FAILURE_WINDOW,
                settings.staff_sign_in_failures,
            ),
            staff_client_failures: KeyedLimiter::new(
                settings.staff_sign_in_failures.saturating_mul(4),
                STAFF_FAILURE_WINDOW,
                settings.staff_sign_in_failures.saturating_mul(4),
            ),
            trust_forwarded_for: settings.trust_forwarded_for,
            verify_rate_per_minute: settings.verify_rate_per_minute,
            verify_rate_burst: settings.verify_rate_burst,
            auth_failure_limit: settings.auth_failure_limit,
            auth_failure_window_secs: settings.auth_failure_window_secs,
            request_timeout: Duration::from_secs(settings.request_timeout_secs),
        }
    }
}

/// Whole seconds to wait, rounded up, at least 1 (`Retry-After` has no fractions).
fn retry_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Limits `POST /verify` per client (other methods pass).
pub async fn verify_rate(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    if let (Some(limiter), &Method::POST) = (&limits.verify, req.method()) {
        let key = ClientKey::of(&req, limits.trust_forwarded_for);
        if let Err(wait) = limiter.check(key) {
            // Debug only: a flood would otherwise flood the log too (429s are in the metrics).
            tracing::debug!(limit = "verify_rate", "client over the limit");
            return AppError::TooManyRequests {
                detail: format!(
                    "rate limit: at most {} POST /verify requests per minute per client \
                     (bursts of {}); retry in {} s",
                    limits.verify_rate_per_minute,
                    limits.verify_rate_burst,
                    retry_secs(wait)
                ),
                retry_after_secs: retry_secs(wait),
            }
            .into_response();
        }
    }
    next.run(req).await
}

/// Admin routes: a client with too many recent `401`s is answered `429` before its token is
/// looked up or its body read (the audit layer, outside this one, records the refusal);
/// every `401` the routes answer counts.
pub async fn admin_auth_failures(
    State(limits): State<Arc<Limits>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limiter) = &limits.auth_failures else {
        return next.run(req).await;
    };
    let key = ClientKey::of(&req, limits.trust_forwarded_for);
    if let Err(wait) = limiter.peek(key) {
        tracing::debug!(limit = "auth_failures", "client refused");
        return AppError::TooManyRequests {
            detail: format!(
                "too many failed authentications: at most {} per {} s per client; admin \
                 requests from this client are refused for {} s",
                limits.auth_failure_limit,
                limits.auth_failure_window_secs,
                retry_secs(wait)
            ),
            retry_after_secs: retry_secs(wait),
        }
        .into_response();
    }
    let res = next.run(req).await;
    if res.status() == StatusCode::UNAUTHORIZED {
        limiter.record(key);
        // Once per lockout, not per refused request.
        if limiter.peek(key).is_err() {
            tracing::warn!(
                limit = "auth_failures",
                "a client is locked out of the admin API after repeated failed authentication"
            );
        }
    }
    res
}

// ---------------------------------------------------------------- body size

/// Bounds the body of every request to `limit` bytes: a declared `Content-Length` over it
/// is answered `413` at once, and a body without one (chunked) is cut off at the limit by
/// `http_body_util::Limited`, whose error axum's extractors turn into `413`, so a handler
/// that reads the body without `DefaultBodyLimit` is bounded as well.
pub async fn body_limit(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit).into_response();
    }
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    let res = next.run(req).await;
    // A handler that read the body through a plain extractor may still answer a bare 413.
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem(&res) {
        return too_large(limit).into_response();
    }
    res
}

fn is_problem(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

/// The 413 of [`body_limit`].
pub fn too_large(limit: usize) -> AppError {
    AppError::PayloadTooLarge(format!(
        "the body is larger than the {} this resource accepts",
        human_bytes(limit)
    ))
}

/// `262144` → `256 KiB`, `4194304` → `4 MiB`.
fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

// ---------------------------------------------------------------- timeout

/// Ends a request that has not produced its answer within `REQUEST_TIMEOUT_SECS`: `408` if
/// its body was still arriving (a slow or stalled client, which is also how slow-body
/// attacks look), `503` with `Retry-After` if the body had arrived (the service itself was
/// too slow, and the same request may well succeed later). The handler is dropped at that
/// point, which rolls back any open database transaction.
pub async fn timeout(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let limit = limits.request_timeout;
    let arrived = Arc::new(AtomicBool::new(req.body().is_end_stream()));
    let req = req.map(|body| {
        Body::new(Tracked {
            inner: body,
            arrived: Arc::clone(&arrived),
        })
    });
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) if !arrived.load(Ordering::Acquire) => AppError::RequestTimeout(format!(
            "the request body did not arrive within the {} s this service waits",
            limit.as_secs()
        ))
        .into_response(),
        Err(_) => {
            tracing::warn!(timeout_secs = limit.as_secs(), "request timed out");
            AppError::Unavailable(format!(
                "the request took longer than the {} s this service allows; try again later",
                limit.as_secs()
            ))
            .into_response()
        }
    }
}

/// A request body that notes when it has been read to the end.
struct Tracked {
    inner: Body,
    arrived: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.arrived.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> ClientKey {
        ClientKey::from_ip(s.parse().unwrap())
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::2"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
    }

    #[test]
    fn bucket_allows_the_burst_then_refuses_with_the_wait() {
        let l = KeyedLimiter::new(60, Duration::from_secs(60), 3).unwrap();
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert!(l.check(a).is_ok());
        }
        let wait = l.check(a).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert_eq!(retry_secs(wait), 1);
        // Another client has its own bucket; peek takes nothing.
        let b = ip("192.0.2.2");
        for _ in 0..10 {
            assert!(l.peek(b).is_ok());
        }
        assert!(l.check(b).is_ok());
    }

    #[test]
    fn the_table_is_bounded() {
        let l = KeyedLimiter::with_capacity(1, Duration::from_secs(3600), 1, 4).unwrap();
        for i in 0..4 {
            assert!(l.check(ip(&format!("192.0.2.{i}"))).is_ok());
        }
        // Full, and nobody's bucket has refilled: newcomers share the overflow bucket.
        assert!(l.check(ip("198.51.100.1")).is_ok());
        assert!(l.check(ip("198.51.100.2")).is_err());
        assert_eq!(l.tracked(), 5);
    }

    #[test]
    fn forwarded_for_takes_the_address_the_proxy_appended() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().unwrap(),
        );
        assert_eq!(forwarded_for(&h), Some("198.51.100.4".parse().unwrap()));
        h.insert("x-forwarded-for", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(forwarded_for(&h), Some("2001:db8::1".parse().unwrap()));
        h.insert("x-forwarded-for", "unknown".parse().unwrap());
        assert_eq!(forwarded_for(&h), None);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(256 * 1024), "256 KiB");
        assert_eq!(human_bytes(4 << 20), "4 MiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
