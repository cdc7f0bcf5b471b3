//! Abuse limits, each tried for real: per-client rate limits on `POST /verify` and on failed
//! admin authentication (by peer address, by trusted `X-Forwarded-For`, and without a
//! connection), the body size limit of every route that takes a body (declared and
//! chunked; `POST /verify`'s from its setting), the request timeout against a stalled client
//! on a real socket, the audit of requests refused by a lockout, and the security and CORS
//! headers of every route.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request, StatusCode};
use common::{Res, TestApp};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn peer(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A `POST /verify` that is answered 422 at once (no verification work), with extra headers.
fn verify_req(headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::post("/verify").header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::from(r#"{"hello": "world"}"#)).unwrap()
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

#[track_caller]
fn assert_retry_after(r: &Res, secs: &str) {
    assert_eq!(
        r.headers
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap()),
        Some(secs),
        "{}",
        r.text
    );
}

// ---------------------------------------------------------------- POST /verify rate

async fn verify_rate_is_per_client(app: &TestApp) {
    let a = peer("192.0.2.10:40000");
    for _ in 0..3 {
        assert_eq!(app.send_from(a, verify_req(&[])).await.status, 422);
    }
    let r = app.send_from(a, verify_req(&[])).await;
    r.assert_problem(429, "at most 60 POST /verify requests per minute");
    assert_retry_after(&r, "1");
    // Another connection from the same address is the same client; a forwarded-for header
    // is ignored while it is not trusted.
    app.send_from(peer("192.0.2.10:40001"), verify_req(&[]))
        .await
        .assert_problem(429, "rate limit");
    app.send_from(a, verify_req(&[("x-forwarded-for", "203.0.113.77")]))
        .await
        .assert_problem(429, "rate limit");
    // The form page is not limited.
    assert_eq!(app.send_from(a, get("/verify", None)).await.status, 200);

    // Another client has its own bucket; addresses of one IPv6 /64 share theirs.
    let b = peer("[2001:db8:0:1::1]:1");
    for _ in 0..3 {
        assert_eq!(app.send_from(b, verify_req(&[])).await.status, 422);
    }
    app.send_from(peer("[2001:db8:0:1:ffff::2]:2"), verify_req(&[]))
        .await
        .assert_problem(429, "rate limit");
    assert_eq!(
        app.send_from(peer("[2001:db8:0:2::1]:1"), verify_req(&[]))
            .await
            .status,
        422
    );

    // Without a connection (in-process) there is no address: one shared bucket, limited too.
    for _ in 0..3 {
        assert_eq!(app.send(verify_req(&[])).await.status, 422);
    }
    app.send(verify_req(&[]))
        .await
        .assert_problem(429, "rate limit");

    // 60 a minute: one more a second later, and only one.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.send_from(a, verify_req(&[])).await.status, 422);
    app.send_from(a, verify_req(&[]))
        .await
        .assert_problem(429, "rate limit");
}
both_backends!(
    verify_rate,
    crate::verify_rate_is_per_client,
    ["--verify-rate-per-minute", "60", "--verify-rate-burst", "3"]
);

/// Behind a load balancer every connection comes from it; the address it appended counts.
async fn verify_rate_behind_a_proxy(app: &TestApp) {
    let lb = peer("192.0.2.1:5000");
    let client = [("x-forwarded-for", "203.0.113.1")];
    for _ in 0..3 {
        assert_eq!(app.send_from(lb, verify_req(&client)).await.status, 422);
    }
    app.send_from(lb, verify_req(&client))
        .await
        .assert_problem(429, "rate limit");
    // Another client through the same balancer is not limited.
    let other = [("x-forwarded-for", "203.0.113.2")];
    assert_eq!(app.send_from(lb, verify_req(&other)).await.status, 422);
    // What a client writes left of the balancer's entry changes nothing.
    let forged = [("x-forwarded-for", "198.51.100.99, 203.0.113.1")];
    app.send_from(lb, verify_req(&forged))
        .await
        .assert_problem(429, "rate limit");
    // Without the header, the connection's address is the client.
    assert_eq!(app.send_from(lb, verify_req(&[])).await.status, 422);
}
both_backends!(
    verify_rate_forwarded,
    crate::verify_rate_behind_a_proxy,
    [
        "--verify-rate-per-minute",
        "60",
        "--verify-rate-burst",
        "3",
        "--trust-forwarded-for"
    ]
);

// ---------------------------------------------------------------- failed authentication

/// Well-formed tokens that no one was given.
const GUESS: &str = "pb_00000000000000aa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const GUESS_2: &str = "pb_00000000000000bb_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

async fn failed_auth_locks_the_client_out(app: &TestApp) {
    let list = "/api/v1/credentials?limit=1";
    let a = peer("192.0.2.20:1");
    for _ in 0..3 {
        app.send_from(a, get(list, Some(GUESS)))
            .await
            .assert_problem(401, "unknown token");
    }
    // Now even the right token is refused: the limit is checked before authentication.
    let r = app.send_from(a, get(list, Some(&app.token))).await;
    r.assert_problem(429, "too many failed authentications");
    assert_retry_after(&r, "1");
    let post = Request::post("/api/v1/mentors")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": "M", "email": "m@example.org"}).to_string(),
        ))
        .unwrap();
    let r = app.send_from(a, post).await;
    r.assert_problem(429, "failed authentications");
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(request_id, "locked-out-1");
    assert_eq!(
        app.count("mentors").await,
        0,
        "a refused write wrote nothing"
    );

    // Other clients are not affected, and public routes stay open to this one.
    let b = peer("192.0.2.21:1");
    assert_eq!(
        app.send_from(b, get(list, Some(&app.token))).await.status,
        200
    );
    app.send_from(b, get(list, None))
        .await
        .assert_problem(401, "missing");
    assert_eq!(app.send_from(a, get("/issuer", None)).await.status, 200);
    // Nor are in-process requests, which have no address (a bucket of their own).
    assert_eq!(app.send(get(list, Some(&app.token))).await.status, 200);

    // 3 per 3 s: one failure frees up each second. Successes cost nothing.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        app.send_from(a, get(list, Some(&app.token))).await.status,
        200
    );
    assert_eq!(
        app.send_from(a, get(list, Some(&app.token))).await.status,
        200
    );
    app.send_from(a, get(list, Some(GUESS_2)))
        .await
        .assert_problem(401, "unknown token");
    app.send_from(a, get(list, Some(&app.token)))
        .await
        .assert_problem(429, "failed authentications");
}
both_backends!(
    failed_auth,
    crate::failed_auth_locks_the_client_out,
    [
        "--auth-failure-limit",
        "3",
        "--auth-failure-window-secs",
        "3"
    ]
);

/// Requests without a connection share one key: failures there lock out that key only.
async fn failed_auth_without_a_connection(app: &TestApp) {
    let list = "/api/v1/credentials?limit=1";
    for _ in 0..3 {
        app.send(get(list, Some(GUESS)))
            .await
            .assert_problem(401, "unknown token");
    }
    app.send(get(list, Some(&app.token)))
        .await
        .assert_problem(429, "failed authentications");
    let r = app
        .send_from(peer("192.0.2.30:1"), get(list, Some(&app.token)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
both_backends!(
    failed_auth_in_process,
    crate::failed_auth_without_a_connection,
    ["--auth-failure-limit", "3"]
);

/// A locked-out client's requests are refused before its token is looked at, and audited
/// all the same: the 429 is in the audit log, naming no token (none was looked up), after
/// the 401s that caused it.
async fn lockout_is_audited(app: &TestApp) {
    let a = peer("192.0.2.40:1");
    let list = "/api/v1/credentials?limit=1";
    for _ in 0..2 {
        app.send_from(a, get(list, Some(GUESS)))
            .await
            .assert_problem(401, "unknown token");
    }
    let post = Request::post("/api/v1/mentors")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", "locked-out-1")
        .body(Body::from(
            json!({"name": "M", "email": "m@example.org"}).to_string(),
        ))
        .unwrap();
    let r = app.send_from(a, post).await;
    r.assert_problem(429, "failed authentications");
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(request_id, "locked-out-1");

    // Read in-process: another client, not locked out.
    let r = app.get("/api/v1/audit?limit=3").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let seen: Vec<(&str, u64)> = items
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("POST /api/v1/mentors", 429),
            ("GET /api/v1/credentials", 401),
            ("GET /api/v1/credentials", 401),
        ],
        "{}",
        r.text
    );
    let refused = &items[0];
    assert_eq!(refused["request_id"], request_id.as_str(), "{refused}");
    // The valid token was sent, but never looked at.
    assert!(refused["token"].is_null(), "{refused}");
    // And the refusal is findable by its status's action filter too.
    let r = app.get("/api/v1/audit?action=POST%20/api/v1/mentors").await;
    assert_eq!(r.body["items"][0]["status"], 429, "{}", r.text);
}
both_backends!(
    lockout_audited,
    crate::lockout_is_audited,
    ["--auth-failure-limit", "2"]
);

// ---------------------------------------------------------------- a real socket

/// Over a real connection the key is the peer address (the service is served with connect
/// info), and a client that sends headers and then stalls is cut off after the timeout.
async fn over_a_socket(postgres: bool) {
    let args = ["--auth-failure-limit", "3", "--request-timeout-secs", "1"];
    let Some((app, served)) = common::serve_on_port(async |base: &str| {
        if postgres {
            TestApp::postgres_with_args(base, &args).await
        } else {
            Some(TestApp::sqlite_with_args(base, &args).await)
        }
    })
    .await
    else {
        return;
    };
    let addr = served.base.trim_start_matches("http://").to_owned();

    // A stalled body: headers promise 1000 bytes, 10 arrive, then nothing.
    for (path, auth) in [("/api/v1/mentors", true), ("/verify", false)] {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n"
        );
        if auth {
            head.push_str(&format!("Authorization: Bearer {}\r\n", app.token));
        }
        head.push_str("\r\n{\"name\": ");
        let t = Instant::now();
        s.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
            .await
            .expect("the server must answer a stalled client, not wait forever")
            .unwrap();
        let elapsed = t.elapsed();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("application/problem+json")
                && answer.contains("did not arrive within the 1 s"),
            "{path}: {answer}"
        );
        assert!(
            elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
            "{path}: answered after {elapsed:?}, the timeout is 1 s"
        );
    }

    // Failed authentications over the socket lock out 127.0.0.1 ...
    let client = reqwest::Client::new();
    let list = format!("{}/api/v1/credentials?limit=1", served.base);
    for _ in 0..3 {
        let r = client.get(&list).bearer_auth(GUESS).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = client
        .get(&list)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // The default window: 3 failures per 300 s, so one frees up every 100 s.
    assert_eq!(r.headers()[header::RETRY_AFTER], "100");
    // ... and only that address: in-process requests (no address) were not counted with it,
    // which they would have been had the socket requests carried no peer address.
    assert_eq!(
        app.send(get("/api/v1/credentials?limit=1", Some(&app.token)))
            .await
            .status,
        200
    );

    served.shutdown().await;
    app.cleanup().await;
}

#[tokio::test]
async fn over_a_socket_sqlite() {
    over_a_socket(false).await;
}

#[tokio::test]
async fn over_a_socket_postgres() {
    over_a_socket(true).await;
}

/// A handler slower than the timeout, with its body fully arrived: the service is slow, so
/// 503 with `Retry-After`, not 408.
#[tokio::test]
async fn slow_service_is_503() {
    use tower::ServiceExt as _;
    let app = TestApp::sqlite_with_args(common::BASE, &["--request-timeout-secs", "1"]).await;
    let slow = axum::Router::new()
        .route(
            "/slow",
            axum::routing::post(|body: Bytes| async move {
                tokio::time::sleep(Duration::from_secs(30)).await;
                body
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            app.state.clone(),
            partnership_badges::limits::timeout,
        ))
        .with_state(app.state.clone());
    let t = Instant::now();
    let res = slow
        .oneshot(Request::post("/slow").body(Body::from("done")).unwrap())
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    app.cleanup().await;
}

// ---------------------------------------------------------------- body sizes

const ADMIN_LIMIT: usize = 256 * 1024;
const VERIFY_LIMIT: usize = 4 * 1024 * 1024;

/// A body of exactly `len` bytes of the route's kind.
fn body_of(content_type: &str, len: usize) -> Vec<u8> {
    if content_type.starts_with("multipart/form-data") {
        let empty = common::multipart(&[("file", Some("badge.json"), b"")])
            .1
            .len();
        let data = vec![b' '; len - empty];
        return common::multipart(&[("file", Some("badge.json"), &data)]).1;
    }
    if content_type.contains("json") {
        let mut b = vec![b' '; len - 2];
        b.extend_from_slice(b"{}");
        return b;
    }
    vec![b' '; len]
}

/// `method uri` with a `content_type` body refuses one byte over `limit` with a 413 problem,
/// declared (`Content-Length`) and chunked, and answers a body of exactly `limit` bytes on
/// its merits.
async fn assert_bounded(
    app: &TestApp,
    method: &Method,
    uri: &str,
    content_type: &str,
    limit: usize,
) {
    let what = format!("{method} {uri} ({content_type:?})");
    let request = |body: Body, len: Option<usize>| {
        let mut r = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token));
        if !content_type.is_empty() {
            r = r.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(n) = len {
            r = r.header(header::CONTENT_LENGTH, n);
        }
        r.body(body).unwrap()
    };
    // Over the limit with Content-Length: refused before reading.
    let over = body_of(content_type, limit + 1);
    let r = app
        .send(request(Body::from(over.clone()), Some(over.len())))
        .await;
    assert_eq!(r.status, 413, "{what}, declared: {}", r.text);
    r.assert_problem(413, "larger than");
    // Over the limit in chunks without a length: cut off while reading.
    let chunks: Vec<Result<Bytes, std::io::Error>> = over
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let r = app
        .send(request(
            Body::from_stream(futures::stream::iter(chunks)),
            None,
        ))
        .await;
    assert_eq!(r.status, 413, "{what}, chunked: {}", r.text);
    r.assert_problem(413, "larger than");
    // Exactly at the limit: read, and answered on its merits (not 413).
    let at = body_of(content_type, limit);
    assert_eq!(at.len(), limit);
    let r = app.send(request(Body::from(at), Some(limit))).await;
    assert_ne!(r.status, 413, "{what}, at the limit: {}", r.text);
    assert!(
        !r.status.is_server_error(),
        "{what}, at the limit: {}",
        r.text
    );
}

async fn every_body_is_bounded(app: &TestApp) {
    let (person, _, credential) = app.closed_person("bodies@example.org").await;
    let (multipart, _) = common::multipart(&[]);
    let json = "application/json";
    // Every route that reads a body, with its limit.
    let table: Vec<(Method, String, &str, usize)> = vec![
        (Method::POST, "/api/v1/mentors".into(), json, ADMIN_LIMIT),
        (Method::POST, "/api/v1/people".into(), json, ADMIN_LIMIT),
        (
            Method::PATCH,
            format!("/api/v1/people/{person}"),
            json,
            ADMIN_LIMIT,
        ),
        (Method::POST, "/api/v1/closings".into(), json, ADMIN_LIMIT),
        (Method::POST, "/api/v1/tokens".into(), json, ADMIN_LIMIT),
        (
            Method::POST,
            "/api/v1/credentials".into(),
            json,
            ADMIN_LIMIT,
        ),
        (
            Method::POST,
            "/api/v1/credentials/batch".into(),
            json,
            ADMIN_LIMIT,
        ),
        (
            Method::POST,
            format!("/api/v1/credentials/{credential}/revoke"),
            json,
            ADMIN_LIMIT,
        ),
        (Method::POST, "/verify".into(), json, VERIFY_LIMIT),
        (
            Method::POST,
            "/verify".into(),
            "application/vc+ld+json",
            VERIFY_LIMIT,
        ),
        (Method::POST, "/verify".into(), "image/png", VERIFY_LIMIT),
        (
            Method::POST,
            "/verify".into(),
            "image/svg+xml",
            VERIFY_LIMIT,
        ),
        (Method::POST, "/verify".into(), &multipart, VERIFY_LIMIT),
        (Method::POST, "/verify".into(), "", VERIFY_LIMIT),
    ];
    // The defaults.
    assert_eq!(app.state.settings.max_body_bytes, ADMIN_LIMIT);
    assert_eq!(app.state.settings.max_verify_body_bytes, VERIFY_LIMIT);
    for (method, uri, content_type, limit) in &table {
        assert_bounded(app, method, uri, content_type, *limit).await;
    }
}

both_backends!(body_limits, crate::every_body_is_bounded);

/// `MAX_VERIFY_BODY_BYTES` sets the bound of `POST /verify` (for every kind of body), and only
/// that one: the admin API keeps `MAX_BODY_BYTES`.
async fn verify_body_limit_is_a_setting(app: &TestApp) {
    assert_eq!(app.state.settings.max_verify_body_bytes, 3000);
    let (multipart, _) = common::multipart(&[]);
    for content_type in ["application/json", "image/png", &multipart, ""] {
        assert_bounded(app, &Method::POST, "/verify", content_type, 3000).await;
    }
    let r = app
        .send(
            Request::post("/verify")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body_of("application/json", 3001)))
                .unwrap(),
        )
        .await;
    r.assert_problem(413, "larger than the 3000 bytes");
    assert_bounded(
        app,
        &Method::POST,
        "/api/v1/mentors",
        "application/json",
        ADMIN_LIMIT,
    )
    .await;
}
both_backends!(
    verify_body_setting,
    crate::verify_body_limit_is_a_setting,
    ["--max-verify-body-bytes", "3000"]
);

// ---------------------------------------------------------------- headers

const FRAMERS: &str = "https://webmaker.example https://*.webmaker.example";

async fn headers_on_every_route(app: &TestApp) {
    let (person, closing, credential) = app.closed_person("headers@example.org").await;
    let mentor = app.get(&format!("/api/v1/closings/{closing}")).await.body["mentor_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let doc = app
        .public_get(&format!("/credentials/{credential}"), &[])
        .await
        .body;
    let status_list = doc["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap()
        .trim_start_matches(common::BASE)
        .to_owned();
    let key = app.public_get("/issuer", &[]).await.body["assertionMethod"][0]
        .as_str()
        .unwrap()
        .trim_start_matches(common::BASE)
        .to_owned();
    let origin = ("origin", "https://elsewhere.example");

    // Public documents: readable from any origin.
    let public = [
        "/issuer".to_owned(),
        key,
        "/achievements/partnership-closed".into(),
        "/achievements/partnership-closed/image.png".into(),
        "/achievements/partnership-closed/image.svg".into(),
        format!("/credentials/{credential}"),
        format!("/credentials/{credential}/credential.json"),
        format!("/credentials/{credential}/badge.png"),
        format!("/credentials/{credential}/badge.svg"),
        format!("/closings/{closing}"),
        status_list,
        "/registry.json".into(),
        "/registry.schema.json".into(),
        "/registry/feed.json".into(),
        "/registry/atom.xml".into(),
        "/ob2/issuer".into(),
        "/ob2/revocations".into(),
        "/ob2/badges/partnership-closed".into(),
        "/ob2/badges/partnership-closed/image.png".into(),
        format!("/ob2/assertions/{credential}"),
        format!("/ob2/assertions/{credential}/badge.png"),
        "/assets/style.css".into(),
        // Loaded by other sites' pages, also as a module or with integrity checks.
        "/embed.js".into(),
    ];
    // Everything else a GET reaches: no CORS.
    let private = [
        format!("/api/v1/people/{person}"),
        format!("/api/v1/mentors/{mentor}"),
        format!("/api/v1/closings/{closing}"),
        format!("/api/v1/credentials/{credential}"),
        "/api/v1/credentials?limit=1".into(),
        "/api/v1/tokens".into(),
        "/api/v1/audit".into(),
        "/openapi.json".into(),
        "/verify".into(),
        "/registry".into(),
        "/registry/embed.css".into(),
        "/healthz".into(),
        "/readyz".into(),
        "/metrics".into(),
        "/no-such-page".into(),
    ];
    let check_common = |what: &str, r: &Res| {
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(r.headers["x-frame-options"], "DENY", "{what}");
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    };
    let cors_headers = |r: &Res| -> Vec<String> {
        r.headers
            .keys()
            .map(|k| k.as_str().to_owned())
            .filter(|k| k.starts_with("access-control-"))
            .collect()
    };
    for uri in &public {
        // As a verifier's script and as a browser opening the link.
        for accept in [None, Some(common::BROWSER_ACCEPT)] {
            let mut req = Request::get(uri.as_str())
                .header(origin.0, origin.1)
                .header(header::AUTHORIZATION, format!("Bearer {}", app.token));
            if let Some(a) = accept {
                req = req.header(header::ACCEPT, a);
            }
            let r = app.send(req.body(Body::empty()).unwrap()).await;
            let what = format!("GET {uri} (Accept {accept:?})");
            assert_eq!(r.status, 200, "{what}: {}", r.text);
            check_common(&what, &r);
            assert_eq!(r.headers["access-control-allow-origin"], "*", "{what}");
        }
    }
    for uri in &private {
        let req = Request::get(uri.as_str())
            .header(origin.0, origin.1)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .body(Body::empty())
            .unwrap();
        let r = app.send(req).await;
        let what = format!("GET {uri}");
        assert!(
            r.status == 200 || uri == "/no-such-page",
            "{what}: {}",
            r.text
        );
        check_common(&what, &r);
        assert!(cors_headers(&r).is_empty(), "{what}: {:?}", r.headers);
    }

    // The embed page may be framed, by the sites the setting names only.
    let r = app.page("/registry/embed").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(!r.headers.contains_key("x-frame-options"));
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains(&format!("frame-ancestors {FRAMERS};"))
            && !csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    // Writes and preflights for anything but reading: no CORS, wherever they go.
    let writes = [
        (Method::POST, "/verify", None),
        (Method::POST, "/api/v1/mentors", None),
        (Method::OPTIONS, "/api/v1/mentors", Some("POST")),
        (Method::OPTIONS, "/verify", Some("POST")),
        (Method::OPTIONS, "/registry.json", Some("POST")),
        (Method::OPTIONS, "/registry.json", Some("DELETE")),
        (Method::OPTIONS, "/issuer", Some("PUT")),
        (Method::DELETE, "/issuer", None),
    ];
    for (method, uri, wanted) in writes {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(origin.0, origin.1)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(m) = wanted {
            req = req.header("access-control-request-method", m);
        }
        let r = app.send(req.body(Body::from("{}")).unwrap()).await;
        let what = format!("{method} {uri} (preflight for {wanted:?})");
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{what}");
        assert!(cors_headers(&r).is_empty(), "{what}: {:?}", r.headers);
    }
    // A preflight for reading a registry feed is answered (with conditional headers).
    let req = Request::builder()
        .method(Method::OPTIONS)
        .uri("/registry.json")
        .header(origin.0, origin.1)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "if-none-match")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(
        r.headers["access-control-allow-origin"], "*",
        "{:?}",
        r.headers
    );
}
both_backends!(
    security_and_cors_headers,
    crate::headers_on_every_route,
    ["--registry-frame-ancestors", crate::FRAMERS]
);
