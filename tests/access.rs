//! Access control of the admin API, on SQLite and PostgreSQL: every admin route against
//! every kind of credential (none, malformed, unknown, wrong secret, expired, revoked,
//! wrong scope, right scope), with the audit log checked after each call; token management
//! over HTTP; reading the audit log.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Duration;
use common::{make_token, Res, TestApp};
use partnership_badges::db::{AuditFilter, AuditRecord};
use partnership_badges::program::now;
use partnership_badges::tokens::{sha256_hex, Scope};
use serde_json::{json, Value};
use uuid::Uuid;

/// Sends a request with this `Authorization` header value (if any) and `x-request-id`.
async fn send(
    app: &TestApp,
    method: &Method,
    uri: &str,
    body: Option<&Value>,
    authorization: Option<&str>,
    request_id: Option<&str>,
) -> Res {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if let Some(a) = authorization {
        req = req.header(header::AUTHORIZATION, a);
    }
    if let Some(id) = request_id {
        req = req.header("x-request-id", id);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    app.send(req).await
}

/// The newest audit entry.
async fn last_audit(app: &TestApp) -> AuditRecord {
    let rows = app
        .state
        .store
        .list_audit(&AuditFilter {
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    rows.into_iter().next().expect("an audit entry")
}

/// Ids the right-scope calls act on, made beforehand with the admin token.
struct Fixture {
    mentor: String,
    person: String,
    /// Closings without a badge: one for the single issue, one for the batch.
    closing_single: String,
    closing_batch: String,
    /// A Partnership Closed badge to read, and one to revoke.
    credential: String,
    credential_to_revoke: String,
    /// A token for `POST /api/v1/tokens/{id}/revoke` to revoke.
    victim_token: String,
}

/// A route of the admin API: method, template, the scope it needs, the concrete path and
/// body of a call that succeeds with the right scope, and that success status.
struct Route {
    method: Method,
    template: &'static str,
    needs: Scope,
    path: fn(&Fixture) -> String,
    body: fn(&Fixture) -> Option<Value>,
    ok: u16,
}

/// Every admin route. A new admin route must be added here (the matrix below then checks
/// that it refuses the wrong scope and records to the audit log).
fn routes() -> Vec<Route> {
    fn none(_: &Fixture) -> Option<Value> {
        None
    }
    vec![
        Route {
            method: Method::POST,
            template: "/api/v1/mentors",
            needs: Scope::Issue,
            path: |_| "/api/v1/mentors".into(),
            body: |_| Some(json!({"name": "Mo Mentor", "email": "mo.matrix@example.org"})),
            ok: 201,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/mentors/{id}",
            needs: Scope::Read,
            path: |f| format!("/api/v1/mentors/{}", f.mentor),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/people",
            needs: Scope::Issue,
            path: |_| "/api/v1/people".into(),
            body: |_| {
                Some(
                    json!({"name": "Pat Matrix", "email": "pat.matrix@example.org",
                            "listed_in_registry": false}),
                )
            },
            ok: 201,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/people/{id}",
            needs: Scope::Read,
            path: |f| format!("/api/v1/people/{}", f.person),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::PATCH,
            template: "/api/v1/people/{id}",
            needs: Scope::Issue,
            path: |f| format!("/api/v1/people/{}", f.person),
            body: |_| Some(json!({"city": "Paris"})),
            ok: 200,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/closings",
            needs: Scope::Issue,
            path: |_| "/api/v1/closings".into(),
            body: |f| {
                let mut b = TestApp::closing_body(&f.person, &f.mentor);
                b["partner_name"] = json!("Matrix Partner");
                Some(b)
            },
            ok: 201,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/closings/{id}",
            needs: Scope::Read,
            path: |f| format!("/api/v1/closings/{}", f.closing_single),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/credentials",
            needs: Scope::Issue,
            path: |_| "/api/v1/credentials".into(),
            body: |f| {
                Some(
                    json!({"achievement": "partnership-closed", "person_id": f.person,
                            "closing_id": f.closing_single}),
                )
            },
            ok: 201,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/credentials",
            needs: Scope::Read,
            path: |_| "/api/v1/credentials?limit=5".into(),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/credentials/batch",
            needs: Scope::Issue,
            path: |_| "/api/v1/credentials/batch".into(),
            body: |f| {
                Some(json!({"items": [{"achievement": "partnership-closed",
                    "person_id": f.person, "closing_id": f.closing_batch}]}))
            },
            ok: 200,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/credentials/{id}",
            needs: Scope::Read,
            path: |f| format!("/api/v1/credentials/{}", f.credential),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/credentials/{id}/revoke",
            needs: Scope::Revoke,
            path: |f| format!("/api/v1/credentials/{}/revoke", f.credential_to_revoke),
            body: |_| Some(json!({"reason": "entered in error"})),
            ok: 200,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/tokens",
            needs: Scope::Admin,
            path: |_| "/api/v1/tokens".into(),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/tokens",
            needs: Scope::Admin,
            path: |_| "/api/v1/tokens".into(),
            body: |_| Some(json!({"name": "made-by-matrix", "scopes": ["read"]})),
            ok: 201,
        },
        Route {
            method: Method::POST,
            template: "/api/v1/tokens/{id}/revoke",
            needs: Scope::Admin,
            path: |f| format!("/api/v1/tokens/{}/revoke", f.victim_token),
            body: none,
            ok: 200,
        },
        Route {
            method: Method::GET,
            template: "/api/v1/audit",
            needs: Scope::Admin,
            path: |_| "/api/v1/audit?limit=5".into(),
            body: none,
            ok: 200,
        },
    ]
}

async fn fixture(app: &TestApp) -> Fixture {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let person = app.person("Ada Closer", "ada@example.org").await;
    let mut closings = Vec::new();
    for partner in ["Single", "Batch", "Read", "Revoke"] {
        let mut body = TestApp::closing_body(&person, &mentor);
        body["partner_name"] = json!(format!("{partner} Library"));
        let r = app.post("/api/v1/closings", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        closings.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let mut credentials = Vec::new();
    for closing in &closings[2..] {
        let r = app
            .issue("partnership-closed", &person, Some(closing))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        credentials.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let victim = make_token(&*app.state.store, "victim", "read", None).await;
    Fixture {
        mentor,
        person,
        closing_single: closings[0].clone(),
        closing_batch: closings[1].clone(),
        credential: credentials[0].clone(),
        credential_to_revoke: credentials[1].clone(),
        victim_token: victim.token.id.to_string(),
    }
}

/// One call of the matrix: its name, the `Authorization` header, the expected status, what
/// the problem detail mentions, and the token the audit log should name.
type Case = (&'static str, Option<String>, u16, String, Option<Uuid>);

/// Every scope but `missing` (and but `admin`, which implies all).
fn all_but(missing: Scope) -> String {
    Scope::ALL
        .iter()
        .filter(|s| **s != missing && **s != Scope::Admin)
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",")
}

async fn matrix(app: &TestApp) {
    let fixture = fixture(app).await;
    let store = &*app.state.store;

    // One token with exactly each scope (the right-scope calls), one with every scope but
    // each (the wrong-scope calls), and an expired and a revoked token that would otherwise
    // be allowed everything.
    let mut right = std::collections::HashMap::new();
    let mut wrong = std::collections::HashMap::new();
    for scope in Scope::ALL {
        right.insert(
            scope.name(),
            make_token(store, &format!("only-{scope}"), scope.name(), None).await,
        );
        wrong.insert(
            scope.name(),
            make_token(store, &format!("all-but-{scope}"), &all_but(scope), None).await,
        );
    }
    let expired = make_token(store, "expired", "admin", Some(now() - Duration::hours(1))).await;
    let revoked = make_token(store, "revoked", "admin", None).await;
    assert!(store.revoke_token("revoked", now()).await.unwrap());
    let unknown = format!("pb_{}_{}", "0123456789abcdef", "Z".repeat(43));

    let mut secrets = vec![app.token.clone(), expired.secret.clone()];
    secrets.push(revoked.secret.clone());

    for (n, route) in routes().iter().enumerate() {
        let path = (route.path)(&fixture);
        let body = (route.body)(&fixture);
        let target = route
            .template
            .contains("{id}")
            .then(|| path.split('/').nth(4).unwrap().to_owned());
        let good = &right[route.needs.name()];
        let bad_scope = &wrong[route.needs.name()];
        // Right public id, wrong secret: the id alone must not authenticate.
        let wrong_secret = format!("{}{}", &good.secret[..20], "Y".repeat(43));
        assert_ne!(wrong_secret, good.secret);
        secrets.extend([good.secret.clone(), bad_scope.secret.clone()]);

        let bearer = |t: &str| format!("Bearer {t}");
        let cases: Vec<Case> = vec![
            ("none", None, 401, "missing".into(), None),
            (
                "malformed-header",
                Some("Basic YWRtaW46YWRtaW4=".into()),
                401,
                "Bearer".into(),
                None,
            ),
            (
                "malformed-token",
                Some(bearer("pb_not-a-token")),
                401,
                "format is wrong".into(),
                None,
            ),
            (
                "unknown",
                Some(bearer(&unknown)),
                401,
                "unknown token".into(),
                None,
            ),
            (
                "wrong-secret",
                Some(bearer(&wrong_secret)),
                401,
                "unknown token".into(),
                None,
            ),
            (
                "expired",
                Some(bearer(&expired.secret)),
                401,
                "expired".into(),
                Some(expired.token.id),
            ),
            (
                "revoked",
                Some(bearer(&revoked.secret)),
                401,
                "revoked".into(),
                Some(revoked.token.id),
            ),
            (
                "wrong-scope",
                Some(bearer(&bad_scope.secret)),
                403,
                format!("`{}` scope", route.needs),
                Some(bad_scope.token.id),
            ),
            (
                "right-scope",
                Some(bearer(&good.secret)),
                route.ok,
                String::new(),
                Some(good.token.id),
            ),
        ];
        for (case, authorization, status, detail, who) in cases {
            let request_id = format!("matrix-{n}-{case}");
            let what = format!("{} {} ({case})", route.method, route.template);
            let r = send(
                app,
                &route.method,
                &path,
                body.as_ref(),
                authorization.as_deref(),
                Some(&request_id),
            )
            .await;
            if status >= 400 {
                assert_eq!(r.status.as_u16(), status, "{what}: {}", r.text);
                r.assert_problem(status, &detail);
            } else {
                assert_eq!(r.status.as_u16(), status, "{what}: {}", r.text);
            }

            // The audit log has this call: who, what, target, result, and the request id
            // this service gave it (answered in `x-request-id`), not the client's.
            let entry = last_audit(app).await.entry;
            let ours = r.headers["x-request-id"].to_str().unwrap();
            assert_ne!(ours, request_id, "{what}");
            assert_eq!(entry.request_id.as_deref(), Some(ours), "{what}");
            assert_eq!(
                entry.action,
                format!("{} {}", route.method, route.template),
                "{what}"
            );
            assert_eq!(entry.target, target, "{what}");
            assert_eq!(entry.status, status, "{what}");
            assert_eq!(entry.token_id, who, "{what}");
            let name = who.map(|id| {
                [&expired, &revoked, good, bad_scope]
                    .iter()
                    .find(|t| t.token.id == id)
                    .unwrap()
                    .token
                    .name
                    .clone()
            });
            assert_eq!(entry.token_name, name, "{what}");
        }
    }

    // The right-scope calls really acted.
    let r = app
        .get(&format!(
            "/api/v1/credentials/{}",
            fixture.credential_to_revoke
        ))
        .await;
    assert_eq!(r.body["status"], "revoked", "{}", r.text);
    let victim = store
        .token(fixture.victim_token.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(victim.revoked_at.is_some());
    let r = app.get("/api/v1/credentials?limit=50").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 4, "{}", r.text);

    // No secret anywhere in the audit log (nor the part after the public id).
    assert!(app.count("audit_log").await >= 16 * 9);
    let columns = "coalesce(token_name, '') || ' ' || action || ' ' || coalesce(target, '') \
                   || ' ' || coalesce(request_id, '')";
    for secret in &secrets {
        for needle in [secret.as_str(), &secret[20..]] {
            let hits = app
                .count(&format!("audit_log where {columns} like '%{needle}%'"))
                .await;
            assert_eq!(hits, 0, "the audit log holds a secret");
        }
    }
    // At rest, a token is its public id and the hash of its secret.
    let good = &right["read"];
    let stored = store.token(good.token.id).await.unwrap().unwrap();
    assert_eq!(stored.public_id.as_deref(), Some(&good.secret[3..19]));
    assert_eq!(stored.token_hash, sha256_hex(&good.secret[20..]));
}
// Hundreds of refused credentials from one client: the failed-authentication lockout
// (tests/limits.rs) would answer 429 long before the matrix is through, so it is off here.
both_backends!(
    every_route_against_every_credential,
    crate::matrix,
    ["--auth-failure-limit", "0"]
);

async fn scopes_combine(app: &TestApp) {
    let t = make_token(&*app.state.store, "issue-and-read", "issue,read", None).await;
    let (_, _, credential) = app.closed_person("combo@example.org").await;
    let auth = format!("Bearer {}", t.secret);
    let r = send(
        app,
        &Method::GET,
        &format!("/api/v1/credentials/{credential}"),
        None,
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = send(
        app,
        &Method::POST,
        "/api/v1/mentors",
        Some(&json!({"name": "M2", "email": "m2@example.org"})),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    send(
        app,
        &Method::POST,
        &format!("/api/v1/credentials/{credential}/revoke"),
        Some(&json!({"reason": "no"})),
        Some(&auth),
        None,
    )
    .await
    .assert_problem(403, "`revoke` scope");
    // Refused before the body is read: a bad body with a token lacking the scope is a 403.
    send(
        app,
        &Method::POST,
        "/api/v1/tokens",
        Some(&json!({"nonsense": true})),
        Some(&auth),
        None,
    )
    .await
    .assert_problem(403, "`admin` scope");
    // Without a token, the body is never looked at either.
    send(app, &Method::POST, "/api/v1/tokens", None, None, None)
        .await
        .assert_problem(401, "missing");
}
both_backends!(scopes_combine_and_admin_is_separate, crate::scopes_combine);

async fn token_management(app: &TestApp) {
    // Create: 201, the token once, its scopes and expiry.
    let r = app
        .post(
            "/api/v1/tokens",
            json!({"name": "importer", "scopes": ["issue", "read"], "expires_in": "90d"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let secret = r.body["token"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["scopes"], json!(["issue", "read"]));
    assert_eq!(r.body["status"], "active");
    assert!(secret.starts_with(r.body["prefix"].as_str().unwrap()));
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(r.body["expires_at"].clone()).unwrap();
    let in_90d = now() + Duration::days(90);
    assert!((expires - in_90d).num_seconds().abs() <= 5, "{expires}");

    // The new token works within its scopes.
    let auth = format!("Bearer {secret}");
    let r = send(
        app,
        &Method::GET,
        "/api/v1/credentials",
        None,
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    send(app, &Method::GET, "/api/v1/tokens", None, Some(&auth), None)
        .await
        .assert_problem(403, "`admin` scope");

    // The list: every token, never a secret or a hash.
    let r = app.get("/api/v1/tokens").await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().unwrap();
    let mut names: Vec<&str> = items.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["importer", "test-admin"]);
    let admin = items.iter().find(|t| t["name"] == "test-admin").unwrap();
    assert_eq!(admin["scopes"], json!(["admin"]));
    for t in items {
        let mut keys: Vec<&str> = t.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "created_at",
                "expires_at",
                "id",
                "name",
                "prefix",
                "revoked_at",
                "scopes",
                "status"
            ]
        );
    }
    let stored = app
        .state
        .store
        .token(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!r.text.contains(&stored.token_hash));
    assert!(!r.text.contains(&secret[20..]));

    // Bad input: a taken name, an unknown scope, no scope, a past expiry, both expiries.
    app.post(
        "/api/v1/tokens",
        json!({"name": "importer", "scopes": ["read"]}),
    )
    .await
    .assert_problem(409, "already exists");
    let r = app
        .post("/api/v1/tokens", json!({"name": "x", "scopes": ["write"]}))
        .await;
    r.assert_problem(422, "write");
    assert_eq!(r.body["field"], "scopes");
    app.post("/api/v1/tokens", json!({"name": "x", "scopes": []}))
        .await
        .assert_problem(422, "at least one scope");
    let r = app
        .post(
            "/api/v1/tokens",
            json!({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    r.assert_problem(422, "not in the future");
    assert_eq!(r.body["field"], "expires_at");
    app.post(
        "/api/v1/tokens",
        json!({"name": "x", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00Z",
               "expires_in": "1d"}),
    )
    .await
    .assert_problem(422, "not both");
    app.post(
        "/api/v1/tokens",
        json!({"name": "x", "scopes": ["read"], "expires_in": "1 fortnight"}),
    )
    .await
    .assert_problem(422, "lifetime");
    app.post("/api/v1/tokens", json!({"name": "  ", "scopes": ["read"]}))
        .await
        .assert_problem(422, "1 to 100");
    // PostgreSQL stores no NUL in text: refused like any control character, never a 500.
    app.post(
        "/api/v1/tokens",
        json!({"name": "ci\u{0}bot", "scopes": ["read"]}),
    )
    .await
    .assert_problem(422, "control characters");

    // Revoke: the token stops working at once; again is harmless; unknown ids are 404.
    let r = app
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "revoked");
    let first = r.body["revoked_at"].clone();
    send(
        app,
        &Method::GET,
        "/api/v1/credentials",
        None,
        Some(&auth),
        None,
    )
    .await
    .assert_problem(401, "revoked");
    let r = app
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["revoked_at"], first);
    app.post(
        &format!("/api/v1/tokens/{}/revoke", Uuid::new_v4()),
        json!({}),
    )
    .await
    .assert_problem(404, "no token");
    app.post("/api/v1/tokens/not-an-id/revoke", json!({}))
        .await
        .assert_problem(404, "no token");
}
both_backends!(tokens_over_http, crate::token_management);

async fn audit_listing(app: &TestApp) {
    let store = &*app.state.store;
    let reader = make_token(store, "reader", "read", None).await;
    let reader_auth = format!("Bearer {}", reader.secret);
    let start = now();
    // Five reads by `reader`, one refused call without a token, one without a request id;
    // each is logged under the id it was answered with.
    let answered = |r: &Res| r.headers["x-request-id"].to_str().unwrap().to_owned();
    let mut reads = Vec::new();
    for i in 0..5 {
        let r = send(
            app,
            &Method::GET,
            "/api/v1/credentials",
            None,
            Some(&reader_auth),
            Some(&format!("read-{i}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        reads.push(answered(&r));
    }
    let r = send(
        app,
        &Method::POST,
        "/api/v1/people",
        None,
        None,
        Some("anon"),
    )
    .await;
    r.assert_problem(401, "missing");
    let anon = answered(&r);
    let r = send(
        app,
        &Method::GET,
        "/api/v1/tokens",
        None,
        Some(&reader_auth),
        None,
    )
    .await;
    r.assert_problem(403, "admin");
    let generated = r.headers["x-request-id"].to_str().unwrap().to_owned();

    // Newest first; the generated request id is kept too.
    let r = app.get("/api/v1/audit?limit=3").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["action"], "GET /api/v1/tokens");
    assert_eq!(items[0]["status"], 403);
    assert_eq!(items[0]["request_id"], generated.as_str());
    assert_eq!(items[0]["token"]["name"], "reader");
    assert_eq!(items[0]["token"]["id"], reader.token.id.to_string());
    assert_eq!(items[1]["request_id"], anon.as_str());
    assert_eq!(items[1]["token"], Value::Null);
    assert_eq!(items[1]["status"], 401);
    assert_eq!(items[2]["request_id"], reads[4].as_str());

    // Pages by cursor: each entry once, in strictly decreasing order.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/audit?token=reader&limit=2".to_owned();
    loop {
        let r = app.get(&uri).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for e in r.body["items"].as_array().unwrap() {
            assert_eq!(e["token"]["name"], "reader");
            seen.push(e["id"].as_i64().unwrap());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/audit?token=reader&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");

    // Filters: token id, action, since.
    let r = app
        .get(&format!(
            "/api/v1/audit?token={}&action=GET%20/api/v1/credentials",
            reader.token.id
        ))
        .await;
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = reads.iter().rev().map(String::as_str).collect();
    assert_eq!(ids, newest_first);
    let r = app
        .get("/api/v1/audit?action=POST%20/api/v1/people&limit=500")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
    let since = |t: chrono::DateTime<chrono::Utc>| {
        format!("/api/v1/audit?since={}", t.format("%Y-%m-%dT%H:%M:%SZ"))
    };
    let r = app.get(&since(start)).await;
    assert!(r.body["items"].as_array().unwrap().len() >= 7, "{}", r.text);
    let r = app.get(&since(now() + Duration::hours(1))).await;
    assert_eq!(r.body["items"], json!([]));

    // Bad queries are 400s.
    for q in [
        "limit=0",
        "limit=501",
        "limit=x",
        "cursor=nope",
        "since=yesterday",
        "token=",
        "colour=red",
        // PostgreSQL compares no text with a NUL in it: refused, never a 500.
        "token=ci%00bot",
        "action=GET%00/api/v1/credentials",
    ] {
        app.get(&format!("/api/v1/audit?{q}"))
            .await
            .assert_problem(400, "");
    }
}
both_backends!(audit_log_reads, crate::audit_listing);

async fn legacy_token(app: &TestApp) {
    // A token made before public ids: `pb_<secret>`, stored as the hash of the whole token
    // with the admin scope the migration gives it.
    let legacy = format!("pb_{}", "L".repeat(43));
    app.state
        .store
        .insert_token(&partnership_badges::db::ApiToken {
            id: Uuid::new_v4(),
            name: "old".into(),
            public_id: None,
            token_hash: sha256_hex(&legacy),
            scopes: partnership_badges::tokens::Scopes::only(Scope::Admin),
            created_at: now(),
            expires_at: None,
            revoked_at: None,
        })
        .await
        .unwrap();
    let r = app
        .call(Method::GET, "/api/v1/tokens", None, Some(&legacy))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let old = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "old")
        .unwrap();
    assert_eq!(old["prefix"], Value::Null);
    assert_eq!(old["scopes"], json!(["admin"]));
    // A current token's secret part is not a legacy token.
    let current = &app.token;
    let r = app
        .call(
            Method::GET,
            "/api/v1/tokens",
            None,
            Some(&format!("pb_{}", &current[20..])),
        )
        .await;
    r.assert_problem(401, "unknown token");
    assert!(app.state.store.revoke_token("old", now()).await.unwrap());
    app.call(Method::GET, "/api/v1/tokens", None, Some(&legacy))
        .await
        .assert_problem(401, "revoked");
}
both_backends!(legacy_tokens_keep_working, crate::legacy_token);

/// The `Authorization` scheme is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` and
/// any mix work like `Bearer`; another scheme, or a scheme with no token, does not.
async fn bearer_any_case(app: &TestApp) {
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        for gap in [" ", "  "] {
            let authorization = format!("{scheme}{gap}{}", app.token);
            let r = send(
                app,
                &Method::GET,
                "/api/v1/tokens",
                None,
                Some(&authorization),
                None,
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{authorization:?}: {}", r.text);
            assert_eq!(
                last_audit(app).await.entry.token_name.as_deref(),
                Some("test-admin")
            );
        }
    }
    for refused in [
        format!("Bearer{}", app.token),
        format!("Bearerx {}", app.token),
        format!("Token {}", app.token),
        "bearer ".to_owned(),
        "bearer".to_owned(),
    ] {
        send(
            app,
            &Method::GET,
            "/api/v1/tokens",
            None,
            Some(&refused),
            None,
        )
        .await
        .assert_problem(401, "Bearer");
    }
}
both_backends!(bearer_scheme_is_case_insensitive, crate::bearer_any_case);

/// A client's `x-request-id` is never taken as ours: the answer carries a fresh UUID, the
/// audit log records that one, and a client cannot make two requests share an id.
async fn request_ids_are_ours(app: &TestApp) {
    let auth = format!("Bearer {}", app.token);
    let mut seen = std::collections::HashSet::new();
    for client_id in [
        "trace-me-42",
        "trace-me-42",
        "forged \"id\"\twith=tabs",
        &"x".repeat(5000),
    ] {
        let req = Request::get("/api/v1/tokens")
            .header(header::AUTHORIZATION, &auth)
            .header("x-request-id", client_id)
            .header("x-request-id", "a-second-one")
            .body(Body::empty())
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let values: Vec<&str> = r
            .headers
            .get_all("x-request-id")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(values.len(), 1, "{values:?}");
        let ours = values[0];
        assert!(Uuid::try_parse(ours).is_ok(), "{ours}");
        assert!(seen.insert(ours.to_owned()), "{ours} answered twice");
        let entry = last_audit(app).await.entry;
        assert_eq!(entry.request_id.as_deref(), Some(ours));
    }
    assert_eq!(
        app.count("audit_log where request_id like '%trace-me%'")
            .await,
        0
    );
}
both_backends!(request_ids_are_generated, crate::request_ids_are_ours);

/// The migrations before access control, copied to a temp dir: a database as an older
/// version of the service left it.
async fn older_migrator(backend: &str) -> (sqlx::migrate::Migrator, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "20261128000700" {
            std::fs::copy(&path, dir.path().join(name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    (migrator, dir)
}

/// A token row as the older schema stored it: the hash of the whole `pb_<secret>` token.
const OLD_TOKEN_INSERT: &str = "insert into api_tokens (id, name, token_hash, created_at) \
    values ('6f1c1d4e-8d0e-4a36-9c0e-1f2a3b4c5d6e', 'old', $1, '2026-11-01T00:00:00Z')";

/// After the upgrade, an older token still authenticates, with the `admin` scope.
async fn older_token_after_upgrade(app: &TestApp, token: &str) {
    let r = app
        .call(Method::GET, "/api/v1/tokens", None, Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let old = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "old")
        .unwrap()
        .clone();
    assert_eq!(old["scopes"], json!(["admin"]));
    assert_eq!(old["status"], "active");
    let entry = last_audit(app).await.entry;
    assert_eq!(entry.token_name.as_deref(), Some("old"));
}

#[tokio::test]
async fn upgrade_keeps_older_tokens_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/badges.db", dir.path().display());
    let token = format!("pb_{}", "O".repeat(43));
    {
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(opts.create_if_missing(true))
            .await
            .unwrap();
        let (migrator, _files) = older_migrator("sqlite").await;
        migrator.run(&pool).await.unwrap();
        sqlx::query(OLD_TOKEN_INSERT)
            .bind(sha256_hex(&token))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let store = partnership_badges::db::sqlite::SqliteStore::connect(&url, "normal")
        .await
        .unwrap();
    let db = common::Db::Sqlite(store.clone(), dir);
    let app = TestApp::from_store(std::sync::Arc::new(store), db, common::BASE).await;
    older_token_after_upgrade(&app, &token).await;
    app.cleanup().await;
}

#[tokio::test]
async fn upgrade_keeps_older_tokens_postgres() {
    // A fresh schema migrated by the older migrations only.
    let Some((fresh, schema)) = common::pg_store().await else {
        return;
    };
    for sql in [
        format!("drop schema {schema} cascade"),
        format!("create schema {schema}"),
    ] {
        sqlx::query(&sql).execute(fresh.pool()).await.unwrap();
    }
    fresh.pool().close().await;
    let opts: sqlx::postgres::PgConnectOptions = common::pg_url().parse().unwrap();
    let opts = opts.options([("search_path", schema.as_str())]);
    let token = format!("pb_{}", "O".repeat(43));
    {
        let pool = sqlx::PgPool::connect_with(opts.clone()).await.unwrap();
        let (migrator, _files) = older_migrator("postgres").await;
        migrator.run(&pool).await.unwrap();
        sqlx::query(OLD_TOKEN_INSERT)
            .bind(sha256_hex(&token))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let store = partnership_badges::db::postgres::PgStore::connect_with(opts)
        .await
        .unwrap();
    let db = common::Db::Postgres(store.clone(), schema);
    let app = TestApp::from_store(std::sync::Arc::new(store), db, common::BASE).await;
    older_token_after_upgrade(&app, &token).await;
    app.cleanup().await;
}
