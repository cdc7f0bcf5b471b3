//! The holder's side on both databases, with a real SMTP server (aiosmtpd, started by the
//! test) and the service's own sender task: one message per badge, each with the right badge
//! and a link that opens the holder's page; `notify: false` sends none; a batch of 200 sends
//! 200; refusals for now are retried until accepted, permanent ones end `failed` and listed;
//! revocations say why. Then the holder's page itself: links used once, expired, malformed
//! or unknown; forged sessions; forms without their CSRF token; consent given and withdrawn
//! (and an admin refused relisting after a withdrawal); `/me/login` answering alike;
//! erasure; export; and `.eml` files when no SMTP server is set.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::smtp::{Mail, SinkOptions, SmtpSink};
use common::{Res, TestApp, BASE};
use serde_json::{json, Value};

/// Runs `body` on SQLite and on PostgreSQL, each with its own sink and the mail sender
/// running (short poll and retry times).
macro_rules! with_mail {
    ($name:ident, $body:path) => {
        with_mail!($name, $body, SinkOptions::default());
    };
    ($name:ident, $body:path, $opts:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(sink) = SmtpSink::start($opts) else {
                    return;
                };
                let app = TestApp::sqlite_with_args(BASE, &mail_args(&sink)).await;
                start_sender(&app);
                $body(&app, &sink).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(sink) = SmtpSink::start($opts) else {
                    return;
                };
                let Some(app) = TestApp::postgres_with_args(BASE, &mail_args(&sink)).await else {
                    return;
                };
                start_sender(&app);
                $body(&app, &sink).await;
                app.cleanup().await;
            }
        }
    };
}

fn mail_args(sink: &SmtpSink) -> Vec<&'static str> {
    let url: &'static str = Box::leak(sink.url().into_boxed_str());
    vec![
        "--smtp-url",
        url,
        "--mail-poll-ms",
        "50",
        "--mail-retry-base-ms",
        "100",
        "--mail-max-attempts",
        "4",
        "--mail-lease-secs",
        "30",
    ]
}

fn start_sender(app: &TestApp) {
    partnership_badges::mail::sender::spawn(app.state.clone(), std::future::pending())
        .expect("the sender starts");
}

const WAIT: Duration = Duration::from_secs(30);

fn to<'a>(mails: &'a [Mail], address: &str) -> Vec<&'a Mail> {
    mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .collect()
}

/// The sign-in link a message carries.
fn link(mail: &Mail) -> String {
    let text = mail.text.as_deref().expect("a text part");
    let start = text
        .find(&format!("{BASE}/me/sign-in?token="))
        .unwrap_or_else(|| panic!("no sign-in link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// A request from a browser (HTML wanted), with a cookie header if any.
fn browser(method: Method, uri: &str, cookie: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b
}

async fn open(app: &TestApp, uri: &str, cookie: Option<&str>) -> Res {
    app.send(
        browser(Method::GET, uri, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn post_form(app: &TestApp, uri: &str, cookie: Option<&str>, form: &str) -> Res {
    app.send(
        browser(Method::POST, uri, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap(),
    )
    .await
}

/// Opens an emailed link; returns the session cookie (`name=value`) it set.
async fn sign_in(app: &TestApp, link: &str) -> String {
    let path = link.strip_prefix(BASE).unwrap();
    let r = open(app, path, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.headers[header::LOCATION], "/me");
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

/// The CSRF token in a page's forms.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

async fn notifications(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/notifications{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

/// Waits until the outbox has no queued message.
async fn drained(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if notifications(app, "?status=queued").await.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "messages still queued: {:#?}",
            notifications(app, "?status=queued").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------- messages

async fn two_badges_two_messages(app: &TestApp, sink: &SmtpSink) {
    let email = "ada@example.org";
    let (person, _, closed) = app.closed_person(email).await;
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let certified = r.body["id"].as_str().unwrap().to_owned();
    let mails = sink.wait_for_async(2, WAIT).await;
    let mine = to(&mails, email);
    assert_eq!(mine.len(), 2, "{mails:#?}");
    for (mail, (name, id)) in mine.iter().zip([
        ("Partnership Closed", &closed),
        ("Partnership Certified", &certified),
    ]) {
        assert_eq!(mail.subject, format!("You have earned the {name} badge"));
        assert_eq!(mail.content_type, "multipart/alternative");
        let text = mail.text.as_deref().unwrap();
        let html = mail.html.as_deref().unwrap();
        assert!(text.contains(&format!("{BASE}/credentials/{id}")), "{text}");
        assert!(text.contains("Partnership Training Program"), "{text}");
        assert!(
            html.contains(&format!("src=\"{BASE}/credentials/{id}/badge.png\"")),
            "{html}"
        );
        assert!(
            mail.message_id.ends_with("@badges.test"),
            "{}",
            mail.message_id
        );
    }
    // Each message's own link opens the holder's page, once.
    for mail in &mine {
        let cookie = sign_in(app, &link(mail)).await;
        let page = open(app, "/me", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text.contains("Your badges, Ada Closer"),
            "{}",
            page.text
        );
        assert!(
            page.text.contains("Partnership Closed") && page.text.contains("Partnership Certified")
        );
        assert!(page.text.contains("Add to LinkedIn profile"));
        assert!(page
            .text
            .contains(&format!("/credentials/{closed}/badge.png")));
    }
    let again = open(app, link(mine[0]).strip_prefix(BASE).unwrap(), None).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text);
    assert!(again.text.contains("used already"), "{}", again.text);

    // `notify: false` queues nothing.
    let mentor = app.mentor("Mo Mentor", "mo.mentor@example.org").await;
    let closing = app.closing(&person, &mentor).await;
    let r = app
        .post(
            "/api/v1/credentials",
            json!({"achievement": "partnership-closed", "person_id": person,
                   "closing_id": closing, "notify": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(app.count("outbox").await, 2);
    drained(app).await;
    assert_eq!(sink.messages().len(), 2);
    let sent = notifications(app, "?status=sent").await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let ids: Vec<String> = mine.iter().map(|m| format!("<{}>", m.message_id)).collect();
    for n in &sent {
        assert!(
            ids.contains(&n["message_id"].as_str().unwrap().to_owned()),
            "{n}"
        );
    }
}
with_mail!(two_badges_two_messages_on, crate::two_badges_two_messages);

async fn batch_of_200(app: &TestApp, sink: &SmtpSink) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let mut items = Vec::new();
    for i in 0..200 {
        let person = app
            .post(
                "/api/v1/people",
                json!({"name": format!("Person {i}"), "email": format!("p{i}@example.org"),
                       "listed_in_registry": false}),
            )
            .await;
        let person = person.body["id"].as_str().unwrap().to_owned();
        let closing = app.closing(&person, &mentor).await;
        items.push(
            json!({"achievement": "partnership-closed", "person_id": person,
                          "closing_id": closing}),
        );
    }
    let r = app
        .post("/api/v1/credentials/batch", json!({"items": items}))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let mails = sink.wait_for_async(200, Duration::from_secs(60)).await;
    assert_eq!(mails.len(), 200);
    for i in 0..200 {
        assert_eq!(to(&mails, &format!("p{i}@example.org")).len(), 1, "p{i}");
    }
    drained(app).await;
    assert_eq!(sink.messages().len(), 200, "no message twice");
}
with_mail!(batch_of_200_on, crate::batch_of_200);

async fn refused_for_now_then_accepted(app: &TestApp, sink: &SmtpSink) {
    let (_, _, id) = app.closed_person("bo@example.org").await;
    let mails = sink.wait_for_async(1, WAIT).await;
    assert_eq!(to(&mails, "bo@example.org").len(), 1);
    drained(app).await;
    let sent = notifications(app, "?status=sent").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["credential_id"], json!(id));
    // Refused twice (451), accepted on the third attempt.
    assert_eq!(sent[0]["attempts"], 3, "{:#}", sent[0]);
}
with_mail!(
    refused_for_now_then_accepted_on,
    crate::refused_for_now_then_accepted,
    SinkOptions {
        tempfail_first: 2,
        ..Default::default()
    }
);

async fn refused_for_good(app: &TestApp, sink: &SmtpSink) {
    app.closed_person("gone@example.org").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let failed = loop {
        let failed = notifications(app, "?status=failed").await;
        if !failed.is_empty() {
            break failed;
        }
        assert!(tokio::time::Instant::now() < deadline, "never failed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed.len(), 1);
    let error = failed[0]["last_error"].as_str().unwrap();
    assert!(error.contains("550"), "{error}");
    // A 5xx is final: no more attempts were made.
    assert_eq!(failed[0]["attempts"], 1);
    assert!(sink.messages().is_empty());
    // Retrying queues it again; the server refuses it again.
    let id = failed[0]["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/notifications/{id}/retry"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "queued", "{}", r.text);
    assert_eq!(r.body["attempts"], 0, "{}", r.text);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let r = app.get("/api/v1/notifications?status=failed").await;
        let item = &r.body["items"][0];
        if item["attempts"] == 1
            && item["status"] == "failed"
            && r.body["items"].as_array().unwrap().len() == 1
        {
            // Failed again after the retry (the count restarted at zero).
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", r.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = app.get("/api/v1/notifications?status=nonsense").await;
    r.assert_problem(400, "status must be queued, sent or failed");
    let r = app
        .post(
            "/api/v1/notifications/00000000-0000-4000-8000-000000000000/retry",
            json!({}),
        )
        .await;
    r.assert_problem(404, "no notification");
}
with_mail!(
    refused_for_good_on,
    crate::refused_for_good,
    SinkOptions {
        reject: vec!["gone@example.org".into()],
        ..Default::default()
    }
);

async fn revocations_say_why(app: &TestApp, sink: &SmtpSink) {
    let (person, _, id) = app.closed_person("cy@example.org").await;
    sink.wait_for_async(1, WAIT).await;
    let r = app
        .post(
            &format!("/api/v1/credentials/{id}/revoke"),
            json!({"reason": "closing entered in error"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mails = sink.wait_for_async(2, WAIT).await;
    let revoked = &mails[1];
    assert_eq!(revoked.subject, "Your Partnership Closed badge was revoked");
    assert!(revoked
        .text
        .as_deref()
        .unwrap()
        .contains("closing entered in error"));
    // Repeating the revocation sends nothing more; a silent one sends nothing.
    let r = app
        .post(
            &format!("/api/v1/credentials/{id}/revoke"),
            json!({"reason": "closing entered in error"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mentor = app.mentor("Mo Mentor", "mo.mentor@example.org").await;
    let closing = app.closing(&person, &mentor).await;
    let r = app
        .post(
            "/api/v1/credentials",
            json!({"achievement": "partnership-closed", "person_id": person,
                   "closing_id": closing, "notify": false}),
        )
        .await;
    let second = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/credentials/{second}/revoke"),
            json!({"reason": "quietly", "notify": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    drained(app).await;
    assert_eq!(app.count("outbox").await, 2);
    assert_eq!(sink.messages().len(), 2);
}
with_mail!(revocations_say_why_on, crate::revocations_say_why);

// ---------------------------------------------------------------- the holder's page

async fn person_json(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/people/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn listed_names(app: &TestApp) -> Vec<String> {
    let r = app.public_get("/registry.json", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn consent_and_bad_input(app: &TestApp, sink: &SmtpSink) {
    // A certified person whom no one listed.
    let (person, _) = app.certified_person("Dee Holder", "France", false).await;
    let mails = sink.wait_for_async(2, WAIT).await;
    let cookie = sign_in(app, &link(&mails[1])).await;
    let page = open(app, "/me", Some(&cookie)).await;
    assert!(page.text.contains("You are not listed."), "{}", page.text);
    // Exactly what would be published, and where.
    for shown in [
        "Dee Holder",
        "Lyon",
        "France",
        "Partnerships closed",
        "/registry.json",
        "webmaker.org",
    ] {
        assert!(page.text.contains(shown), "{shown} missing");
    }
    let token = csrf(&page.text);
    assert!(!listed_names(app).await.contains(&"Dee Holder".to_owned()));

    // Forms without (or with a wrong) CSRF token change nothing.
    for form in [
        "choice=give",
        "choice=give&csrf=0000",
        &format!("choice=give&csrf={}x", token),
    ] {
        let r = post_form(app, "/me/consent", Some(&cookie), form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{form}: {}", r.text);
    }
    // Not a form; an unknown choice; no session.
    let r = app
        .send(
            browser(Method::POST, "/me/consent", Some(&cookie))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = post_form(
        app,
        "/me/consent",
        Some(&cookie),
        &format!("choice=maybe&csrf={token}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_form(
        app,
        "/me/consent",
        None,
        &format!("choice=give&csrf={token}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(person_json(app, &person).await["listed_in_registry"], false);

    // Consent: listed at once, with who, when and which text.
    let r = post_form(
        app,
        "/me/consent",
        Some(&cookie),
        &format!("choice=give&csrf={token}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let p = person_json(app, &person).await;
    assert_eq!(p["listed_in_registry"], true);
    assert_eq!(p["consent_by"], "holder");
    assert!(
        p["consent_version"].is_string() && p["consent_at"].is_string(),
        "{p}"
    );
    assert!(listed_names(app).await.contains(&"Dee Holder".to_owned()));
    let embed = app.public_get("/registry/embed", &[]).await;
    assert!(embed.text.contains("Dee Holder"));

    // Withdrawal: gone on the next request; an admin cannot relist.
    let page = open(app, "/me", Some(&cookie)).await;
    assert!(page.text.contains("You are listed"), "{}", page.text);
    let r = post_form(
        app,
        "/me/consent",
        Some(&cookie),
        &format!("choice=withdraw&csrf={token}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!listed_names(app).await.contains(&"Dee Holder".to_owned()));
    assert!(!app
        .public_get("/registry/embed", &[])
        .await
        .text
        .contains("Dee Holder"));
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/people/{person}"),
            Some(json!({"listed_in_registry": true, "consent_source": "phone call"})),
            Some(&app.token),
        )
        .await;
    r.assert_problem(409, "only they can list themselves again");
    assert_eq!(person_json(app, &person).await["listed_in_registry"], false);
    // An admin listing needs its source.
    let (other, _) = app.certified_person("Eve Other", "France", false).await;
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/people/{other}"),
            Some(json!({"listed_in_registry": true})),
            Some(&app.token),
        )
        .await;
    r.assert_problem(422, "consent_source is required");

    // The export: the person, the consent history (given, withdrawn), the badges.
    let r = open(app, "/me/data", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let data = &r.body;
    assert_eq!(data["person"]["name"], "Dee Holder");
    let actions: Vec<&str> = data["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["given", "withdrawn"]);
    assert_eq!(data["credentials"].as_array().unwrap().len(), 2);
    assert_eq!(data["closings"].as_array().unwrap().len(), 1);

    // Links: malformed, unknown, used, expired.
    let r = open(app, "/me/sign-in?token=short", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("Email me a sign-in link"),
        "the page offers a new link"
    );
    let unknown = "A".repeat(43);
    let r = open(app, &format!("/me/sign-in?token={unknown}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = open(app, link(&mails[1]).strip_prefix(BASE).unwrap(), None).await;
    assert_eq!(r.status, StatusCode::GONE);
    let past = app.sql_time(chrono::Utc::now() - chrono::Duration::days(1));
    app.exec(&format!(
        "update holder_links set expires_at = '{past}' where used_at is null"
    ))
    .await;
    let r = open(app, link(&mails[0]).strip_prefix(BASE).unwrap(), None).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.text.contains("expired"), "{}", r.text);
    // A client asking for JSON gets problem+json.
    let r = app
        .public_get("/me/sign-in?token=short", &[("accept", "application/json")])
        .await;
    r.assert_problem(400, "not a sign-in link");

    // A forged or ended session sees nothing of the page.
    for forged in [format!("pb_holder={unknown}"), "pb_holder=x".to_owned()] {
        let r = open(app, "/me", Some(&forged)).await;
        assert!(!r.text.contains("Dee Holder"), "{}", r.text);
        assert!(r.text.contains("Email me a sign-in link"));
        let r = open(app, "/me/data", Some(&forged)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = post_form(app, "/me/sign-out", Some(&cookie), &format!("csrf={token}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = open(app, "/me", Some(&cookie)).await;
    assert!(!r.text.contains("Dee Holder"));
}
with_mail!(consent_and_bad_input_on, crate::consent_and_bad_input);

async fn login_answers_alike(app: &TestApp, sink: &SmtpSink) {
    app.closed_person("fay@example.org").await;
    sink.wait_for_async(1, WAIT).await;
    let form = open(app, "/me/login", None).await;
    assert_eq!(form.status, StatusCode::OK);
    let set = form.headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    let token = csrf(&form.text);
    let mut answers = Vec::new();
    for email in ["fay@example.org", "nobody@example.org", "FAY@example.org "] {
        let body = format!("email={}&csrf={token}", email.replace('@', "%40"));
        let r = post_form(app, "/me/login", Some(&cookie), &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        answers.push(r.text);
    }
    assert_eq!(
        answers[0], answers[1],
        "a holder and a stranger get the same page"
    );
    assert_eq!(answers[0], answers[2]);
    sink.wait_for_async(3, WAIT).await;
    drained(app).await;
    let mails = sink.messages();
    assert_eq!(to(&mails, "fay@example.org").len(), 3, "{mails:#?}");
    assert!(to(&mails, "nobody@example.org").is_empty());
    let sign_in_mail = &to(&mails, "fay@example.org")[1];
    assert!(
        sign_in_mail.subject.contains("sign-in link"),
        "{}",
        sign_in_mail.subject
    );
    let session = sign_in(app, &link(sign_in_mail)).await;
    assert!(open(app, "/me", Some(&session))
        .await
        .text
        .contains("Your badges, Ada Closer"));
    // Without its CSRF cookie and token, nothing is sent.
    let r = post_form(app, "/me/login", None, "email=fay%40example.org").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(
        app,
        "/me/login",
        Some(&cookie),
        &format!("email=not-an-email&csrf={token}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    drained(app).await;
    assert_eq!(sink.messages().len(), 3);
}
with_mail!(login_answers_alike_on, crate::login_answers_alike);

async fn erasure(app: &TestApp, sink: &SmtpSink) {
    let (person, _) = app.certified_person("Gus Erased", "France", true).await;
    sink.wait_for_async(2, WAIT).await;
    let mails = sink.messages();
    let cookie = sign_in(app, &link(&mails[0])).await;
    let creds = app
        .get(&format!("/api/v1/credentials?person={person}"))
        .await;
    let mut docs: Vec<Value> = Vec::new();
    for c in creds.body["items"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        docs.push(
            app.public_get(&format!("/credentials/{id}"), &[])
                .await
                .body,
        );
    }
    assert_eq!(docs.len(), 2);
    assert!(listed_names(app).await.contains(&"Gus Erased".to_owned()));
    // A message still queued is dropped with the person.
    app.post(
        "/api/v1/people",
        json!({"name": "X", "email": "x@example.org", "listed_in_registry": false}),
    )
    .await;

    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/people/{person}"),
            None,
            Some(&app.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["revoked_credentials"].as_array().unwrap().len(), 2);
    let p = person_json(app, &person).await;
    assert_eq!(p["name"], "");
    assert!(
        p["email"].as_str().unwrap().ends_with("@erased.invalid"),
        "{p}"
    );
    assert_eq!(p["city"], Value::Null);
    assert!(p["erased_at"].is_string());
    assert!(!listed_names(app).await.contains(&"Gus Erased".to_owned()));
    assert_eq!(app.count("outbox").await, 0, "their messages are dropped");
    // Their session ends; the credentials they shared verify, as revoked.
    assert!(!open(app, "/me", Some(&cookie))
        .await
        .text
        .contains("Gus Erased"));
    for doc in &docs {
        let r = app
            .post_bytes("/verify", "application/json", doc.to_string().into_bytes())
            .await;
        assert_eq!(r.body["verified"], false, "{}", r.text);
        assert_eq!(r.body["checks"]["proof"], "passed");
        assert_eq!(r.body["checks"]["status"], "failed");
        let id = doc["id"].as_str().unwrap().rsplit('/').next().unwrap();
        let rec = app.get(&format!("/api/v1/credentials/{id}")).await;
        assert_eq!(
            rec.body["revocation_reason"],
            "erased at the holder's request"
        );
    }
    // Once is enough; nothing more can be issued to them or changed.
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/people/{person}"),
            None,
            Some(&app.token),
        )
        .await;
    r.assert_problem(404, "already erased");
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/people/{person}"),
            Some(json!({"name": "Back"})),
            Some(&app.token),
        )
        .await;
    r.assert_problem(409, "erased");
    // The audit log has the erasure.
    let audit = app
        .get("/api/v1/audit?action=DELETE%20%2Fapi%2Fv1%2Fpeople%2F%7Bid%7D")
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    assert!(audit.text.contains(&person), "{}", audit.text);
}
with_mail!(erasure_on, crate::erasure);

/// With no SMTP server set, messages are `.eml` files under the outbox directory.
#[tokio::test]
async fn without_smtp_messages_are_files() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let outbox_arg = outbox.to_str().unwrap().to_owned();
    let app =
        TestApp::sqlite_with_args(BASE, &["--outbox-dir", &outbox_arg, "--mail-poll-ms", "50"])
            .await;
    start_sender(&app);
    app.closed_person("hal@example.org").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let file = loop {
        let files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(f) = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "eml"))
        {
            break f.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no .eml file in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let raw = std::fs::read_to_string(&file).unwrap();
    assert!(
        raw.contains("Subject: You have earned the Partnership Closed badge"),
        "{raw}"
    );
    assert!(
        raw.contains("To: \"Ada Closer\" <hal@example.org>")
            || raw.contains("To: Ada Closer <hal@example.org>"),
        "{raw}"
    );
    let id = file.file_stem().unwrap().to_str().unwrap();
    assert!(
        raw.contains(&format!("Message-ID: <{id}@badges.test>")),
        "{raw}"
    );
    drained(&app).await;
}

/// Behind https the cookies are `Secure`, and the session one `__Host-` prefixed.
#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let app = TestApp::sqlite_with_base("https://badges.example.org").await;
    let person = app.person("Ivy Secure", "ivy@example.org").await;
    let token = partnership_badges::holder::new_link(
        &*app.state.store,
        person.parse().unwrap(),
        chrono::Utc::now(),
        30,
    )
    .await
    .unwrap();
    let r = open(&app, &format!("/me/sign-in?token={token}"), None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let set = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("__Host-pb_holder="), "{set}");
    assert!(set.contains("; Secure") && set.contains("Path=/;"), "{set}");
    let session = set.split(';').next().unwrap();
    assert!(open(&app, "/me", Some(session))
        .await
        .text
        .contains("Ivy Secure"));
    // The plain-http name is not accepted behind https.
    let plain = session.replacen("__Host-pb_holder", "pb_holder", 1);
    assert!(!open(&app, "/me", Some(&plain))
        .await
        .text
        .contains("Ivy Secure"));
    let form = open(&app, "/me/login", None).await;
    let set = form.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.starts_with("pb_login_csrf=") && set.contains("; Secure"),
        "{set}"
    );
}

/// "Add to wallet" on `/me`: only for the holder's own valid badges, with the form's CSRF
/// token; it opens an exchange the API lists as the holder's. Erasing the person removes it.
async fn add_to_wallet(app: &TestApp, sink: &SmtpSink) {
    let (person, certified) = app.certified_person("Wren Holder", "France", false).await;
    let (_, _, someone_elses) = app.closed_person("other@example.org").await;
    let mails = sink.wait_for_async(3, WAIT).await;
    let mine: Vec<&Mail> = mails
        .iter()
        .filter(|m| !m.to.iter().any(|t| t.contains("other@")))
        .collect();
    let cookie = sign_in(app, &link(mine[0])).await;
    let page = open(app, "/me", Some(&cookie)).await;
    let token = csrf(&page.text);
    assert!(
        page.text
            .contains(&format!("name=\"credential\" value=\"{certified}\"")),
        "{}",
        page.text
    );

    let add = |credential: &str, csrf: &str| format!("credential={credential}&csrf={csrf}");
    let r = post_form(app, "/me/wallet", Some(&cookie), &add(&certified, &token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"wallet-panel\""), "{}", r.text);
    assert!(r.text.contains("<svg"), "the QR code: {}", r.text);
    assert!(r.text.contains(&format!("{BASE}/exchanges/")), "{}", r.text);
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let listed = app
        .get(&format!("/api/v1/credentials/{certified}/exchanges"))
        .await;
    assert_eq!(
        listed.body["items"][0]["opened_by"], "holder",
        "{}",
        listed.text
    );
    assert_eq!(listed.body["items"][0]["status"], "open");

    // Someone else's badge, or none: not found; without the form's token: nothing opened.
    for other in [someone_elses.as_str(), "not-an-id", ""] {
        let r = post_form(app, "/me/wallet", Some(&cookie), &add(other, &token)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{other}: {}", r.text);
    }
    let r = post_form(app, "/me/wallet", Some(&cookie), &add(&certified, "0000")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = post_form(app, "/me/wallet", None, &add(&certified, &token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let listed = app
        .get(&format!("/api/v1/credentials/{someone_elses}/exchanges"))
        .await;
    assert_eq!(listed.body["items"], json!([]));

    // A revoked badge has no button and is not delivered.
    let r = app
        .post(
            &format!("/api/v1/credentials/{certified}/revoke"),
            json!({"reason": "entered in error", "notify": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = open(app, "/me", Some(&cookie)).await;
    assert!(!page
        .text
        .contains(&format!("name=\"credential\" value=\"{certified}\"")));
    let r = post_form(app, "/me/wallet", Some(&cookie), &add(&certified, &token)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("revoked"), "{}", r.text);

    // Erasure takes the exchanges with the person.
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/people/{person}"),
            None,
            Some(&app.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed = app
        .get(&format!("/api/v1/credentials/{certified}/exchanges"))
        .await;
    assert_eq!(listed.body["items"], json!([]), "{}", listed.text);
}

with_mail!(add_to_wallet_on, crate::add_to_wallet);
