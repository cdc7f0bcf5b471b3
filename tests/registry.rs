//! The public registry (issue 4), end to end in-process on SQLite and PostgreSQL: consent,
//! revocation, expiry, re-certification, paging while entries change, filters, ETag/304,
//! CORS, the feeds, the pages and bad input.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Utc;
use common::{Res, TestApp, BASE};
use serde_json::{json, Value};
use tower::ServiceExt as _;

async fn registry(app: &TestApp, query: &str) -> Res {
    let r = app.public_get(&format!("/registry.json{query}"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r
}

fn names(r: &Res) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn patch(app: &TestApp, person: &str, body: Value) -> Res {
    app.call(
        Method::PATCH,
        &format!("/api/v1/people/{person}"),
        Some(body),
        Some(&app.token),
    )
    .await
}

// ---------------------------------------------------------------- consent and entries

async fn consent_and_entries(app: &TestApp) {
    let (ada, cert) = app.certified_person("Ada Lovelace", "France", true).await;
    let (_bo, _) = app.certified_person("Bo Private", "France", false).await;

    let r = registry(app, "").await;
    assert_eq!(
        names(&r),
        ["Ada Lovelace"],
        "only people who agreed are listed"
    );
    let item = &r.body["items"][0];
    assert_eq!(item["city"], "Lyon");
    assert_eq!(item["country"], "France");
    assert_eq!(item["partnerships_closed"], 1);
    assert_eq!(item["badge_url"], format!("{BASE}/credentials/{cert}"));
    assert_eq!(item["certified_since"], item["certified_at"]);
    assert!(item.get("profile_url").is_none());
    assert!(
        !r.text.contains("@example.org"),
        "never an email: {}",
        r.text
    );
    assert!(!r.text.contains(&ada), "never a person id");
    assert_eq!(r.body["next_cursor"], Value::Null);
    assert_eq!(r.body["$schema"], format!("{BASE}/registry.schema.json"));

    // Consent withdrawn: gone at once; given again: back, with the profile URL.
    let p = patch(app, &ada, json!({"listed_in_registry": false})).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(p.body["listed_in_registry"], false);
    assert!(names(&registry(app, "").await).is_empty());
    let p = patch(
        app,
        &ada,
        json!({"listed_in_registry": true, "consent_source": "signed form", "url": "https://ada.example.org", "city": null}),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let r = registry(app, "").await;
    assert_eq!(names(&r), ["Ada Lovelace"]);
    assert_eq!(r.body["items"][0]["profile_url"], "https://ada.example.org");
    assert!(r.body["items"][0].get("city").is_none());

    // A rename shows at once too.
    let p = patch(app, &ada, json!({"name": "  Ada King  "})).await;
    assert_eq!(p.body["name"], "Ada King");
    assert_eq!(names(&registry(app, "").await), ["Ada King"]);

    // PATCH validates like create.
    patch(app, &ada, json!({"email": "nope"}))
        .await
        .assert_problem(422, "email");
    patch(app, &ada, json!({"name": null}))
        .await
        .assert_problem(422, "name");
    patch(app, &ada, json!({"url": "javascript:alert(1)"}))
        .await
        .assert_problem(422, "url");
    patch(app, &ada, json!({"nickname": "x"}))
        .await
        .assert_problem(422, "nickname");
    patch(app, &ada, json!({"country": "x".repeat(101)}))
        .await
        .assert_problem(422, "country");
    patch(
        app,
        "6f1c1f0e-3f7e-4a59-9d4e-3f1b2a3c4d5e",
        json!({"name": "Nobody"}),
    )
    .await
    .assert_problem(404, "");
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/people/{ada}"),
            Some(json!({"name": "X"})),
            None,
        )
        .await;
    r.assert_problem(401, "");
    let got = app.get(&format!("/api/v1/people/{ada}")).await;
    assert_eq!(got.body["name"], "Ada King");
}
both_backends!(consent_and_entries_sqlite_pg, crate::consent_and_entries);

// ---------------------------------------------------------------- revocation

async fn revocation_drops_at_once(app: &TestApp) {
    let (_ada, cert) = app.certified_person("Ada", "France", true).await;
    let (bo, _) = app.certified_person("Bo", "France", true).await;
    // Warm the cache: the next answers must not come from a stale copy.
    assert_eq!(names(&registry(app, "").await), ["Ada", "Bo"]);
    let r = app
        .post(
            &format!("/api/v1/credentials/{cert}/revoke"),
            json!({"reason": "entered in error"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(names(&registry(app, "").await), ["Bo"]);

    // Revoking a Closed badge lowers the count; the Certified stays valid.
    let closed = app
        .get(&format!(
            "/api/v1/credentials?person={bo}&achievement=partnership-closed"
        ))
        .await;
    let closed_id = closed.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/credentials/{closed_id}/revoke"),
        json!({"reason": "duplicate"}),
    )
    .await;
    let r = registry(app, "").await;
    assert_eq!(names(&r), ["Bo"]);
    assert_eq!(r.body["items"][0]["partnerships_closed"], 0);
}
both_backends!(revocation, crate::revocation_drops_at_once);

// ---------------------------------------------------------------- expiry

async fn expiry_drops_at_once(app: &TestApp) {
    let (_ada, cert) = app.certified_person("Ada", "France", true).await;
    let (_bo, bo_cert) = app.certified_person("Bo", "France", true).await;
    assert_eq!(names(&registry(app, "").await), ["Ada", "Bo"]);

    // A direct write (another instance, or an operator): seen on the next version check.
    app.state.registry.set_recheck_interval(Duration::ZERO);
    let past = app.sql_time(Utc::now() - chrono::Duration::hours(1));
    app.exec(&format!(
        "update credentials set valid_until = '{past}' where id = '{cert}'"
    ))
    .await;
    assert_eq!(names(&registry(app, "").await), ["Bo"]);

    // Time alone: no write at all once the cache holds the next expiry. The cache is told
    // to trust its copy for an hour, so only the stored next expiry can drop Bo.
    let soon = crate::truncated_now() + chrono::Duration::seconds(2);
    app.exec(&format!(
        "update credentials set valid_until = '{}' where id = '{bo_cert}'",
        app.sql_time(soon)
    ))
    .await;
    let r = registry(app, "").await;
    assert_eq!(names(&r), ["Bo"]);
    app.state
        .registry
        .set_recheck_interval(Duration::from_secs(3600));
    assert_eq!(names(&registry(app, "").await), ["Bo"]);
    let wait = (soon - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(200);
    tokio::time::sleep(wait).await;
    let after = registry(app, "").await;
    assert!(names(&after).is_empty(), "{}", after.text);
    assert_ne!(after.headers[header::ETAG], r.headers[header::ETAG]);
}
both_backends!(expiry, crate::expiry_drops_at_once);

fn truncated_now() -> chrono::DateTime<Utc> {
    partnership_badges::program::now()
}

// ---------------------------------------------------------------- re-certification

async fn recertification(app: &TestApp) {
    app.state.registry.set_recheck_interval(Duration::ZERO);
    let (ada, cert) = app.certified_person("Ada", "France", true).await;
    let (bo, bo_cert) = app.certified_person("Bo", "France", true).await;
    // Ada's first certification ran 400..20 days ago; Bo's 400..100 days ago. One "now" for
    // the whole test: a second boundary passing mid-test must not shift the expected date.
    let t0 = truncated_now();
    let days = |d: i64| app.sql_time(t0 - chrono::Duration::days(d));
    for (id, until) in [(&cert, 20), (&bo_cert, 100)] {
        app.exec(&format!(
            "update credentials set issued_at = '{}', valid_until = '{}' where id = '{id}'",
            days(400),
            days(until)
        ))
        .await;
    }
    assert!(names(&registry(app, "").await).is_empty(), "both lapsed");

    // Renewed: Ada within the 30-day grace keeps her date; Bo starts again.
    for p in [&ada, &bo] {
        let r = app.issue("partnership-certified", p, None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = registry(app, "").await;
    assert_eq!(names(&r), ["Ada", "Bo"]);
    let since = |i: usize| {
        r.body["items"][i]["certified_since"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let at = |i: usize| {
        r.body["items"][i]["certified_at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        since(0),
        partnership_badges::program::format_time(t0 - chrono::Duration::days(400))
    );
    assert_ne!(since(0), at(0));
    assert_eq!(
        since(1),
        at(1),
        "a lapse of more than 30 days starts a new chain"
    );
    // The badge link is the new, active Certified.
    assert_ne!(
        r.body["items"][0]["badge_url"],
        format!("{BASE}/credentials/{cert}")
    );
}
both_backends!(
    recertification_keeps_or_restarts_since,
    crate::recertification
);

// ---------------------------------------------------------------- paging

async fn paging_while_entries_change(app: &TestApp) {
    let mut ids = std::collections::HashMap::new();
    for name in ["Cleo", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo"] {
        let (_, cert) = app.certified_person(name, "France", true).await;
        ids.insert(name, cert);
    }
    let p1 = registry(app, "?limit=3").await;
    assert_eq!(names(&p1), ["Cleo", "Dara", "Eli"]);
    let next = p1.body["next"].as_str().unwrap();
    assert!(next.starts_with(&format!("{BASE}/registry.json?")) && next.contains("limit=3"));

    // Between pages: someone sorting before the cursor joins, one after it leaves, one
    // after it joins.
    app.certified_person("Abe", "France", true).await;
    app.post(
        &format!("/api/v1/credentials/{}/revoke", ids["Gus"]),
        json!({"reason": "left the program"}),
    )
    .await;
    app.certified_person("Zoe", "France", true).await;

    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = registry(app, &format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(names(&p2), ["Fay", "Hana", "Ivo"]);
    let cursor = p2.body["next_cursor"].as_str().unwrap();
    let p3 = registry(app, &format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(names(&p3), ["Zoe"]);
    assert_eq!(p3.body["next_cursor"], Value::Null);
    assert_eq!(p3.body["next"], Value::Null);

    // The guarantee: no one present throughout is skipped or repeated.
    let mut all: Vec<String> = [names(&p1), names(&p2), names(&p3)].concat();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n);
    for stayed in ["Cleo", "Dara", "Eli", "Fay", "Hana", "Ivo"] {
        assert!(all.iter().any(|a| a == stayed), "{stayed} skipped");
    }
    // The next URL, followed verbatim, gives the same page.
    let path = p1.body["next"]
        .as_str()
        .unwrap()
        .strip_prefix(BASE)
        .unwrap();
    let again = app.public_get(path, &[]).await;
    assert_eq!(names(&again), ["Fay", "Hana", "Ivo"]);
}
both_backends!(paging, crate::paging_while_entries_change);

/// A cursor holds only what the page showed (the name, lower-cased, and the badge id of its
/// last entry), never a person's internal id; paging one entry at a time, people of the same
/// name included, lists everyone once; an edited, truncated or older-format cursor is a 400.
async fn cursors_hold_no_internal_ids(app: &TestApp) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut people = Vec::new();
    for name in ["Ada", "ada", "ADA", "Bea", "Cy"] {
        let (person, cert) = app.certified_person(name, "France", true).await;
        people.push((name, person, cert));
    }
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let r = registry(app, &query).await;
        let item = &r.body["items"][0];
        seen.push(item["badge_url"].as_str().unwrap().to_owned());
        let Some(cursor) = r.body["next_cursor"].as_str() else {
            break;
        };
        let decoded = String::from_utf8(b64.decode(cursor).unwrap()).unwrap();
        for (_, person, _) in &people {
            let simple = person.replace('-', "");
            for text in [cursor, decoded.as_str()] {
                let text = text.to_lowercase();
                assert!(
                    !text.contains(person) && !text.contains(&simple),
                    "a cursor names a person: {decoded:?}"
                );
            }
        }
        let badge = item["badge_url"].as_str().unwrap();
        let badge_id = badge.rsplit('/').next().unwrap();
        assert!(decoded.contains(badge_id), "{decoded:?}");
        assert!(decoded.contains(&item["name"].as_str().unwrap().to_lowercase()));
        cursors.push(cursor.to_owned());
        query = format!("?limit=1&cursor={cursor}");
    }
    // Everyone once, by name, then by badge id among the three Adas.
    let mut adas: Vec<String> = people[..3]
        .iter()
        .map(|(_, _, cert)| format!("{BASE}/credentials/{cert}"))
        .collect();
    adas.sort();
    let expected: Vec<String> = adas
        .into_iter()
        .chain(
            people[3..]
                .iter()
                .map(|(_, _, cert)| format!("{BASE}/credentials/{cert}")),
        )
        .collect();
    assert_eq!(seen, expected);

    // Anything but a cursor as returned is refused.
    let good = &cursors[1];
    let decoded = String::from_utf8(b64.decode(good).unwrap()).unwrap();
    let (body, _check) = decoded.rsplit_once('\n').unwrap();
    let person_of_ada = &people[0].1;
    let mut flipped = good.clone().into_bytes();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    let tampered = [
        String::from_utf8(flipped).unwrap(),
        good[..good.len() - 3].to_owned(),
        format!("{good}AA"),
        b64.encode(decoded.replacen("ada", "bea", 1)),
        b64.encode(body),
        b64.encode(format!("r1\nada\n{person_of_ada}")),
        format!("{good}="),
        "not base64!".to_owned(),
    ];
    for cursor in tampered {
        let r = app
            .public_get(
                &format!(
                    "/registry.json?cursor={}",
                    form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
                ),
                &[],
            )
            .await;
        r.assert_problem(400, "cursor");
    }
}
both_backends!(
    cursors_are_public_values,
    crate::cursors_hold_no_internal_ids
);

// ---------------------------------------------------------------- filters

async fn filters(app: &TestApp) {
    app.certified_person("Ada Lovelace", "France", true).await;
    app.certified_person("adam Smith", "Scotland", true).await;
    app.certified_person("Grace Hopper", "United States", true)
        .await;
    app.certified_person("A%_ Tricky", "France", true).await;

    assert_eq!(
        names(&registry(app, "?country=france").await),
        ["A%_ Tricky", "Ada Lovelace"]
    );
    assert_eq!(
        names(&registry(app, "?prefix=AD").await),
        ["Ada Lovelace", "adam Smith"]
    );
    assert_eq!(
        names(&registry(app, "?prefix=ada&country=Scotland").await),
        ["adam Smith"]
    );
    assert_eq!(
        names(&registry(app, "?prefix=A%25").await),
        ["A%_ Tricky"],
        "% is a character, not a wildcard"
    );
    assert!(names(&registry(app, "?prefix=A_").await).is_empty());
    assert!(names(&registry(app, "?country=Mars").await).is_empty());
    assert_eq!(
        names(&registry(app, "?prefix=&country=").await).len(),
        4,
        "empty fields are no filter"
    );
    // Paging keeps the filters.
    let p1 = registry(app, "?country=France&limit=1").await;
    let next = p1.body["next"].as_str().unwrap();
    assert!(next.contains("country=France"), "{next}");
    let p2 = app.public_get(next.strip_prefix(BASE).unwrap(), &[]).await;
    assert_eq!(names(&p2), ["Ada Lovelace"]);
}
both_backends!(filters_by_country_and_prefix, crate::filters);

// ---------------------------------------------------------------- caching headers

async fn etag_and_304(app: &TestApp) {
    let (_, cert) = app.certified_person("Ada", "France", true).await;
    let r = registry(app, "").await;
    let etag = r.headers[header::ETAG].to_str().unwrap().to_owned();
    let lm = r.headers[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(etag.starts_with('"'));
    assert_eq!(r.headers[header::CACHE_CONTROL], "public, no-cache");
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");

    let nm = app
        .public_get("/registry.json", &[("if-none-match", &etag)])
        .await;
    assert_eq!(nm.status, StatusCode::NOT_MODIFIED);
    assert!(nm.text.is_empty());
    assert_eq!(nm.headers[header::ETAG], etag.as_str());
    assert_eq!(nm.headers[header::CACHE_CONTROL], "public, no-cache");
    let weak = format!("W/{etag}");
    let nm = app
        .public_get("/registry.json", &[("if-none-match", &weak)])
        .await;
    assert_eq!(nm.status, StatusCode::NOT_MODIFIED);
    let other = app
        .public_get("/registry.json", &[("if-none-match", "\"other\"")])
        .await;
    assert_eq!(other.status, StatusCode::OK);
    let ims = app
        .public_get("/registry.json", &[("if-modified-since", &lm)])
        .await;
    assert_eq!(ims.status, StatusCode::NOT_MODIFIED);
    let old = app
        .public_get(
            "/registry.json",
            &[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")],
        )
        .await;
    assert_eq!(old.status, StatusCode::OK);

    // HEAD: the same headers, no body.
    let head = app
        .send(
            Request::builder()
                .method(Method::HEAD)
                .uri("/registry.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.text.is_empty());
    assert_eq!(head.headers[header::ETAG], etag.as_str());

    // A change answers the old ETag with the new list.
    app.post(
        &format!("/api/v1/credentials/{cert}/revoke"),
        json!({"reason": "entered in error"}),
    )
    .await;
    let changed = app
        .public_get("/registry.json", &[("if-none-match", &etag)])
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.headers[header::ETAG], etag.as_str());
    assert!(names(&changed).is_empty());
    // Every document carries validators.
    for path in [
        "/registry/feed.json",
        "/registry/atom.xml",
        "/registry.schema.json",
        "/registry",
        "/registry/embed",
    ] {
        let r = app.public_get(path, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        let etag = r.headers[header::ETAG].to_str().unwrap();
        let nm = app.public_get(path, &[("if-none-match", etag)]).await;
        assert_eq!(nm.status, StatusCode::NOT_MODIFIED, "{path}");
    }
}
both_backends!(etag_last_modified_304, crate::etag_and_304);

// ---------------------------------------------------------------- CORS

async fn cors(app: &TestApp) {
    let preflight = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/registry.json")
                .header("origin", "https://webmaker.org")
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "if-none-match")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");
    let methods = preflight.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    assert!(preflight.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("if-none-match"));
    assert!(preflight.headers.contains_key("access-control-max-age"));

    for path in [
        "/registry.json",
        "/registry/feed.json",
        "/registry/atom.xml",
        "/registry.schema.json",
    ] {
        let r = app
            .public_get(path, &[("origin", "https://webmaker.org")])
            .await;
        assert_eq!(r.headers["access-control-allow-origin"], "*", "{path}");
        let exposed = r.headers["access-control-expose-headers"].to_str().unwrap();
        assert!(
            exposed.contains("etag") && exposed.contains("last-modified"),
            "{exposed}"
        );
    }
    // Not the admin API, not the HTML page (the other public documents are readable from
    // any origin: tests/limits.rs checks every route).
    for path in ["/api/v1/people/x", "/registry"] {
        let r = app
            .public_get(path, &[("origin", "https://webmaker.org")])
            .await;
        assert!(
            !r.headers.contains_key("access-control-allow-origin"),
            "{path} must not allow cross-origin reads"
        );
    }
    // Any OPTIONS is answered by the CORS layer (no Origin: nothing to allow).
    let plain = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/registry.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(plain.status.is_success(), "{}", plain.status);

    // Configured origins: only those are echoed, with Vary: Origin.
    let mut settings = (*app.state.settings).clone();
    settings.registry_allowed_origins = vec![
        "https://webmaker.org".into(),
        "https://www.webmaker.org".into(),
    ];
    let router = partnership_badges::app(app.state.with_settings(settings));
    let get = |origin: &'static str| {
        router.clone().oneshot(
            Request::builder()
                .uri("/registry.json")
                .header("origin", origin)
                .body(Body::empty())
                .unwrap(),
        )
    };
    let ok = get("https://www.webmaker.org").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://www.webmaker.org"
    );
    assert!(ok.headers().get_all(header::VARY).iter().any(|v| v
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("origin")));
    let no = get("https://evil.example").await.unwrap();
    assert!(!no.headers().contains_key("access-control-allow-origin"));
}
both_backends!(cors_preflight_and_headers, crate::cors);

// ---------------------------------------------------------------- feeds and pages

const XSS: &str = "<img src=x onerror=alert(1)>";

async fn feeds_and_pages(app: &TestApp) {
    app.certified_person("Older Person", "France", true).await;
    app.certified_person(XSS, "France", true).await;
    app.certified_person("Tom & Jerry \"Q\"", "Wales", true)
        .await;
    // Issued in the same second: make the order certain.
    app.exec(
        "update credentials set issued_at = '2026-01-01T00:00:00+00:00' where person_id = \
              (select id from people where name = 'Older Person')",
    )
    .await;

    let f = app.public_get("/registry/feed.json", &[]).await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.text);
    assert_eq!(f.headers[header::CONTENT_TYPE], "application/feed+json");
    assert_eq!(f.body["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(f.body["feed_url"], format!("{BASE}/registry/feed.json"));
    let items = f.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items[2]["title"]
            .as_str()
            .unwrap()
            .starts_with("Older Person"),
        "newest first"
    );
    let dates: Vec<&str> = items
        .iter()
        .map(|i| i["date_published"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    for i in items {
        assert!(i["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{BASE}/credentials/")));
        assert!(i["content_text"].as_str().is_some());
    }

    let a = app.public_get("/registry/atom.xml", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.headers[header::CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let doc = roxmltree::Document::parse(&a.text).expect("well-formed Atom");
    let feed = doc.root_element();
    assert_eq!(
        feed.tag_name().namespace(),
        Some("http://www.w3.org/2005/Atom")
    );
    assert_eq!(feed.tag_name().name(), "feed");
    for required in ["id", "title", "updated"] {
        assert!(feed
            .children()
            .any(|c| c.has_tag_name(("http://www.w3.org/2005/Atom", required))));
    }
    let titles: Vec<String> = feed
        .children()
        .filter(|c| c.has_tag_name(("http://www.w3.org/2005/Atom", "entry")))
        .map(|e| {
            e.children()
                .find(|c| c.has_tag_name(("http://www.w3.org/2005/Atom", "title")))
                .and_then(|t| t.text())
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(titles.len(), 3);
    assert!(
        titles.contains(&format!("{XSS} — Partnership Certified")),
        "{titles:?}"
    );
    assert!(titles.contains(&"Tom & Jerry \"Q\" — Partnership Certified".to_owned()));
    assert!(!a.text.contains("<img"));

    // Filters apply to the feeds too; bad ones are refused.
    let wales = app
        .public_get("/registry/feed.json?country=wales", &[])
        .await;
    assert_eq!(wales.body["items"].as_array().unwrap().len(), 1);

    // The HTML page escapes names, searches and pages without JS.
    let page = app.public_get("/registry?country=France", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.text.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "{}",
        page.text
    );
    assert!(!page.text.contains(XSS));
    assert!(
        !page.text.contains("Tom &amp; Jerry"),
        "filtered by country"
    );
    assert!(page.text.contains("value=\"France\""));
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let paged = app.public_get("/registry?limit=1", &[]).await;
    assert!(paged.text.contains("rel=\"next\""), "{}", paged.text);

    // The embed page: frameable per setting, same escaping, dark theme.
    let embed = app
        .public_get("/registry/embed?theme=dark&limit=2", &[])
        .await;
    assert_eq!(embed.status, StatusCode::OK);
    let csp = embed.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(embed.text.contains("theme-dark"));
    assert!(!embed.text.contains(XSS));

    // The script: served as JavaScript, inserts text only.
    let js = app.public_get("/embed.js", &[]).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.text.contains("attachShadow") && js.text.contains("textContent"));
    assert!(!js.text.contains("innerHTML") && !js.text.contains("insertAdjacentHTML"));

    // The schema: served, and it describes every field the feed sends.
    let s = app.public_get("/registry.schema.json", &[]).await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.headers[header::CONTENT_TYPE], "application/schema+json");
    let r = registry(app, "").await;
    let top = s.body["properties"].as_object().unwrap();
    for k in r.body.as_object().unwrap().keys() {
        assert!(top.contains_key(k), "schema lacks {k}");
    }
    let entry = &s.body["$defs"]["entry"];
    for item in r.body["items"].as_array().unwrap() {
        for k in item.as_object().unwrap().keys() {
            assert!(
                entry["properties"].get(k).is_some(),
                "schema lacks items.{k}"
            );
        }
        for k in entry["required"].as_array().unwrap() {
            assert!(item.get(k.as_str().unwrap()).is_some(), "item lacks {k}");
        }
    }
}
both_backends!(feeds_pages_and_schema, crate::feeds_and_pages);

// ---------------------------------------------------------------- bad input

async fn bad_input(app: &TestApp) {
    for (uri, needle) in [
        ("/registry.json?cursor=garbage", "cursor"),
        ("/registry.json?cursor=cjEKYWRhCm5vdC1hLXV1aWQ", "cursor"),
        ("/registry.json?limit=0", "limit"),
        ("/registry.json?limit=101", "limit"),
        ("/registry.json?limit=ten", "limit"),
        ("/registry.json?sort=name", "unknown query parameter"),
        ("/registry.json?limit=1&limit=2", "more than once"),
        ("/registry/feed.json?prefix=a", "unknown query parameter"),
        ("/registry/atom.xml?cursor=x", "unknown query parameter"),
        ("/registry/embed?theme=pink", "theme"),
    ] {
        let r = app.public_get(uri, &[]).await;
        if uri.starts_with("/registry/embed") {
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        } else {
            r.assert_problem(400, needle);
        }
    }
    let long = format!("/registry.json?prefix={}", "a".repeat(101));
    app.public_get(&long, &[])
        .await
        .assert_problem(400, "prefix");
    let long = format!("/registry.json?country={}", "a".repeat(101));
    app.public_get(&long, &[])
        .await
        .assert_problem(400, "country");
    let page = app.public_get("/registry?limit=0", &[]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let post = app
        .call(Method::POST, "/registry.json", Some(json!({})), None)
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}
both_backends!(bad_input_is_400, crate::bad_input);
