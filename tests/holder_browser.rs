//! The holder's journey in a real browser, from the mail to the page: the service runs on a
//! real loopback port and sends its mail over SMTP to the test sink (`common::smtp`);
//! awarding Partnership Closed and Partnership Certified sends two messages, and headless
//! Chromium (Debian `chromium`, driven by `playwright-core`, tests/browser/holder.mjs) opens
//! the sign-in link one of them carries.
//!
//! It proves that the emailed link signs the holder in and lands on `/me`, which shows both
//! badges; that "Add to wallet" shows the wallet panel (a QR code of the exchange's
//! interaction URL, which names the VC-API exchange, and the wallet's deep link); that
//! "I agree" lists them in `/registry.json` and in the `/registry/embed` page at
//! once and "Withdraw" takes them off both on the next request; that a browser without the
//! session sees only the sign-in form; that `/me/login` gives the same visible answer for a
//! holder's address and a stranger's while only the holder gets a message (and its link
//! works); that the used link, opened again, is a clear 410 page that signs nobody in; and
//! that no page of the journey breaks the Content Security Policy (a probe shows the
//! violation listener works). The screenshots of `/me` and of the wallet panel are
//! `target/browser-screenshots/holder-me.png` and `wallet-panel.png`.
//!
//! Outside CI the test is skipped, with the reason printed, when Node.js, Chromium or the
//! SMTP sink's Python is missing; under `CI=true` that is a failure.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::smtp::{Mail, SinkOptions, SmtpSink};
use common::TestApp;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const NAME: &str = "Grace Hopper";
const HOLDER: &str = "grace.hopper@example.org";
const STRANGER: &str = "nobody.at.all@example.org";
/// How long a message to the stranger is waited for (none may come).
const QUIET: Duration = Duration::from_secs(2);
/// How long a message the service should send may take.
const MAIL_WAIT: Duration = Duration::from_secs(20);

/// The sign-in links in a message's plain-text part: `{base}/me/sign-in?token=` and a
/// 43-character token.
fn sign_in_links(base: &str, mail: &Mail) -> Vec<String> {
    let text = mail.text.as_deref().expect("a plain-text part");
    let prefix = format!("{base}/me/sign-in?token=");
    text.match_indices(&prefix)
        .map(|(at, _)| {
            let token: String = text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            assert_eq!(token.len(), 43, "a cut-short token in {text}");
            format!("{prefix}{token}")
        })
        .collect()
}

/// The one sign-in link of a message, also in its HTML part.
fn the_link(base: &str, mail: &Mail) -> String {
    let links = sign_in_links(base, mail);
    assert_eq!(links.len(), 1, "one sign-in link in {:?}", mail.text);
    let html = mail.html.as_deref().expect("an HTML part");
    assert!(
        html.contains(&links[0]),
        "the HTML part links it too: {html}"
    );
    links.into_iter().next().unwrap()
}

/// The names `/registry.json` lists now.
async fn registry_names(app: &TestApp) -> Vec<String> {
    let r = app.public_get("/registry.json", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_signs_in_from_the_mail_and_chooses_the_registry() {
    if !common::browser_ready() {
        return;
    }
    let Some(sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    let started = Instant::now();
    let smtp = sink.url();
    // `serve` runs the mail sender beside the server; the base is the real port's URL, so
    // the links in the mail lead back to this server.
    let (app, served) = common::serve_on_port(async |b: &str| {
        let extra = ["--smtp-url", smtp.as_str(), "--mail-poll-ms", "50"];
        Some(TestApp::sqlite_with_args(b, &extra).await)
    })
    .await
    .expect("SQLite always starts");
    let base = served.base.clone();

    // A holder who has not agreed to the registry yet, with both badges.
    let mentor = app.mentor("Maya Mentor", "maya.mentor@example.org").await;
    let r = app
        .post(
            "/api/v1/people",
            json!({"name": NAME, "email": HOLDER, "city": "Lyon", "country": "France",
                   "listed_in_registry": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let person = r.body["id"].as_str().unwrap().to_owned();
    let closing = app.closing(&person, &mentor).await;
    let r = app
        .issue("partnership-closed", &person, Some(&closing))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Two messages, one per badge, each with its own one-use link.
    let mail = sink.wait_for_async(2, MAIL_WAIT).await;
    assert_eq!(mail.len(), 2, "{mail:#?}");
    let mut subjects: Vec<&str> = mail.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "You have earned the Partnership Certified badge",
            "You have earned the Partnership Closed badge"
        ]
    );
    for m in &mail {
        assert_eq!(m.to, [HOLDER]);
        assert_eq!(m.envelope_to, [HOLDER]);
    }
    let link = the_link(&base, &mail[0]);
    assert_ne!(
        link,
        the_link(&base, &mail[1]),
        "every message brings a new link"
    );
    assert!(!registry_names(&app).await.contains(&NAME.to_owned()));

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    let _ = std::fs::remove_file(out.join("holder-me.png"));
    let mut child = tokio::process::Command::new("node")
        .arg(common::tests_dir("browser").join("holder.mjs"))
        .args(["--base", &base, "--link", &link])
        .args(["--holder", HOLDER, "--stranger", STRANGER])
        .arg("--out")
        .arg(&out)
        .env("CHROMIUM_PATH", common::chromium_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_report = async |step: &str| -> Value {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the browser script ended before step {step}"));
            if line.trim_start().starts_with('{') {
                let report: Value = serde_json::from_str(&line).unwrap();
                eprintln!(
                    "{step} ({:.1} s): {report:#}",
                    started.elapsed().as_secs_f64()
                );
                assert_eq!(report["step"], step, "{report:#}");
                return report;
            }
            eprintln!("browser: {line}");
        }
    };

    // The emailed link: a 303 to /me, signed in by an HttpOnly session cookie.
    let signed_in = next_report("signed-in").await;
    assert_eq!(signed_in["status"], 200, "{signed_in:#}");
    assert_eq!(signed_in["url"], format!("{base}/me"));
    assert_eq!(signed_in["redirectedFrom"], link.as_str());
    assert_eq!(signed_in["redirectStatus"], 303);
    assert_eq!(signed_in["cacheControl"], "no-store");
    assert!(signed_in["csp"]
        .as_str()
        .unwrap()
        .contains("script-src 'self'"));
    assert_eq!(
        signed_in["h1"],
        format!("Your badges, {NAME}"),
        "{signed_in:#}"
    );
    // Newest first.
    // Both badges (issued within one second, so in no particular order between them).
    let mut badges = strings(&signed_in["badges"]);
    badges.sort_unstable();
    assert_eq!(badges, ["Partnership Certified", "Partnership Closed"]);
    assert_eq!(strings(&signed_in["statuses"]), ["Valid", "Valid"]);
    for share in strings(&signed_in["shareLinks"]) {
        assert!(
            share.starts_with(&format!("{base}/credentials/")),
            "{share}"
        );
    }
    assert_eq!(signed_in["linkedin"], 2);
    for image in signed_in["images"].as_array().unwrap() {
        assert_eq!(image["loaded"], true, "a badge image did not load: {image}");
    }
    assert_eq!(signed_in["images"].as_array().unwrap().len(), 2);
    assert_eq!(signed_in["dataLink"], 1);
    assert_eq!(signed_in["signOut"], 1);
    assert!(signed_in["registryChoice"]
        .as_str()
        .unwrap()
        .starts_with("You are not listed."));
    assert_eq!(signed_in["consentButton"], 1);
    assert_eq!(signed_in["withdrawButton"], 0);
    let session = signed_in["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "pb_holder")
        .unwrap_or_else(|| panic!("no session cookie: {signed_in:#}"));
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Lax");
    assert!(!strings(&signed_in["registry"]["names"]).contains(&NAME));
    assert!(out.join("holder-me.png").exists());

    // "Add to wallet": the panel with the QR code of the wallet link and the wallet's app link,
    // for an exchange the holder opened for one of their own badges.
    let wallet = next_report("wallet").await;
    assert_eq!(wallet["url"], format!("{base}/me/wallet"), "{wallet:#}");
    assert!(
        wallet["h1"]
            .as_str()
            .unwrap()
            .starts_with("Add “Partnership"),
        "{wallet:#}"
    );
    let qr = &wallet["qr"][0];
    assert!(qr["width"].as_f64().unwrap() >= 200.0, "{wallet:#}");
    assert_eq!(qr["width"], qr["height"], "{wallet:#}");
    let wallet_url = wallet["walletUrl"].as_str().unwrap();
    assert!(
        wallet_url.starts_with(&format!("{base}/exchanges/")),
        "{wallet_url}"
    );
    assert!(wallet_url.ends_with("?iuv=1"), "{wallet_url}");
    assert!(wallet["appLink"]
        .as_str()
        .unwrap()
        .starts_with("dccrequest://request?request="));
    assert_eq!(wallet["requestButton"], 1);
    let exchange = wallet_url.strip_prefix(&base).unwrap();
    let r = app.get(exchange).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(
        r.body["protocols"]["vcapi"],
        wallet_url.strip_suffix("?iuv=1").unwrap()
    );
    assert!(Path::new(wallet["screenshot"].as_str().unwrap()).exists());
    // The fallback panel: the wallet's credential-request link, in the QR code and the button.
    let request = next_report("wallet-request").await;
    assert_eq!(request["qr"], 1, "{request:#}");
    let link = request["walletUrl"].as_str().unwrap();
    assert!(link.starts_with("dccrequest://request?issuer="), "{link}");
    assert!(link.contains("auth_type=bearer"), "{link}");
    assert_eq!(request["appLink"], link);
    assert_eq!(request["requestButton"], 0);

    // "I agree": listed at once, in the JSON and in the embed.
    let consented = next_report("consented").await;
    assert_eq!(
        consented["notice"],
        "You are now listed in the public registry."
    );
    assert!(consented["registryChoice"]
        .as_str()
        .unwrap()
        .starts_with("You are listed"));
    assert_eq!(consented["withdrawButton"], 1);
    assert_eq!(consented["consentButton"], 0);
    assert_eq!(consented["registry"]["status"], 200);
    assert_eq!(strings(&consented["registry"]["names"]), [NAME]);
    assert_eq!(consented["embed"]["status"], 200);
    assert_eq!(strings(&consented["embed"]["names"]), [NAME]);
    assert!(consented["embed"]["text"].as_str().unwrap().contains(NAME));
    assert_eq!(registry_names(&app).await, [NAME]);

    // Withdrawn: gone from both on the next request.
    let withdrawn = next_report("withdrawn").await;
    assert_eq!(
        withdrawn["notice"],
        "You are no longer listed in the public registry."
    );
    assert!(withdrawn["registryChoice"]
        .as_str()
        .unwrap()
        .starts_with("You are not listed."));
    assert_eq!(withdrawn["consentButton"], 1);
    assert_eq!(withdrawn["registry"]["names"], json!([]));
    assert_eq!(withdrawn["embed"]["status"], 200);
    assert_eq!(withdrawn["embed"]["names"], json!([]));
    assert!(!withdrawn["embed"]["text"].as_str().unwrap().contains(NAME));
    assert!(registry_names(&app).await.is_empty());

    // Another browser, without the session: the sign-in form and nothing of the holder.
    let signed_out = next_report("signed-out").await;
    assert_eq!(signed_out["status"], 200);
    assert_eq!(signed_out["url"], format!("{base}/me"));
    assert_eq!(signed_out["h1"], "Sign in to your badges");
    assert_eq!(signed_out["emailField"], 1);
    assert_eq!(signed_out["badges"], 0);
    assert_eq!(signed_out["consentForms"], 0);
    assert_eq!(signed_out["sessionCookies"], 0);
    let main = signed_out["main"].as_str().unwrap();
    for secret in [NAME, "Partnership Closed", "Partnership Certified", HOLDER] {
        assert!(
            !main.contains(secret),
            "{secret:?} shown signed out: {main}"
        );
    }

    // /me/login: the same answer for the holder and a stranger...
    let login = next_report("login").await;
    let asked = Instant::now();
    let (holder, stranger) = (&login["holder"], &login["stranger"]);
    assert_eq!(holder["formStatus"], 200);
    assert_eq!(holder["status"], 200, "{login:#}");
    assert_eq!(holder["h1"], "Check your email");
    assert!(holder["message"]
        .as_str()
        .unwrap()
        .starts_with("If this address belongs to a badge holder"));
    assert_eq!(holder["forms"], 0);
    for field in ["status", "h1", "message", "main", "title", "forms"] {
        assert_eq!(holder[field], stranger[field], "{field} differs: {login:#}");
    }
    // ...but only the holder gets a message, whose link works.
    let mail = sink.wait_for_async(3, MAIL_WAIT).await;
    let sign_in = &mail[2];
    assert_eq!(sign_in.envelope_to, [HOLDER], "{mail:#?}");
    assert!(
        sign_in.subject.starts_with("Your sign-in link"),
        "{}",
        sign_in.subject
    );
    let fresh = the_link(&base, sign_in);
    assert_ne!(fresh, link);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(&fresh)
        .header("accept", common::BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the new link signs in");
    assert_eq!(r.headers()["location"], "/me");
    let quiet_until = asked + QUIET;
    tokio::time::sleep_until(quiet_until.into()).await;
    let mail = sink.messages();
    assert!(
        mail.iter()
            .all(|m| !m.envelope_to.iter().any(|to| to == STRANGER)),
        "the stranger got mail: {mail:#?}"
    );
    assert_eq!(mail.len(), 3, "{mail:#?}");

    // The used link again, in the other browser: a clear 410 page, and still signed out.
    let reused = next_report("reused").await;
    assert_eq!(reused["status"], 410, "{reused:#}");
    assert_eq!(reused["h1"], "This link does not sign you in");
    assert!(
        reused["message"]
            .as_str()
            .unwrap()
            .contains("has been used already"),
        "{reused:#}"
    );
    assert!(reused["main"].as_str().unwrap().contains("HTTP status 410"));
    assert_eq!(reused["emailField"], 1, "a new link can be asked for there");
    assert_eq!(reused["afterwards"]["h1"], "Sign in to your badges");
    assert_eq!(reused["afterwards"]["badges"], 0);
    assert_eq!(reused["sessionCookies"], 0);

    // The CSP listener catches a violation (an inline script)...
    let probe = next_report("csp-probe").await;
    assert_eq!(probe["inlineRan"], false, "{probe:#}");
    assert!(
        probe["csp"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["directive"].as_str().unwrap().starts_with("script-src")),
        "{probe:#}"
    );
    assert!(
        strings(&probe["consoleErrors"])
            .iter()
            .any(|e| e.contains("Content Security Policy")),
        "{probe:#}"
    );
    // ...and the journey had none, nor any other error.
    let done = next_report("done").await;
    assert_eq!(done["csp"], json!([]), "{done:#}");
    assert_eq!(done["consoleErrors"], json!([]), "{done:#}");
    assert_eq!(
        done["failedRequests"],
        json!(["410 /me/sign-in"]),
        "{done:#}"
    );

    assert!(child.wait().await.unwrap().success());
    eprintln!("holder journey: {:.1} s", started.elapsed().as_secs_f64());
    served.shutdown().await;
    app.cleanup().await;
    sink.stop();
}
