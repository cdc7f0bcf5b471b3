//! The registry embed in a real browser: a page served from **another origin** (a second
//! port) embeds `/embed.js` and an `/registry/embed` iframe; headless Chromium (Debian
//! `chromium`, driven by `playwright-core`, tests/browser/registry.mjs) shows the listed
//! people, drops a revoked one after a reload, renders a hostile name as text (no dialog,
//! no injected image) and keeps page and embed styles apart. Screenshots go to
//! `target/browser-screenshots/registry-embed-*.png`.
//!
//! Outside CI the test is skipped, with the reason printed, when Node.js or Chromium is
//! missing; under `CI=true` that is a failure.

mod common;

use std::path::Path;
use std::process::Stdio;

use axum::response::Html;
use axum::routing::get;
use common::TestApp;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

const XSS: &str = "<img src=x onerror=alert(1)>";

/// The third-party page: its own aggressive styles, the script embed and the iframe embed.
fn host_page(service: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>A partner's site</title>
<style>
body {{ font-size: 40px; color: rgb(0, 0, 128); font-family: serif; }}
li {{ color: rgb(255, 0, 0) !important; font-size: 40px !important; }}
.page-note {{ margin-top: 7px; }}
</style>
</head>
<body>
<h1>Our certified partners</h1>
<p class="page-note">This page is served from another origin.</p>
<div data-partnership-registry data-limit="10"></div>
<iframe src="{service}/registry/embed" title="Partnership certified people" width="600" height="400"></iframe>
<script src="{service}/embed.js" async></script>
</body>
</html>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embed_shows_listed_people_from_another_origin() {
    if !common::browser_ready() {
        return;
    }
    // The service.
    let (app, served) =
        common::serve_on_port(async |b: &str| Some(TestApp::sqlite_with_base(b).await))
            .await
            .expect("SQLite always starts");
    let base = served.base.clone();
    // The third-party site, on a second port: another origin.
    let host_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host_url = format!("http://{}/", host_listener.local_addr().unwrap());
    let page = host_page(&base);
    let host = tokio::spawn(async move {
        let site = axum::Router::new().route("/", get(move || async move { Html(page) }));
        axum::serve(host_listener, site).await
    });

    app.certified_person("Ada Lovelace", "France", true).await;
    app.certified_person(XSS, "France", true).await;
    let (_, bo_cert) = app.certified_person("Bo Revoked", "Wales", true).await;
    app.certified_person("Cy Hidden", "France", false).await;

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    let mut child = tokio::process::Command::new("node")
        .arg(common::tests_dir("browser").join("registry.mjs"))
        .arg("--url")
        .arg(&host_url)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_report = async || -> Value {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the browser script ended early");
            if line.trim_start().starts_with('{') {
                return serde_json::from_str(&line).unwrap();
            }
            eprintln!("browser: {line}");
        }
    };

    let first = next_report().await;
    eprintln!("first view: {first:#}");
    let names: Vec<&str> = first["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["<img src=x onerror=alert(1)>", "Ada Lovelace", "Bo Revoked"],
        "{first:#}"
    );
    assert_eq!(first["shadow"], true);
    assert_eq!(first["list"], true);
    assert_eq!(
        first["lightDomChildren"], 0,
        "nothing rendered into the page's own DOM"
    );
    assert_eq!(first["dialogs"], json!([]), "the hostile name must not run");
    assert_eq!(first["injectedImages"], 0);
    assert_eq!(first["pwned"], false);
    for link in first["links"].as_array().unwrap() {
        assert!(link
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/credentials/")));
    }
    assert!(first["linkNames"][1]
        .as_str()
        .unwrap()
        .contains("Ada Lovelace"));
    // Styles isolated both ways.
    assert_ne!(
        first["itemColor"], "rgb(255, 0, 0)",
        "page CSS leaked into the embed"
    );
    assert_ne!(
        first["itemFontSize"], "40px",
        "page font size leaked into the embed"
    );
    assert_eq!(
        first["outsideMargin"], "7px",
        "embed CSS leaked into the page"
    );
    // The iframe embed (frame-ancestors allows it by default).
    let frame = first["frameText"].as_str().expect("iframe embed loaded");
    assert!(
        frame.contains("Ada Lovelace") && frame.contains(XSS),
        "{frame}"
    );
    assert!(!frame.contains("Cy Hidden"));
    assert_eq!(first["consoleErrors"], json!([]), "{first:#}");
    assert_eq!(first["failedRequests"], json!([]), "{first:#}");

    // Revoke Bo; a reload drops him (the browser revalidates: Cache-Control no-cache).
    let r = app
        .post(
            &format!("/api/v1/credentials/{bo_cert}/revoke"),
            json!({"reason": "left the program"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    stdin.write_all(b"reload\n").await.unwrap();
    let second = next_report().await;
    eprintln!("after revoking and reloading: {second:#}");
    let names: Vec<&str> = second["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names, ["<img src=x onerror=alert(1)>", "Ada Lovelace"]);
    assert!(!second["frameText"].as_str().unwrap().contains("Bo Revoked"));
    assert_eq!(second["dialogs"], json!([]));
    for n in 1..=2 {
        assert!(out.join(format!("registry-embed-{n}.png")).exists());
    }

    stdin.write_all(b"quit\n").await.unwrap();
    drop(stdin);
    assert!(child.wait().await.unwrap().success());
    host.abort();
    served.shutdown().await;
    app.cleanup().await;
}
