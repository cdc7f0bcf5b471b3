//! Verifying large untrusted bodies never stalls the service: parsing and checking run on
//! the blocking pool, a bounded number at once, so `/healthz` answers quickly while eight
//! bodies of nearly 4 MiB (the `POST /verify` limit) are being verified. The service runs as
//! in production: a multi-threaded runtime with one worker per core of this machine (two),
//! over a real socket; `/healthz` is timed from a plain thread, outside that runtime.

mod common;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use common::{TestApp, BASE};
use serde_json::{json, Value};

/// The slowest `/healthz` answer allowed while the bodies are verified.
const HEALTHZ_BOUND: Duration = Duration::from_millis(100);

/// One `GET /healthz` over a fresh connection; its round-trip time.
fn healthz(addr: std::net::SocketAddr) -> Duration {
    let t = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: badges.test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    t.elapsed()
}

/// Eight requests at once, without the per-client rate limit (it has its own tests).
const ARGS: &[&str] = &["--verify-rate-per-minute", "0"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_large_bodies_verify_sqlite() {
    healthz_answers_while_large_bodies_verify(TestApp::sqlite_with_args(BASE, ARGS).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_large_bodies_verify_postgres() {
    if let Some(app) = TestApp::postgres_with_args(BASE, ARGS).await {
        healthz_answers_while_large_bodies_verify(app).await;
    }
}

/// One measurement at a time: the two would otherwise share the two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn healthz_answers_while_large_bodies_verify(app: TestApp) {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (_, _, id) = app.closed_person("big@example.org").await;
    let mut doc = app.get(&format!("/credentials/{id}")).await.body;
    // About two million small values: the costliest kind of JSON to parse per byte.
    let limit = app.state.settings.max_verify_body_bytes;
    let base_len = doc.to_string().len();
    let n = (limit - base_len - 64) / 2;
    doc["evidence"][0]["tags"] = Value::Array(vec![json!(0); n]);
    let body = doc.to_string();
    assert!(
        body.len() <= limit && body.len() > limit - 1024,
        "{}",
        body.len()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(partnership_badges::serve(
        listener,
        app.state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    healthz(addr); // warm: the first connection is not what is measured

    let client = reqwest::Client::new();
    let posts: Vec<_> = (0..8)
        .map(|_| {
            let (client, body) = (client.clone(), body.clone());
            tokio::spawn(async move {
                client
                    .post(format!("http://{addr}/verify"))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let probe = std::thread::spawn(move || {
        let mut samples = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            samples.push(healthz(addr));
            std::thread::sleep(Duration::from_millis(10));
            if samples.len() >= 400 {
                break;
            }
        }
        samples
    });
    let t = Instant::now();
    let mut reports = Vec::new();
    for p in posts {
        reports.push(p.await.unwrap());
    }
    let busy = t.elapsed();
    let samples = probe.join().unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    for r in &reports {
        assert_eq!(r["verified"], false, "{r:#}");
        assert!(r["errors"].to_string().contains("too large"), "{r:#}");
    }
    // Only the samples taken while the bodies were in flight count.
    let during: Vec<Duration> = samples
        .iter()
        .scan(Duration::ZERO, |at, d| {
            *at += *d + Duration::from_millis(10);
            Some((*at, *d))
        })
        .take_while(|(at, _)| *at <= busy)
        .map(|(_, d)| d)
        .collect();
    let slowest = during.iter().max().copied().unwrap_or_default();
    println!(
        "8 bodies of {} bytes verified in {busy:?}; {} /healthz samples meanwhile, slowest {slowest:?}",
        body.len(),
        during.len()
    );
    assert!(during.len() >= 5, "too few samples while busy ({busy:?})");
    assert!(
        slowest < HEALTHZ_BOUND,
        "/healthz took {slowest:?} while large bodies were verified"
    );
    app.cleanup().await;
}
