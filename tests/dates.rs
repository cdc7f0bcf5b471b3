//! Dates and times at the edges of every range the admin API accepts, on SQLite and
//! PostgreSQL: what is accepted is stored and signed as an `xsd:dateTime` with a four-digit
//! year and verifies through `POST /verify`; what lies just outside is a 422 naming the field
//! and the range. Offsets of ±23:59 and fractional seconds are judged on the UTC instant.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, FixedOffset, Months, SecondsFormat, Utc};
use common::{Res, TestApp};
use partnership_badges::program::{format_time, now, truncate};
use serde_json::{json, Value};

/// `t` written in the `-23:59` zone, with nanoseconds: the same instant, another year
/// near a year's end.
fn west(t: DateTime<Utc>) -> String {
    let zone = FixedOffset::west_opt(23 * 3600 + 59 * 60).unwrap();
    t.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Nanos, false)
}

/// `t` written in the `+23:59` zone, with milliseconds.
fn east(t: DateTime<Utc>) -> String {
    let zone = FixedOffset::east_opt(23 * 3600 + 59 * 60).unwrap();
    t.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// The `xsd:dateTime` form credentials and records carry: four-digit year, UTC.
#[track_caller]
fn assert_xsd_utc(value: &Value) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && s.ends_with('Z')
        && (b.len() == 20 || (b[19] == b'.' && b.len() > 21 && digits(20..b.len() - 1)));
    assert!(shape, "{s:?} is not YYYY-MM-DDTHH:MM:SS(.fff)Z");
}

async fn verify(app: &TestApp, credential: &Value) -> Res {
    app.post_bytes(
        "/verify",
        "application/json",
        credential.to_string().into_bytes(),
    )
    .await
}

#[track_caller]
fn assert_verified(r: &Res) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["verified"], true, "{:#}", r.body);
    assert_eq!(r.body["checks"]["validity"], "passed", "{:#}", r.body);
}

/// Issues a badge; asserts 201 and the credential's date shapes; returns the response.
async fn issued(app: &TestApp, body: Value) -> Res {
    let r = app.post("/api/v1/credentials", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let vc = &r.body["credential"];
    assert_xsd_utc(&vc["validFrom"]);
    assert_xsd_utc(&vc["proof"][0]["created"]);
    if !vc["validUntil"].is_null() {
        assert_xsd_utc(&vc["validUntil"]);
        assert_xsd_utc(&r.body["valid_until"]);
    }
    r
}

#[track_caller]
fn assert_refused(r: &Res, field: &str, range: &str) {
    r.assert_problem(422, range);
    assert_eq!(r.body["field"], field, "{}", r.text);
    assert!(r.detail().contains(field), "{}", r.text);
}

async fn edges(app: &TestApp) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let person = app.person("Ada Closer", "ada@example.org").await;
    let t0 = now();
    let today = t0.date_naive();

    // ---- closings: the earliest and the latest dates accepted

    // 1900-01-01T23:59:00+23:59 is 1900-01-01T00:00:00Z, the first instant accepted.
    let mut earliest = TestApp::closing_body(&person, &mentor);
    earliest["partner_name"] = json!("Earliest Library");
    earliest["closed_on"] = json!("1900-01-01");
    earliest["mentor_cc_at"] = json!("1900-01-01T23:59:00+23:59");
    earliest["stages"] = json!({"lead": "1900-01-01", "conversation": "1900-01-01",
        "shaping": "1900-01-01", "work": "1900-01-01", "transition": "1900-01-01"});
    let r = app.post("/api/v1/closings", earliest.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["mentor_cc_at"], "1900-01-01T00:00:00Z");
    assert_eq!(r.body["closed_on"], "1900-01-01");
    let old_closing = r.body["id"].as_str().unwrap().to_owned();
    // The other way round: 1899-12-31T00:01:00-23:59 is 1900-01-01T00:00:00Z too.
    let mut other_zone = earliest.clone();
    other_zone["partner_name"] = json!("Other Zone Library");
    other_zone["mentor_cc_at"] = json!("1899-12-31T00:01:00-23:59");
    let r = app.post("/api/v1/closings", other_zone).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["mentor_cc_at"], "1900-01-01T00:00:00Z");

    // Today, and a CC a moment ago written in the +23:59 zone with milliseconds (tomorrow's
    // date there).
    let cc = t0 - Duration::milliseconds(2500);
    let mut latest = TestApp::closing_body(&person, &mentor);
    latest["partner_name"] = json!("Latest Library");
    latest["closed_on"] = json!(today.to_string());
    latest["mentor_cc_at"] = json!(east(cc));
    latest["stages"] = json!({"lead": "1900-01-01", "transition": today.to_string()});
    let r = app.post("/api/v1/closings", latest).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["mentor_cc_at"], format_time(truncate(cc)));
    let new_closing = r.body["id"].as_str().unwrap().to_owned();
    let public = app
        .call(Method::GET, &format!("/closings/{old_closing}"), None, None)
        .await;
    assert_xsd_utc(&public.body["mentor"]["cc_at"]);

    // ---- closings: just outside, each refused naming its field and the range

    let just_outside: Vec<(&str, Value)> = vec![
        ("closed_on", json!("1899-12-31")),
        ("closed_on", json!((today + Duration::days(1)).to_string())),
        ("closed_on", json!("0026-10-02")),
        ("mentor_cc_at", json!("1900-01-01T23:58:59.999+23:59")),
        ("mentor_cc_at", json!("1899-12-31T23:59:59Z")),
        ("mentor_cc_at", json!(west(t0 + Duration::hours(1)))),
        ("mentor_cc_at", json!("9999-12-31T23:59:59-23:59")),
        ("stages.lead", json!("1899-12-31")),
        ("stages.transition", json!("1899-12-31")),
    ];
    for (field, value) in just_outside {
        let mut body = earliest.clone();
        body["partner_name"] = json!(format!("Outside {field} {value}"));
        match field.strip_prefix("stages.") {
            Some(stage) => body["stages"][stage] = value.clone(),
            None => body[field] = value.clone(),
        }
        if field == "closed_on" {
            // So that only closed_on is out of range, not the CC before it.
            body["stages"] = json!({});
        }
        let r = app.post("/api/v1/closings", body).await;
        let range = if field.starts_with("stages.") {
            "from 1900-01-01 to closed_on"
        } else if field == "closed_on" {
            "from 1900-01-01 to today"
        } else {
            "from 1900-01-01T00:00:00Z to now"
        };
        assert_refused(&r, field, range);
    }
    assert_eq!(app.count("closings").await, 3);

    // ---- valid_until: the earliest and latest accepted, each verifying now

    // The latest: 100 years ahead, less a minute (this request is answered a moment after
    // `t0`), in the -23:59 zone with nanoseconds.
    let last = t0.checked_add_months(Months::new(1200)).unwrap() - Duration::seconds(60)
        + Duration::nanoseconds(999_999_999);
    let r = issued(
        app,
        json!({"achievement": "partnership-closed", "person_id": person,
               "closing_id": old_closing, "valid_until": west(last)}),
    )
    .await;
    let vc = r.body["credential"].clone();
    assert_eq!(vc["validUntil"], format_time(truncate(last)));
    assert_verified(&verify(app, &vc).await);

    // The earliest (near enough to stay valid while this test runs): a couple of minutes
    // ahead, in the +23:59 zone with milliseconds.
    let soon = t0 + Duration::seconds(120) + Duration::milliseconds(500);
    let r = issued(
        app,
        json!({"achievement": "partnership-closed", "person_id": person,
               "closing_id": new_closing, "valid_until": east(soon)}),
    )
    .await;
    let vc = r.body["credential"].clone();
    assert_eq!(vc["validUntil"], format_time(truncate(soon)));
    assert_verified(&verify(app, &vc).await);

    // ---- valid_until: just outside, refused before anything is signed

    let credentials = app.count("credentials").await;
    for until in [
        "9999-12-31T23:59:59-23:59".to_owned(),
        "9999-12-31T23:59:59Z".to_owned(),
        west(t0.checked_add_months(Months::new(1200)).unwrap() + Duration::days(1)),
        west(t0),
        east(t0 + Duration::milliseconds(400)),
        "2001-01-01T00:00:00Z".to_owned(),
        "1899-12-31T23:59:59Z".to_owned(),
    ] {
        let r = app
            .post(
                "/api/v1/credentials",
                json!({"achievement": "partnership-certified", "person_id": person,
                       "valid_until": until}),
            )
            .await;
        assert_refused(&r, "valid_until", "at most 100 years ahead");
    }
    assert_eq!(app.count("credentials").await, credentials);

    // The batch API holds each row to the same range.
    let r = app
        .post(
            "/api/v1/credentials/batch",
            json!({"items": [
                {"achievement": "partnership-certified", "person_id": person,
                 "valid_until": "9999-12-31T23:59:59-23:59"},
                {"achievement": "partnership-certified", "person_id": person,
                 "valid_until": west(last)},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.body["results"].as_array().unwrap();
    assert_eq!(rows[0]["status"], 422, "{}", r.text);
    let detail = rows[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("valid_until") && detail.contains("100 years"),
        "{detail}"
    );
    assert_eq!(rows[1]["status"], 201, "{}", r.text);
    let certified = rows[1]["credential"]["id"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/credentials/{certified}")).await;
    assert_xsd_utc(&r.body["credential"]["validUntil"]);
    assert_verified(&verify(app, &r.body["credential"]).await);

    // ---- tokens: the same horizon for expires_at

    let r = app
        .post(
            "/api/v1/tokens",
            json!({"name": "far", "scopes": ["read"], "expires_at": "9999-12-31T23:59:59-23:59"}),
        )
        .await;
    assert_refused(&r, "expires_at", "at most 100 years ahead");
    let r = app
        .post(
            "/api/v1/tokens",
            json!({"name": "far", "scopes": ["read"], "expires_at": west(last)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_xsd_utc(&r.body["expires_at"]);
    let r = app
        .post(
            "/api/v1/tokens",
            json!({"name": "now", "scopes": ["read"], "expires_at": east(t0)}),
        )
        .await;
    assert_refused(&r, "expires_at", "not in the future");

    // ---- the audit log's since: from 1900 to the end of 9999, else a 400

    for since in ["1900-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
        let r = app.get(&format!("/api/v1/audit?since={since}")).await;
        assert_eq!(r.status, StatusCode::OK, "{since}: {}", r.text);
    }
    for since in [
        "9999-12-31T23:59:59-23:59",
        "1899-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ] {
        let r = app
            .get(&format!(
                "/api/v1/audit?since={}",
                form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>()
            ))
            .await;
        r.assert_problem(400, "from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z");
    }
}
both_backends!(dates_at_the_edges, crate::edges);
