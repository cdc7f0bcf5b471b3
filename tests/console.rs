//! The staff console through its forms, on both databases: accounts and their one-time
//! links, sign-in and its limits, sessions (idle end, sign out everywhere, a password change),
//! roles (a reader sees no award or revoke button and gets 403 when it posts anyway), CSRF,
//! records with errors beside their fields, awarding once under a double submit, revoking
//! with a confirmation, the audit log naming the staff member, and the dashboard's figures
//! equal to the API's.

mod common;

use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use common::console::{self, open, StaffSession, PASSWORD};
use common::TestApp;
use partnership_badges::scopes::Role;
use serde_json::json;

/// The link works once; its session opens the dashboard; signing out ends it; the password
/// then signs in.
async fn accounts_and_sessions(app: &TestApp) {
    let link = console::create_account(app, "Ann@Example.org", Role::Admin).await;
    // Signed out, the console sends the browser to sign in.
    let r = open(app, "/console", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/console/sign-in");
    // A password too short is refused beside its field; the link still works after.
    let token = link.split("token=").nth(1).unwrap();
    let r = console::post_form(
        app,
        "/console/set-password",
        None,
        &console::encode(&[
            ("token", token),
            ("password", "short"),
            ("confirm", "short"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("password must be at least 12 characters"),
        "{}",
        r.text
    );
    let ann = console::set_password(app, &link).await;
    let dash = ann.open(app, "/console").await;
    assert_eq!(dash.status, StatusCode::OK, "{}", dash.text);
    assert!(dash.text.contains("ann@example.org"), "{}", dash.text);
    assert_eq!(dash.headers[header::CACHE_CONTROL], "no-store");
    // Used once: the link is gone.
    let r = open(app, &link, None).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text);
    // A new link (`user link`) replaces an unused one.
    let staff = app
        .state
        .store
        .staff_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    let now = partnership_badges::program::now();
    let first = partnership_badges::staff::new_link(&*app.state.store, staff.id, now)
        .await
        .unwrap();
    let second = partnership_badges::staff::new_link(&*app.state.store, staff.id, now)
        .await
        .unwrap();
    let r = open(app, &format!("/console/set-password?token={first}"), None).await;
    assert_eq!(r.status, StatusCode::GONE, "replaced: {}", r.text);
    let r = open(app, &format!("/console/set-password?token={second}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Sign out: the cookie is cleared and worth nothing.
    let r = ann.submit(app, "/console", "/console/sign-out", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(console::set_cookie(&r, "pb_staff").is_some_and(|c| c == "pb_staff="));
    assert_eq!(
        ann.open(app, "/console").await.status,
        StatusCode::SEE_OTHER
    );
    // The password signs in (the email in any case); the cookie is HttpOnly and Lax.
    let r = console::sign_in(app, "ANN@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let set = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let again = StaffSession {
        cookie: console::set_cookie(&r, "pb_staff").unwrap(),
    };
    assert_eq!(again.open(app, "/console").await.status, StatusCode::OK);
    // An account without a password, and an unknown one, are refused alike.
    console::create_account(app, "new@example.org", Role::Reader).await;
    let r = console::sign_in(app, "new@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r2 = console::sign_in(app, "nobody@example.org", PASSWORD).await;
    assert_eq!(r2.status, StatusCode::UNAUTHORIZED);
    // A sign-in form without its CSRF cookie is refused.
    let r = console::post_form(
        app,
        "/console/sign-in",
        None,
        &console::encode(&[
            ("csrf", "x"),
            ("email", "ann@example.org"),
            ("password", PASSWORD),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}
both_backends!(accounts_and_sessions_on, crate::accounts_and_sessions);

/// "Sign out everywhere" ends the other sessions; a password change ends all but its own;
/// an idle session and one past its end are refused.
async fn sessions_end(app: &TestApp) {
    let link = console::create_account(app, "bo@example.org", Role::Issuer).await;
    let first = console::set_password(app, &link).await;
    let second = StaffSession {
        cookie: console::set_cookie(
            &console::sign_in(app, "bo@example.org", PASSWORD).await,
            "pb_staff",
        )
        .unwrap(),
    };
    // A password change keeps the session that made it and ends the other.
    let new_password = "another long passphrase";
    let r = first
        .submit(
            app,
            "/console/account",
            "/console/password",
            &[
                ("current", PASSWORD),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(first.open(app, "/console").await.status, StatusCode::OK);
    assert_eq!(
        second.open(app, "/console").await.status,
        StatusCode::SEE_OTHER
    );
    // Sign out everywhere: a cookie from before it is refused, even on a form post.
    let third = StaffSession {
        cookie: console::set_cookie(
            &console::sign_in(app, "bo@example.org", new_password).await,
            "pb_staff",
        )
        .unwrap(),
    };
    let page = third.open(app, "/console/account").await;
    let csrf = console::csrf_of(&page.text);
    let r = first
        .submit(app, "/console/account", "/console/sign-out-everywhere", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.open(app, "/console").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        third.open(app, "/console").await.status,
        StatusCode::SEE_OTHER
    );
    let r = third
        .post(
            app,
            "/console/mentors/new",
            &[("csrf", &csrf), ("name", "M"), ("email", "m@example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(app.count("mentors").await, 0);
    // Idle past STAFF_IDLE_MINUTES, or past STAFF_SESSION_HOURS: refused.
    let fourth = StaffSession {
        cookie: console::set_cookie(
            &console::sign_in(app, "bo@example.org", new_password).await,
            "pb_staff",
        )
        .unwrap(),
    };
    assert_eq!(fourth.open(app, "/console").await.status, StatusCode::OK);
    let old = app.sql_time(chrono::Utc::now() - chrono::Duration::minutes(31));
    app.exec(&format!("update staff_sessions set last_seen_at = '{old}'"))
        .await;
    assert_eq!(
        fourth.open(app, "/console").await.status,
        StatusCode::SEE_OTHER
    );
    let fifth = StaffSession {
        cookie: console::set_cookie(
            &console::sign_in(app, "bo@example.org", new_password).await,
            "pb_staff",
        )
        .unwrap(),
    };
    let past = app.sql_time(chrono::Utc::now() - chrono::Duration::seconds(1));
    app.exec(&format!("update staff_sessions set expires_at = '{past}'"))
        .await;
    assert_eq!(
        fifth.open(app, "/console").await.status,
        StatusCode::SEE_OTHER
    );
}
both_backends!(sessions_end_on, crate::sessions_end);

/// Wrong passwords are answered slowly, then the account's sign-in is refused for a while,
/// even with the right password.
async fn wrong_passwords(app: &TestApp) {
    console::staff(app, "cy@example.org", Role::Reader).await;
    for _ in 0..3 {
        let t = Instant::now();
        let r = console::sign_in(app, "cy@example.org", "not the password at all").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(
            r.text.contains("The email or the password is wrong"),
            "{}",
            r.text
        );
        assert!(
            t.elapsed() >= Duration::from_millis(950),
            "slowed: {:?}",
            t.elapsed()
        );
    }
    let r = console::sign_in(app, "cy@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert!(r.text.contains("Sign-in is refused"), "{}", r.text);
    // Another account is not held back by it (the client is under its own, larger limit).
    let link = console::create_account(app, "ed@example.org", Role::Reader).await;
    console::set_password(app, &link).await;
    let r = console::sign_in(app, "ed@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // Past the client's limit (four times the account's), every account is refused from it.
    for i in 0..9 {
        let r = console::sign_in(app, &format!("x{i}@example.org"), "wrong wrong wrong").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}: {}", r.text);
    }
    let r = console::sign_in(app, "ed@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}
both_backends!(
    wrong_passwords_on,
    crate::wrong_passwords,
    ["--staff-sign-in-failures", "3"]
);

/// What a role may do: a reader sees no award or revoke button and is refused when it
/// posts anyway; a form without its CSRF token is refused; nothing is written.
async fn roles_and_csrf(app: &TestApp) {
    let (person, closing, credential) = app.closed_person("fay@example.org").await;
    let reader = console::staff(app, "reader@example.org", Role::Reader).await;
    let page = reader
        .open(app, &format!("/console/closings/{closing}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(!page.text.contains("Award Partnership Closed"));
    let page = reader.open(app, &format!("/console/people/{person}")).await;
    assert!(page.text.contains("Partnership Closed"), "{}", page.text);
    assert!(!page.text.contains("/revoke\""), "{}", page.text);
    assert!(!page.text.contains(">Certify<"), "{}", page.text);
    let r = reader
        .submit(
            app,
            &format!("/console/people/{person}"),
            &format!("/console/credentials/{credential}/revoke"),
            &[("reason", "wrong"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(
        r.text.contains("needs the `revoke` permission"),
        "{}",
        r.text
    );
    let r = reader
        .submit(
            app,
            "/console",
            &format!("/console/people/{person}/certify"),
            &[("idempotency_key", "k1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        reader.open(app, "/console/mentors/new").await.status,
        StatusCode::FORBIDDEN
    );
    // A reviewer may revoke but not award.
    let reviewer = console::staff(app, "rev@example.org", Role::Reviewer).await;
    let page = reviewer
        .open(app, &format!("/console/people/{person}"))
        .await;
    assert!(page.text.contains("/revoke\""), "{}", page.text);
    let r = reviewer
        .submit(
            app,
            "/console",
            &format!("/console/closings/{closing}/award"),
            &[("idempotency_key", "k2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An issuer's form without (or with a wrong) CSRF token changes nothing.
    let issuer = console::staff(app, "iss@example.org", Role::Issuer).await;
    for csrf in [None, Some("0".repeat(64))] {
        let mut fields = vec![("name", "Mo"), ("email", "mo@example.org")];
        if let Some(c) = &csrf {
            fields.push(("csrf", c));
        }
        let r = issuer.post(app, "/console/mentors/new", &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert!(
            r.text.contains("security token is missing or wrong"),
            "{}",
            r.text
        );
    }
    assert_eq!(app.count("mentors").await, 1, "only the seeded mentor");
    let r = app.get(&format!("/api/v1/credentials/{credential}")).await;
    assert_eq!(r.body["status"], "valid", "{}", r.text);
    // The refusals are in the audit log, as the staff member's.
    let log = app.get("/api/v1/audit?staff=reader@example.org").await;
    let items = log.body["items"].as_array().unwrap();
    assert!(
        items.iter().any(|e| e["status"] == 403
            && e["action"] == "POST /console/credentials/{id}/revoke"
            && e["target"] == json!(credential)),
        "{}",
        log.text
    );
}
both_backends!(roles_and_csrf_on, crate::roles_and_csrf);

/// The work of a program officer: record a mentor, a person and a closing with a partner
/// fit (a wrong field shown beside it first), award Closed (a double submit issues once),
/// certify, revoke with a confirmation; the audit log names them; the dashboard's figures
/// are the API's.
async fn records_and_awarding(app: &TestApp) {
    let ann = console::staff(app, "ann@example.org", Role::Issuer).await;
    let r = ann
        .submit(
            app,
            "/console/mentors/new",
            "/console/mentors/new",
            &[("name", "Mia Mentor"), ("email", "not an email")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"email-error\""), "{}", r.text);
    assert!(r.text.contains("aria-invalid=\"true\""), "{}", r.text);
    assert!(
        r.text.contains("value=\"Mia Mentor\""),
        "the values are kept: {}",
        r.text
    );
    let r = ann
        .submit(
            app,
            "/console/mentors/new",
            "/console/mentors/new",
            &[("name", "Mia Mentor"), ("email", "mia@example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = ann
        .submit(
            app,
            "/console/people/new",
            "/console/people/new",
            &[
                ("name", "Pat Person"),
                ("email", "pat@example.org"),
                ("country", "Kenya"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let person_page = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let person_id = person_page
        .trim_start_matches("/console/people/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // Edit: an emptied optional field is cleared; an emptied name is refused beside it.
    let edit = format!("/console/people/{person_id}/edit");
    let page = ann.open(app, &edit).await;
    assert!(
        page.text.contains("value=\"Kenya\""),
        "prefilled: {}",
        page.text
    );
    let r = ann
        .submit(
            app,
            &edit,
            &edit,
            &[("name", ""), ("email", "pat@example.org")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"name-error\""), "{}", r.text);
    let r = ann
        .submit(
            app,
            &edit,
            &edit,
            &[
                ("name", "Pat Person"),
                ("email", "pat@example.org"),
                ("city", "Nairobi"),
                ("country", "Kenya"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let api = app.get(&format!("/api/v1/people/{person_id}")).await;
    assert_eq!(api.body["city"], "Nairobi", "{}", api.text);
    assert_eq!(api.body["url"], serde_json::Value::Null);
    let today = chrono::Utc::now().date_naive().to_string();
    let cc = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let mut closing: Vec<(&str, &str)> = vec![
        ("closer_email", "pat@example.org"),
        ("mentor_email", "mia@example.org"),
        ("mentor_cc_at", &cc),
        ("partner_name", "Nairobi Makers"),
        ("partner_country", "Kenya"),
        ("closed_on", &today),
        ("summary", "A maker space runs our clubs."),
    ];
    let scores = [
        "depth.locations_and_audiences",
        "depth.organisational_structures",
        "depth.localisation",
        "spread.growth_and_leadership",
        "spread.size",
        "spread.new_access",
        "participation.shares_values",
        "participation.participates_in_community",
        "participation.reputation",
    ]
    .map(|c| format!("partner_fit.{c}.score"));
    // One rating out of range: refused, beside that field.
    let mut bad = closing.clone();
    for (i, s) in scores.iter().enumerate() {
        bad.push((s, if i == 0 { "7" } else { "2" }));
    }
    let r = ann
        .submit(app, "/console/closings/new", "/console/closings/new", &bad)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text
            .contains("id=\"partner_fit.depth.locations_and_audiences.score-error\""),
        "{}",
        r.text
    );
    for (i, s) in scores.iter().enumerate() {
        closing.push((s, ["3", "2", "1"][i % 3]));
    }
    closing.push(("partner_fit.depth.localisation.note", "Works in Swahili"));
    let r = ann
        .submit(
            app,
            "/console/closings/new",
            "/console/closings/new",
            &closing,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let closing_page = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    let closing_id = closing_page
        .trim_start_matches("/console/closings/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let api = app.get(&format!("/api/v1/closings/{closing_id}")).await;
    assert_eq!(
        api.body["partner_fit"]["depth"]["localisation"]["note"],
        "Works in Swahili"
    );
    assert_eq!(api.body["mentor_cc_at"], format!("{cc}:00Z"));
    let page = ann.open(app, &closing_page).await;
    assert!(page.text.contains("Works in Swahili"), "{}", page.text);
    // The preview says what the badge will say; submitting twice issues once.
    let award = format!("/console/closings/{closing_id}/award");
    let preview = ann.open(app, &award).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(preview.text.contains("Pat Person") && preview.text.contains("Nairobi Makers"));
    let key = {
        let at = preview
            .text
            .find("name=\"idempotency_key\" value=\"")
            .unwrap()
            + 30;
        preview.text[at..at + preview.text[at..].find('"').unwrap()].to_owned()
    };
    let csrf = console::csrf_of(&preview.text);
    for _ in 0..2 {
        let r = ann
            .post(
                app,
                &award,
                &[
                    ("csrf", &csrf),
                    ("idempotency_key", &key),
                    ("notify", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    }
    let held = app
        .get(&format!("/api/v1/credentials?person={person_id}"))
        .await;
    assert_eq!(
        held.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        held.text
    );
    // Now the closing has its badge: no second award is offered.
    let again = ann.open(app, &award).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .text
            .contains("already has an active Partnership Closed"),
        "{}",
        again.text
    );
    // Certify.
    let certify = format!("/console/people/{person_id}/certify");
    let preview = ann.open(app, &certify).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let key = {
        let at = preview
            .text
            .find("name=\"idempotency_key\" value=\"")
            .unwrap()
            + 30;
        preview.text[at..at + preview.text[at..].find('"').unwrap()].to_owned()
    };
    let r = ann
        .post(
            app,
            &certify,
            &[
                ("csrf", &console::csrf_of(&preview.text)),
                ("idempotency_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // The dashboard shows what the API's stats say.
    let stats = app.get("/api/v1/stats").await;
    let dash = ann.open(app, "/console").await;
    for (id, value) in [
        ("closings-month", &stats.body["closings"]["this_month"]),
        ("closings-year", &stats.body["closings"]["this_year"]),
        ("certified-people", &stats.body["certified_people"]),
        (
            "queue-without-closed",
            &stats.body["queue"]["closings_without_closed"],
        ),
        ("queue-ready", &stats.body["queue"]["ready_to_certify"]),
    ] {
        assert!(
            dash.text.contains(&format!("id=\"{id}\">{value}<")),
            "{id} = {value}: {}",
            dash.text
        );
    }
    assert_eq!(stats.body["certified_people"], 1);
    assert!(
        dash.text
            .contains("<th scope=\"row\">Kenya</th><td class=\"num\">1</td>"),
        "{}",
        dash.text
    );
    let q = &stats.body["partner_fit_by_quarter"];
    let this_quarter = q.as_array().unwrap().last().unwrap();
    assert_eq!(this_quarter["assessed"], 1);
    assert_eq!(this_quarter["depth"], 2.0);
    // Revoke the Certified: a reason, a confirmation, then revoked.
    let creds = app
        .get(&format!(
            "/api/v1/credentials?person={person_id}&achievement=partnership-certified"
        ))
        .await;
    let certified = creds.body["items"][0]["id"].as_str().unwrap().to_owned();
    let revoke = format!("/console/credentials/{certified}/revoke");
    let r = ann.submit(app, &revoke, &revoke, &[("reason", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = ann
        .submit(
            app,
            &revoke,
            &revoke,
            &[("reason", "Certified by mistake"), ("notify", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"confirm-question\""), "{}", r.text);
    assert_eq!(
        app.get(&format!("/api/v1/credentials/{certified}"))
            .await
            .body["status"],
        "valid"
    );
    let r = ann
        .post(
            app,
            &revoke,
            &[
                ("csrf", &console::csrf_of(&r.text)),
                ("reason", "Certified by mistake"),
                ("notify", "yes"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = app.get(&format!("/api/v1/credentials/{certified}")).await;
    assert_eq!(r.body["status"], "revoked", "{}", r.text);
    assert_eq!(r.body["revocation_reason"], "Certified by mistake");
    // The audit log names the staff member; the person's page shows its history.
    let log = app.get("/api/v1/audit?staff=ann@example.org").await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "POST /console/mentors/new",
        "POST /console/people/new",
        "POST /console/closings/new",
        "POST /console/closings/{id}/award",
        "POST /console/people/{id}/certify",
        "POST /console/credentials/{id}/revoke",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let page = ann.open(app, &format!("/console/people/{person_id}")).await;
    assert!(
        page.text.contains("POST /console/people/{id}/certify"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Certified by mistake"), "{}", page.text);
    // The revocation names the badge, and shows in its holder's history.
    assert!(
        page.text.contains("POST /console/credentials/{id}/revoke"),
        "{}",
        page.text
    );
}
both_backends!(records_and_awarding_on, crate::records_and_awarding);

/// The lists search and filter as the API does, and page by cursor.
async fn lists(app: &TestApp) {
    let staff = console::staff(app, "lee@example.org", Role::Reader).await;
    let mentor = app.mentor("Mo Mentor", "mo@example.org").await;
    for i in 0..3 {
        let p = app
            .person(&format!("Searchable {i}"), &format!("s{i}@example.org"))
            .await;
        app.closing(&p, &mentor).await;
    }
    let r = staff
        .open(app, "/console/people?q=searchable&limit=2")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.text.matches("Searchable ").count(), 2, "{}", r.text);
    let next = r
        .text
        .split("href=\"")
        .find(|s| s.starts_with("/console/people?"))
        .map(|s| s[..s.find('"').unwrap()].replace("&#38;", "&"))
        .unwrap();
    let r = staff.open(app, &next).await;
    assert_eq!(r.text.matches("Searchable ").count(), 1, "{}", r.text);
    let r = staff
        .open(app, "/console/closings?badge=without-closed")
        .await;
    assert_eq!(
        r.text.matches("/console/closings/").count()
            - r.text.matches("/console/closings/new").count(),
        3,
        "{}",
        r.text
    );
    let r = staff
        .open(app, "/console/closings?closed_from=not-a-date")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("closed_from must be a date"), "{}", r.text);
    let r = staff.open(app, "/console/people?badge=nonsense").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The API filters the same way.
    let api = app.get("/api/v1/closings?badge=without-closed").await;
    assert_eq!(api.body["items"].as_array().unwrap().len(), 3);
    let api = app.get("/api/v1/closings?badge=with-closed").await;
    assert_eq!(api.body["items"].as_array().unwrap().len(), 0);
    app.get("/api/v1/people?badge=without-closed")
        .await
        .assert_problem(400, "ready-to-certify or certified");
}
both_backends!(lists_on, crate::lists);

/// The home page for the public.
#[tokio::test]
async fn home_page() {
    let app = TestApp::sqlite_with_base(common::BASE).await;
    let r = open(&app, "/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    for needle in [
        "Partnership Closed",
        "Partnership Certified",
        "href=\"/registry\"",
        "href=\"/verify\"",
        "Staff sign in",
    ] {
        assert!(r.text.contains(needle), "{needle}: {}", r.text);
    }
    assert!(r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    app.cleanup().await;
}

/// A path parameter that is not UTF-8 once percent-decoded is a 404 page, as an id that
/// names nothing is; signed out, the pages send the browser to sign in.
async fn bad_paths(app: &TestApp) {
    let staff = console::staff(app, "gil@example.org", Role::Admin).await;
    for path in [
        "/console/people/%FF",
        "/console/mentors/%FF",
        "/console/closings/%FF",
        "/console/closings/%FF/award",
        "/console/closings/%FF/fit",
        "/console/people/%FF/certify",
        "/console/credentials/%FF/revoke",
        "/console/people/not-an-id",
        "/console/closings/00000000-0000-4000-8000-000000000000",
    ] {
        let r = staff.open(app, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let r = open(app, path, None).await;
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::SEE_OTHER].contains(&r.status),
            "{path} signed out: {}",
            r.status
        );
    }
    // A form post that is not a form, or too large, is refused with its status.
    let page = staff.open(app, "/console/mentors/new").await;
    let csrf = console::csrf_of(&page.text);
    let r = app
        .send(
            axum::http::Request::post("/console/mentors/new")
                .header(header::COOKIE, &staff.cookie)
                .header(header::ACCEPT, "text/html")
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(format!("{{\"csrf\":\"{csrf}\"}}")))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
    let big = "x".repeat(300 * 1024);
    let r = staff
        .post(
            app,
            "/console/mentors/new",
            &[("csrf", &csrf), ("name", &big)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.status);
}
both_backends!(bad_paths_on, crate::bad_paths);

/// Posts a multipart upload to the import form as `staff`.
async fn upload(
    app: &TestApp,
    staff: &StaffSession,
    kind: &str,
    name: &str,
    csv: &str,
) -> common::Res {
    let page = staff.open(app, "/console/import").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = console::csrf_of(&page.text);
    let (ct, body) = common::multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("kind", None, kind.as_bytes()),
        ("file", Some(name), csv.as_bytes()),
    ]);
    app.send(
        axum::http::Request::post("/console/import")
            .header(header::COOKIE, &staff.cookie)
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, ct)
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
    .await
}

/// Import in the browser: the header is checked and the first rows shown before anything
/// is written; the run reports progress, then every bad row by line; the report downloads
/// as CSV; running again creates nothing twice.
async fn import_in_the_browser(app: &TestApp) {
    let staff = console::staff(app, "imp@example.org", Role::Issuer).await;
    // A wrong header: refused, nothing to run.
    let r = upload(
        app,
        &staff,
        "mentors",
        "bad.csv",
        "nom,courriel\nA,a@example.org\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"header-error\""), "{}", r.text);
    assert!(!r.text.contains("/run\""), "{}", r.text);
    // 300 mentors, three of them bad.
    let mut csv = String::from("name,email,url\n");
    for i in 0..300 {
        match i {
            10 => csv.push_str("No Email,,\n"),
            20 => csv.push_str("Bad Email,not-an-email,\n"),
            30 => csv.push_str("Bad Url,u30@example.org,ftp://example.org\n"),
            _ => csv.push_str(&format!("Mentor {i},m{i}@example.org,\n")),
        }
    }
    let r = upload(app, &staff, "mentors", "mentors.csv", &csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("id=\"header-ok\"") && r.text.contains("300 rows"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("<td>Mentor 0</td>"),
        "first rows shown: {}",
        r.text
    );
    assert_eq!(
        app.count("mentors").await,
        0,
        "nothing written before the run"
    );
    let run = r
        .text
        .split("action=\"")
        .find(|s| s.contains("/run\""))
        .unwrap();
    let run = &run[..run.find('"').unwrap()];
    let job = run
        .trim_start_matches("/console/import/")
        .trim_end_matches("/run")
        .to_owned();
    let r = staff.submit(app, "/console/import", run, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // Progress until done (the page the browser polls).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = staff
            .open(app, &format!("/console/import/{job}/progress"))
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        assert_eq!(p.body["total"], 300, "{}", p.text);
        if p.body["finished"] == true {
            assert_eq!(p.body["done"], 300);
            assert_eq!(p.body["failed"], 3);
            break;
        }
        assert!(Instant::now() < deadline, "the import never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = staff.open(app, &format!("/console/import/{job}")).await;
    assert!(
        page.text
            .contains("297 created, 0 already stored, 3 failed"),
        "{}",
        page.text
    );
    for line in [
        "<td class=\"num\">12</td>",
        "<td class=\"num\">22</td>",
        "<td class=\"num\">32</td>",
    ] {
        assert!(page.text.contains(line), "{line}: {}", page.text);
    }
    let report = staff
        .open(app, &format!("/console/import/{job}/report.csv"))
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(
        report.headers[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert!(
        report.text.starts_with("line,outcome,reason\n12,failed,"),
        "{}",
        report.text
    );
    assert_eq!(report.text.lines().count(), 5, "{}", report.text);
    assert_eq!(app.count("mentors").await, 297);
    // The same file again: everything exists, nothing is created twice.
    let r = upload(app, &staff, "mentors", "mentors.csv", &csv).await;
    let run = r
        .text
        .split("action=\"")
        .find(|s| s.contains("/run\""))
        .unwrap();
    let run = run[..run.find('"').unwrap()].to_owned();
    staff.submit(app, "/console/import", &run, &[]).await;
    let job = run
        .trim_start_matches("/console/import/")
        .trim_end_matches("/run")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while staff
        .open(app, &format!("/console/import/{job}/progress"))
        .await
        .body["finished"]
        != true
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = staff.open(app, &format!("/console/import/{job}")).await;
    assert!(
        page.text
            .contains("0 created, 297 already stored, 3 failed"),
        "{}",
        page.text
    );
    assert_eq!(app.count("mentors").await, 297);
    // Another staff member cannot see someone else's import; a reader cannot import.
    let other = console::staff(app, "oth@example.org", Role::Issuer).await;
    assert_eq!(
        other
            .open(app, &format!("/console/import/{job}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let reader = console::staff(app, "rdr@example.org", Role::Reader).await;
    assert_eq!(
        reader.open(app, "/console/import").await.status,
        StatusCode::FORBIDDEN
    );
}
both_backends!(import_in_the_browser_on, crate::import_in_the_browser);
