//! The admin and public HTTP API, end to end in-process, on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{TestApp, BASE};
use serde_json::{json, Value};

// ---------------------------------------------------------------- walkthrough

async fn walkthrough(app: &TestApp) {
    let (person, closing, closed_id) = app.closed_person("ada@example.org").await;

    // The Closed badge: hosted id, embedded issuer, hashed email, evidence, status entry, proof.
    let r = app.get(&format!("/api/v1/credentials/{closed_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "valid");
    let vc = &r.body["credential"];
    assert_eq!(vc["id"], format!("{BASE}/credentials/{closed_id}"));
    assert_eq!(
        vc["@context"],
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ])
    );
    assert_eq!(vc["issuer"]["id"], format!("{BASE}/issuer"));
    assert_eq!(vc["issuer"]["type"], json!(["Profile"]));
    let ident = &vc["credentialSubject"]["identifier"][0];
    assert_eq!(ident["identityType"], "emailAddress");
    assert_eq!(ident["hashed"], true);
    let salt = ident["salt"].as_str().unwrap();
    assert_eq!(
        ident["identityHash"],
        partnership_badges::program::identity_hash("ada@example.org", salt)
    );
    assert!(
        !r.text.contains("ada@example.org"),
        "the email must not appear in the credential"
    );
    assert_eq!(
        vc["credentialSubject"]["achievement"]["id"],
        format!("{BASE}/achievements/partnership-closed")
    );
    assert!(
        vc["credentialSubject"]["achievement"]["criteria"]["narrative"]
            .as_str()
            .unwrap()
            .contains("CC'd")
    );
    let evidence = vc["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2);
    assert_eq!(evidence[0]["id"], format!("{BASE}/closings/{closing}"));
    assert!(evidence[0]["narrative"]
        .as_str()
        .unwrap()
        .contains("Lyon Makers Library"));
    assert!(evidence[1]["name"]
        .as_str()
        .unwrap()
        .contains("Maya Mentor"));
    assert!(evidence[1]["narrative"]
        .as_str()
        .unwrap()
        .contains("2026-10-01T09:30:00Z"));
    assert_eq!(vc["credentialStatus"]["type"], "BitstringStatusListEntry");
    assert_eq!(vc["credentialStatus"]["statusPurpose"], "revocation");
    assert_eq!(vc["proof"][0]["type"], "DataIntegrityProof");
    assert_eq!(vc["proof"][0]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(
        vc["proof"][0]["verificationMethod"],
        format!("{BASE}/issuer/keys/key-test")
    );

    // Public JSON serves the stored bytes, with the media type asked for.
    for (accept, media) in [
        ("application/json", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/vc+ld+json", "application/vc+ld+json"),
    ] {
        let req = Request::get(format!("/credentials/{closed_id}"))
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let pr = app.send(req).await;
        assert_eq!(pr.status, StatusCode::OK);
        assert_eq!(pr.headers[header::CONTENT_TYPE], media);
        assert_eq!(pr.body, *vc);
    }

    // Certified: evidence is the closing record and mentor behind it.
    let r = app.issue("partnership-certified", &person, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let cert = &r.body["credential"];
    assert_eq!(
        cert["credentialSubject"]["achievement"]["achievementType"],
        "Certification"
    );
    assert_eq!(
        cert["evidence"][0]["id"],
        format!("{BASE}/closings/{closing}")
    );
    let cert_id = r.body["id"].as_str().unwrap().to_owned();

    // Both verify with the service's own verifier.
    for id in [&closed_id, &cert_id] {
        let doc: Value = app.get(&format!("/credentials/{id}")).await.body;
        let report = partnership_badges::verify::verify_with_state(&app.state, &doc).await;
        assert!(report.verified, "{report:?}");
    }

    // Revoke the Closed badge: the record and the verifier both say revoked.
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed_id}/revoke"),
            json!({"reason": "closing record was entered in error"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "revoked");
    let doc: Value = app.get(&format!("/credentials/{closed_id}")).await.body;
    let report = partnership_badges::verify::verify_with_state(&app.state, &doc).await;
    assert!(!report.verified);
    assert!(
        report.errors.iter().any(|e| e.contains("revoked")),
        "{report:?}"
    );

    // A retried revocation is a success; a different reason conflicts.
    let again = app
        .post(
            &format!("/api/v1/credentials/{closed_id}/revoke"),
            json!({"reason": "closing record was entered in error"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let other = app
        .post(
            &format!("/api/v1/credentials/{closed_id}/revoke"),
            json!({"reason": "another reason"}),
        )
        .await;
    other.assert_problem(409, "already revoked");
}
both_backends!(walkthrough_issues_verifies_and_revokes, crate::walkthrough);

// ---------------------------------------------------------------- public documents

async fn public_documents(app: &TestApp) {
    let r = app.call(Method::GET, "/issuer", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], format!("{BASE}/issuer"));
    assert_eq!(
        r.body["assertionMethod"],
        json!([format!("{BASE}/issuer/keys/key-test")])
    );

    let r = app
        .call(Method::GET, "/issuer/keys/key-test", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["type"], "Multikey");
    assert_eq!(r.body["controller"], format!("{BASE}/issuer"));
    assert!(r.body["publicKeyMultibase"]
        .as_str()
        .unwrap()
        .starts_with("z6Mk"));

    let r = app
        .call(
            Method::GET,
            "/achievements/partnership-certified",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["name"], "Partnership Certified");

    for path in [
        "/issuer/keys/nope",
        "/achievements/nope",
        "/credentials/not-a-uuid",
        "/credentials/6f1c1f0e-3f7e-4a59-9d4e-3f1b2a3c4d5e",
        "/closings/6f1c1f0e-3f7e-4a59-9d4e-3f1b2a3c4d5e",
        "/status/999",
        "/status/x",
        "/no/such/route",
    ] {
        let r = app.call(Method::GET, path, None, None).await;
        r.assert_problem(404, "");
    }

    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");

    // The closing page is public but shows no emails.
    let (_, closing, _) = app.closed_person("bo@example.org").await;
    let r = app
        .call(Method::GET, &format!("/closings/{closing}"), None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["partner"]["name"], "Lyon Makers Library");
    assert!(
        !r.text.contains('@') || !r.text.contains("example.org\""),
        "{}",
        r.text
    );
    assert!(!r.text.contains("bo@example.org"));
    assert!(!r.text.contains("mentor.bo@example.org"));
}
both_backends!(public_documents_resolve, crate::public_documents);

/// Each resource has one URL: a status list only at its canonical decimal number, an id only
/// in its hyphenated form (either case). Other spellings are 404 problems, never the same
/// document under a second URL.
async fn one_spelling(app: &TestApp) {
    let (_, closing, id) = app.closed_person("ada@example.org").await;
    let r = app.get(&format!("/api/v1/credentials/{id}")).await;
    let list_url = r.body["status_list"].as_str().unwrap().to_owned();
    let n: i64 = list_url
        .strip_prefix(&format!("{BASE}/status/"))
        .unwrap()
        .parse()
        .unwrap();
    let r = app
        .call(Method::GET, &format!("/status/{n}"), None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], list_url);
    for other in [
        format!("0{n}"),
        format!("00{n}"),
        format!("+{n}"),
        format!("%2B{n}"),
        format!("{n}.0"),
        format!("%20{n}"),
        format!("{n}%20"),
        format!("-{n}"),
    ] {
        let r = app
            .call(Method::GET, &format!("/status/{other}"), None, None)
            .await;
        r.assert_problem(404, "no status list");
    }

    let uuid: uuid::Uuid = id.parse().unwrap();
    let closing_uuid: uuid::Uuid = closing.parse().unwrap();
    let upper = id.to_uppercase();
    for path in [
        format!("/credentials/{upper}"),
        format!("/api/v1/credentials/{upper}"),
        format!("/ob2/assertions/{upper}"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    for spelling in [
        uuid.simple().to_string(),
        format!("%7B{id}%7D"),
        uuid.urn().to_string(),
    ] {
        for path in [
            format!("/credentials/{spelling}"),
            format!("/credentials/{spelling}/badge.png"),
            format!("/api/v1/credentials/{spelling}"),
            format!("/ob2/assertions/{spelling}"),
        ] {
            app.get(&path).await.assert_problem(404, "");
        }
    }
    for path in [
        format!("/closings/{}", closing_uuid.simple()),
        format!("/api/v1/closings/{}", closing_uuid.urn()),
    ] {
        app.get(&path).await.assert_problem(404, "");
    }
    let r = app.get(&format!("/api/v1/closings/{closing}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
both_backends!(one_url_per_resource, crate::one_spelling);

// ---------------------------------------------------------------- idempotency and batch

async fn idempotency(app: &TestApp) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let person = app.person("Ada Closer", "ada@example.org").await;
    let closing = app.closing(&person, &mentor).await;
    let body =
        json!({"achievement": "partnership-closed", "person_id": person, "closing_id": closing});
    let send = |b: Value| {
        let req = Request::post("/api/v1/credentials")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "retry-1")
            .body(Body::from(b.to_string()))
            .unwrap();
        app.send(req)
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = send(body.clone()).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(first.body["credential"], second.body["credential"]);
    assert_eq!(app.count("credentials").await, 1);

    let mut other = body.clone();
    other["valid_until"] = json!("2099-01-01T00:00:00Z");
    send(other).await.assert_problem(409, "Idempotency-Key");
    assert_eq!(app.count("credentials").await, 1);

    // Concurrent retries of one key still yield one credential.
    let p2 = app.person("Bo Closer", "bo@example.org").await;
    let c2 = app.closing(&p2, &mentor).await;
    let b2 = json!({"achievement": "partnership-closed", "person_id": p2, "closing_id": c2});
    let reqs = (0..8).map(|_| {
        let req = Request::post("/api/v1/credentials")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "race-1")
            .body(Body::from(b2.to_string()))
            .unwrap();
        app.send(req)
    });
    let results = futures::future::join_all(reqs).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|r| {
            assert!(
                r.status == StatusCode::CREATED || r.status == StatusCode::OK,
                "{}",
                r.text
            );
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one key, one credential");
    assert_eq!(app.count("credentials").await, 2);
}
both_backends!(idempotency_key_never_duplicates, crate::idempotency);

async fn batch(app: &TestApp) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let p1 = app.person("Ada", "ada@example.org").await;
    let c1 = app.closing(&p1, &mentor).await;
    let p2 = app.person("Bo", "bo@example.org").await;
    let c2 = app.closing(&p2, &mentor).await;
    let r = app
        .post(
            "/api/v1/credentials/batch",
            json!({"items": [
                {"achievement": "partnership-closed", "person_id": p1, "closing_id": c1, "idempotency_key": "b-1"},
                {"achievement": "partnership-closed", "person_id": p1, "closing_id": c2},
                {"achievement": "partnership-certified", "person_id": p2},
                {"achievement": "nonsense", "person_id": p2},
                {"achievement": "partnership-closed", "person_id": p2, "closing_id": c2, "extra": 1},
                {"achievement": "partnership-closed", "person_id": p2, "closing_id": c2}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let results = r.body["results"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|x| x["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 422, 422, 422, 422, 201], "{}", r.text);
    assert!(results[1]["detail"].as_str().unwrap().contains("closer"));
    assert!(results[2]["detail"]
        .as_str()
        .unwrap()
        .contains("Partnership Closed"));
    assert!(results[3]["detail"]
        .as_str()
        .unwrap()
        .contains("achievement"));
    assert!(results[4]["detail"].as_str().unwrap().contains("extra"));
    assert_eq!(r.body["created"], 2);
    assert_eq!(r.body["failed"], 4);
    assert_eq!(app.count("credentials").await, 2);

    // The same batch row retried with its key answers "existing".
    let again = app
        .post(
            "/api/v1/credentials/batch",
            json!({"items": [{"achievement": "partnership-closed", "person_id": p1, "closing_id": c1, "idempotency_key": "b-1"}]}),
        )
        .await;
    assert_eq!(again.body["results"][0]["status"], 200);
    assert_eq!(again.body["results"][0]["result"], "existing");
    assert_eq!(app.count("credentials").await, 2);

    app.post("/api/v1/credentials/batch", json!({"items": []}))
        .await
        .assert_problem(422, "items");
}
both_backends!(batch_reports_each_row, crate::batch);

// ---------------------------------------------------------------- rules

async fn rules(app: &TestApp) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let person = app.person("Ada Closer", "ada@example.org").await;

    // Mentor = closer (the same person by email) is refused.
    let self_mentor = app.mentor("Ada as mentor", " ADA@example.org ").await;
    app.post(
        "/api/v1/closings",
        TestApp::closing_body(&person, &self_mentor),
    )
    .await
    .assert_problem(422, "mentor CC'd must not be the closer");

    // The mentor must be CC'd no later than the closing, and not in the future.
    let mut late = TestApp::closing_body(&person, &mentor);
    late["mentor_cc_at"] = json!("2026-10-03T08:00:00Z");
    let r = app.post("/api/v1/closings", late).await;
    r.assert_problem(422, "no later than closed_on");
    assert_eq!(r.body["field"], "mentor_cc_at");
    let mut future = TestApp::closing_body(&person, &mentor);
    future["closed_on"] = json!("2999-01-01");
    app.post("/api/v1/closings", future)
        .await
        .assert_problem(422, "closed_on must not be in the future");
    let mut disorder = TestApp::closing_body(&person, &mentor);
    disorder["stages"]["work"] = json!("2026-05-01");
    app.post("/api/v1/closings", disorder)
        .await
        .assert_problem(422, "stages.work");
    assert_eq!(app.count("closings").await, 0);

    // Certified without Closed.
    app.issue("partnership-certified", &person, None)
        .await
        .assert_problem(422, "needs a valid");

    // Closed only for the closer, once per closing.
    let closing = app.closing(&person, &mentor).await;
    let other = app.person("Bo", "bo@example.org").await;
    app.issue("partnership-closed", &other, Some(&closing))
        .await
        .assert_problem(422, "closer");
    app.issue("partnership-closed", &person, None)
        .await
        .assert_problem(422, "closing_id");
    let first = app
        .issue("partnership-closed", &person, Some(&closing))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.issue("partnership-closed", &person, Some(&closing))
        .await
        .assert_problem(409, "already has an active Partnership Closed");

    // One active Certified per person.
    assert_eq!(
        app.issue("partnership-certified", &person, None)
            .await
            .status,
        StatusCode::CREATED
    );
    app.issue("partnership-certified", &person, None)
        .await
        .assert_problem(409, "already has an active Partnership Certified");
    assert_eq!(app.count("credentials").await, 2);

    // A revoked Closed no longer supports a new Certified.
    let fid = first.body["id"].as_str().unwrap();
    let cid = app
        .get(&format!(
            "/api/v1/credentials?person={person}&achievement=partnership-certified"
        ))
        .await
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for id in [fid, cid.as_str()] {
        let r = app
            .post(
                &format!("/api/v1/credentials/{id}/revoke"),
                json!({"reason": "test"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    app.issue("partnership-certified", &person, None)
        .await
        .assert_problem(422, "needs a valid");

    // After revocation, the closing may be awarded again.
    let again = app
        .issue("partnership-closed", &person, Some(&closing))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);

    // An expired Certified frees the slot for a new one.
    let c = app.issue("partnership-certified", &person, None).await;
    assert_eq!(c.status, StatusCode::CREATED);
    let cid = c.body["id"].as_str().unwrap();
    let past = match app.state.store.backend() {
        "sqlite" => "'2020-01-01T00:00:00+00:00'",
        _ => "'2020-01-01T00:00:00Z'",
    };
    app.exec(&format!(
        "update credentials set valid_until = {past} where id = '{cid}'"
    ))
    .await;
    let r = app.get(&format!("/api/v1/credentials/{cid}")).await;
    assert_eq!(r.body["status"], "expired");
    let renewed = app.issue("partnership-certified", &person, None).await;
    assert_eq!(renewed.status, StatusCode::CREATED, "{}", renewed.text);
}
both_backends!(program_rules_hold, crate::rules);

// ---------------------------------------------------------------- bad input

async fn bad_input(app: &TestApp) {
    let person_body = json!({"name": "Ada", "email": "ada@example.org", "listed_in_registry": true, "consent_source": "signed form"});

    // Authentication.
    app.call(
        Method::POST,
        "/api/v1/people",
        Some(person_body.clone()),
        None,
    )
    .await
    .assert_problem(401, "missing");
    app.call(
        Method::POST,
        "/api/v1/people",
        Some(person_body.clone()),
        Some("pb_wrong"),
    )
    .await
    .assert_problem(401, "format is wrong");
    app.call(
        Method::POST,
        "/api/v1/people",
        Some(person_body.clone()),
        Some(&format!("pb_0123456789abcdef_{}", "A".repeat(43))),
    )
    .await
    .assert_problem(401, "unknown token");
    let req = Request::post("/api/v1/people")
        .header(header::AUTHORIZATION, "Basic abc")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(person_body.to_string()))
        .unwrap();
    app.send(req).await.assert_problem(401, "Bearer");
    app.call(Method::GET, "/api/v1/credentials", None, None)
        .await
        .assert_problem(401, "missing");

    // Malformed JSON, wrong media type, oversized body.
    let raw = |body: &'static str, ctype: Option<&str>| {
        let mut req = Request::post("/api/v1/people")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token));
        if let Some(c) = ctype {
            req = req.header(header::CONTENT_TYPE, c);
        }
        app.send(req.body(Body::from(body)).unwrap())
    };
    raw("{\"name\": ", Some("application/json"))
        .await
        .assert_problem(400, "malformed JSON");
    raw("{}", Some("text/plain"))
        .await
        .assert_problem(415, "application/json");
    raw("{}", None)
        .await
        .assert_problem(415, "application/json");
    let big = format!(
        "{{\"name\": \"{}\", \"email\": \"a@example.org\", \"listed_in_registry\": true, \"consent_source\": \"form\"}}",
        "x".repeat(300 * 1024)
    );
    let req = Request::post("/api/v1/people")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    app.send(req).await.assert_problem(413, "larger");

    // Wrong types, unknown and missing fields: 422 naming the field.
    let r = app
        .post(
            "/api/v1/people",
            json!({"name": 5, "email": "a@example.org", "listed_in_registry": true, "consent_source": "signed form"}),
        )
        .await;
    r.assert_problem(422, "name");
    assert_eq!(r.body["field"], "name");
    app.post(
        "/api/v1/people",
        json!({"name": "A", "email": "a@example.org", "listed_in_registry": true, "consent_source": "signed form", "age": 3}),
    )
    .await
    .assert_problem(422, "unknown field `age`");
    app.post(
        "/api/v1/people",
        json!({"name": "A", "email": "a@example.org"}),
    )
    .await
    .assert_problem(422, "missing field `listed_in_registry`");
    let r = app
        .post(
            "/api/v1/people",
            json!({"name": "A", "email": "not-an-email", "listed_in_registry": true, "consent_source": "signed form"}),
        )
        .await;
    r.assert_problem(422, "email");
    assert_eq!(r.body["field"], "email");
    app.post(
        "/api/v1/people",
        json!({"name": "  ", "email": "a@example.org", "listed_in_registry": true, "consent_source": "signed form"}),
    )
    .await
    .assert_problem(422, "name must not be empty");
    app.post(
        "/api/v1/mentors",
        json!({"name": "M", "email": "m@example.org", "url": "javascript:alert(1)"}),
    )
    .await
    .assert_problem(422, "url");

    // Bad dates name the field.
    let mentor = app.mentor("Maya", "maya@example.org").await;
    let person = app.person("Ada", "ada@example.org").await;
    let mut bad_date = TestApp::closing_body(&person, &mentor);
    bad_date["closed_on"] = json!("02/10/2026");
    let r = app.post("/api/v1/closings", bad_date).await;
    r.assert_problem(422, "closed_on");
    assert_eq!(r.body["field"], "closed_on");
    let mut bad_dt = TestApp::closing_body(&person, &mentor);
    bad_dt["mentor_cc_at"] = json!("yesterday");
    app.post("/api/v1/closings", bad_dt)
        .await
        .assert_problem(422, "mentor_cc_at");
    let mut bad_stage = TestApp::closing_body(&person, &mentor);
    bad_stage["stages"]["lead"] = json!("2026-13-01");
    app.post("/api/v1/closings", bad_stage)
        .await
        .assert_problem(422, "stages.lead");
    let mut unknown_stage = TestApp::closing_body(&person, &mentor);
    unknown_stage["stages"]["celebration"] = json!("2026-09-01");
    app.post("/api/v1/closings", unknown_stage)
        .await
        .assert_problem(422, "celebration");

    // Unknown ids.
    let missing = "6f1c1f0e-3f7e-4a59-9d4e-3f1b2a3c4d5e";
    let r = app
        .post("/api/v1/closings", TestApp::closing_body(missing, &mentor))
        .await;
    r.assert_problem(422, "closer_id names no person");
    app.post("/api/v1/closings", TestApp::closing_body(&person, missing))
        .await
        .assert_problem(422, "mentor_id names no mentor");
    app.issue("partnership-closed", missing, Some(missing))
        .await
        .assert_problem(422, "person_id");
    for path in ["mentors", "people", "closings", "credentials"] {
        app.get(&format!("/api/v1/{path}/{missing}"))
            .await
            .assert_problem(404, missing);
        app.get(&format!("/api/v1/{path}/nope"))
            .await
            .assert_problem(404, "nope");
    }
    app.post(
        &format!("/api/v1/credentials/{missing}/revoke"),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(404, missing);
    app.issue("partnership-closed", &person, Some(missing))
        .await
        .assert_problem(422, "closing_id names no closing");
    let r = app
        .post(
            "/api/v1/credentials",
            json!({"achievement": "partnership-closed", "person_id": "nope"}),
        )
        .await;
    r.assert_problem(422, "person_id");

    // Idempotency-Key must be sane.
    let req = Request::post("/api/v1/credentials")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", "has space")
        .body(Body::from(
            json!({"achievement": "partnership-certified", "person_id": person}).to_string(),
        ))
        .unwrap();
    app.send(req).await.assert_problem(400, "Idempotency-Key");
    app.issue("partnership-closed", &person, None)
        .await
        .assert_problem(422, "closing_id");
    let r = app
        .post("/api/v1/credentials", json!({"achievement": "partnership-certified", "person_id": person, "valid_until": "2001-01-01T00:00:00Z"}))
        .await;
    r.assert_problem(422, "valid_until");

    // Listing: bad filters.
    for q in [
        "limit=0",
        "limit=201",
        "limit=x",
        "status=gone",
        "achievement=x",
        "person=x",
        "cursor=!!",
        "colour=red",
    ] {
        app.get(&format!("/api/v1/credentials?{q}"))
            .await
            .assert_problem(400, "");
    }

    // Wrong method: a 405 problem whose body agrees, with the methods the path serves.
    let r = app
        .call(Method::DELETE, "/api/v1/people", None, Some(&app.token))
        .await;
    r.assert_problem(405, "Allow");
    assert_eq!(r.body["status"], 405, "{}", r.text);
    assert_eq!(r.body["title"], "Method Not Allowed", "{}", r.text);
    assert_eq!(r.headers[header::ALLOW], "POST,GET,HEAD");
    let r = app.call(Method::PUT, "/healthz", None, None).await;
    r.assert_problem(405, "Allow");
    assert_eq!(r.body["status"], 405, "{}", r.text);
    assert_eq!(r.headers[header::ALLOW], "GET,HEAD");

    // Nothing was written by any failed request.
    assert_eq!(app.count("people").await, 1);
    assert_eq!(app.count("mentors").await, 1);
    assert_eq!(app.count("closings").await, 0);
    assert_eq!(app.count("credentials").await, 0);
}
both_backends!(bad_input_gets_problem_json, crate::bad_input);

/// Names that show nothing (only spaces, zero-width, format, control or filler characters)
/// or that hold a bidirectional control are refused with a 422 naming the field, wherever a
/// name is accepted: people, mentors, partners, places, tokens. Real names in any script,
/// a zero-width joiner between letters included, are kept.
async fn names(app: &TestApp) {
    let invisible = [
        " \u{200B} ",
        "\u{200C}\u{200D}",
        "\u{2060}",
        "\u{FEFF}",
        "\u{00AD}",
        "\u{180E}",
        "\u{E0041}\u{E0064}",
        "\u{FE0F}",
        "\u{034F}",
        "\u{3164}",
        "\u{2800}",
        "\u{00A0}\u{3000}",
        "\u{200B}\t\u{200B}",
    ];
    let bidi = [
        "Ada \u{202E}ecalevoL",
        "\u{202A}Ada\u{202C}",
        "\u{2066}Ada\u{2069}",
        "\u{2067}Ada",
        "Ada\u{2068}",
        "Ada\u{200E}",
        "Ada\u{200F}",
        "\u{061C}Ada",
    ];
    let person = app.person("Ada Closer", "ada@example.org").await;
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    for (n, bad) in invisible.iter().chain(&bidi).enumerate() {
        let email = format!("p{n}@example.org");
        let cases: Vec<(&str, &str, Value)> = vec![
            (
                "/api/v1/mentors",
                "name",
                json!({"name": bad, "email": email}),
            ),
            (
                "/api/v1/people",
                "name",
                json!({"name": bad, "email": email, "listed_in_registry": true, "consent_source": "signed form"}),
            ),
            (
                "/api/v1/people",
                "city",
                json!({"name": "Bo", "email": email, "city": bad, "listed_in_registry": true, "consent_source": "signed form"}),
            ),
            (
                "/api/v1/people",
                "country",
                json!({"name": "Bo", "email": email, "country": bad,
                       "listed_in_registry": true, "consent_source": "signed form"}),
            ),
            ("/api/v1/closings", "partner_name", {
                let mut b = TestApp::closing_body(&person, &mentor);
                b["partner_name"] = json!(bad);
                b
            }),
            ("/api/v1/closings", "partner_city", {
                let mut b = TestApp::closing_body(&person, &mentor);
                b["partner_city"] = json!(bad);
                b
            }),
            (
                "/api/v1/tokens",
                "name",
                json!({"name": bad, "scopes": ["read"]}),
            ),
        ];
        for (uri, field, body) in cases {
            // A blank optional field is absent, not refused.
            let optional = ["city", "country", "partner_city"].contains(&field);
            if optional && bad.trim().is_empty() {
                continue;
            }
            let r = app.post(uri, body).await;
            r.assert_problem(422, field);
            assert_eq!(r.body["field"], field, "{uri} {bad:?}: {}", r.text);
        }
        let r = app
            .call(
                Method::PATCH,
                &format!("/api/v1/people/{person}"),
                Some(json!({"name": bad})),
                Some(&app.token),
            )
            .await;
        r.assert_problem(422, "name");
        assert_eq!(r.body["field"], "name", "{bad:?}");
    }
    // Nothing was stored: one person, one mentor, no closing, the test's token only.
    assert_eq!(app.count("people").await, 1);
    assert_eq!(app.count("mentors").await, 1);
    assert_eq!(app.count("closings").await, 0);
    assert_eq!(app.count("api_tokens").await, 1);

    // Real names in any script are kept, as sent (trimmed).
    for (n, good) in [
        "Zoë Ångström",
        "محمد الفاسي",
        "李小龍",
        "O'Brien-Smith",
        "क्‍ष",
        "Ada\u{200D}Lovelace",
        "\u{1F600}",
    ]
    .into_iter()
    .enumerate()
    {
        let r = app
            .post(
                "/api/v1/people",
                json!({"name": format!(" {good} "), "email": format!("g{n}@example.org"),
                       "city": good, "listed_in_registry": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{good:?}: {}", r.text);
        assert_eq!(r.body["name"], good);
        let r = app
            .post(
                "/api/v1/tokens",
                json!({"name": format!("{good} {n}"), "scopes": ["read"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{good:?}: {}", r.text);
    }
}
both_backends!(invisible_and_bidi_names_are_refused, crate::names);

async fn revoked_token(app: &TestApp) {
    let r = app.get("/api/v1/credentials").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(app
        .state
        .store
        .revoke_token("test-admin", partnership_badges::program::now())
        .await
        .unwrap());
    app.get("/api/v1/credentials")
        .await
        .assert_problem(401, "revoked");
}
both_backends!(revoked_token_is_refused, crate::revoked_token);

// ---------------------------------------------------------------- listing

async fn listing(app: &TestApp) {
    let mentor = app.mentor("Maya", "maya@example.org").await;
    let mut people = Vec::new();
    for i in 0..5 {
        let p = app
            .person(&format!("P{i}"), &format!("p{i}@example.org"))
            .await;
        let c = app.closing(&p, &mentor).await;
        assert_eq!(
            app.issue("partnership-closed", &p, Some(&c)).await.status,
            StatusCode::CREATED
        );
        people.push(p);
    }
    assert_eq!(
        app.issue("partnership-certified", &people[0], None)
            .await
            .status,
        StatusCode::CREATED
    );

    // Page through all six, two at a time, newest first, no repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/api/v1/credentials?limit=2&cursor={c}"),
            None => "/api/v1/credentials?limit=2".to_owned(),
        };
        let r = app.get(&uri).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for item in r.body["items"].as_array().unwrap() {
            assert!(item.get("credential").is_none());
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 6);

    let r = app
        .get("/api/v1/credentials?achievement=partnership-certified")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = app
        .get(&format!("/api/v1/credentials?person={}", people[0]))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let one = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/credentials/{one}/revoke"),
        json!({"reason": "test"}),
    )
    .await;
    let r = app.get("/api/v1/credentials?status=revoked").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["id"], one.as_str());
    let r = app.get("/api/v1/credentials?status=valid").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 5);
    let r = app.get("/api/v1/credentials?status=expired").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
}
both_backends!(listing_filters_and_pages, crate::listing);

/// `GET /api/v1/people`, `/mentors` and `/closings`: search, filters and cursor paging, read
/// scope, clear 400s.
async fn record_lists(app: &TestApp) {
    let maya = app.mentor("Maya Mentor", "maya@example.org").await;
    let omar = app.mentor("Omar Guide", "omar@example.org").await;
    let ada = app.person("Ada Lovelace", "ada@example.org").await;
    let r = app
        .post(
            "/api/v1/people",
            json!({"name": "Grace Hopper", "email": "grace@example.org", "city": "Arlington",
                   "country": "United States", "listed_in_registry": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let grace = r.body["id"].as_str().unwrap().to_owned();
    let alan = app.person("Alan 100%_Turing", "alan@example.org").await;
    let mut body = TestApp::closing_body(&ada, &maya);
    body["partner_name"] = json!("Mozilla Foundation");
    body["partner_country"] = json!("United States");
    body["closed_on"] = json!("2026-10-05");
    let r = app.post("/api/v1/closings", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mozilla = r.body["id"].as_str().unwrap().to_owned();
    let mut body = TestApp::closing_body(&grace, &omar);
    body["partner_name"] = json!("Wikimedia Deutschland");
    body["partner_country"] = json!("Germany");
    body["closed_on"] = json!("2026-11-20");
    let r = app.post("/api/v1/closings", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let wikimedia = r.body["id"].as_str().unwrap().to_owned();

    let ids = |r: &common::Res| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Any case, in the name or the email; `%` and `_` are themselves.
    assert_eq!(ids(&app.get("/api/v1/people?q=LOVE").await), [ada.as_str()]);
    assert_eq!(
        ids(&app.get("/api/v1/people?q=grace%40").await),
        [grace.as_str()]
    );
    assert_eq!(
        ids(&app.get("/api/v1/people?q=100%25_").await),
        [alan.as_str()]
    );
    assert!(ids(&app.get("/api/v1/people?q=0%25T").await).is_empty());
    let mut french = ids(&app.get("/api/v1/people?country=France").await);
    french.sort();
    let mut expected = vec![ada.clone(), alan.clone()];
    expected.sort();
    assert_eq!(french, expected);
    assert_eq!(
        ids(&app.get("/api/v1/mentors?q=omar").await),
        [omar.as_str()]
    );

    // Pages of one, newest first, through every person exactly once.
    let mut seen = Vec::new();
    let mut uri = "/api/v1/people?limit=1".to_owned();
    loop {
        let r = app.get(&uri).await;
        seen.extend(ids(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/people?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    for id in [&ada, &grace, &alan] {
        assert!(seen.contains(id));
    }

    assert_eq!(
        ids(&app.get("/api/v1/closings?q=wiki").await),
        [wikimedia.as_str()]
    );
    assert_eq!(
        ids(&app.get("/api/v1/closings?country=United%20States").await),
        [mozilla.as_str()]
    );
    let between = "/api/v1/closings?closed_from=2026-10-05&closed_to=2026-10-31";
    assert_eq!(ids(&app.get(between).await), [mozilla.as_str()]);
    assert_eq!(
        ids(&app.get(&format!("/api/v1/closings?person={grace}")).await),
        [wikimedia.as_str()]
    );
    assert_eq!(
        ids(&app.get(&format!("/api/v1/closings?mentor={maya}")).await),
        [mozilla.as_str()]
    );
    assert_eq!(ids(&app.get("/api/v1/closings").await).len(), 2);

    for (uri, needle) in [
        ("/api/v1/people?limit=0", "limit"),
        ("/api/v1/people?cursor=nonsense", "cursor"),
        ("/api/v1/people?sort=name", "sort"),
        ("/api/v1/closings?closed_from=2026-13-01", "closed_from"),
        ("/api/v1/closings?person=ada", "person must be a UUID"),
    ] {
        app.get(uri).await.assert_problem(400, needle);
    }
    let long = format!("/api/v1/mentors?q={}", "a".repeat(201));
    app.get(&long).await.assert_problem(400, "at most 200");
    let r = app
        .call(Method::GET, "/api/v1/people", None, Some("pb_nope"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

both_backends!(record_lists_on, crate::record_lists);

/// A partner-fit assessment on a closing: recorded with it or later, checked criterion by
/// criterion, and internal (not on the public closing record, not in a badge).
async fn partner_fit(app: &TestApp) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let closer = app.person("Ada Lovelace", "ada@example.org").await;
    let r = |score: u64| json!({"score": score, "note": "seen at the kickoff"});
    let fit = json!({
        "depth": {"locations_and_audiences": r(3), "organisational_structures": r(2),
                  "localisation": {"score": 1}},
        "spread": {"growth_and_leadership": r(2), "size": r(0), "new_access": r(3)},
        "participation": {"shares_values": r(3), "participates_in_community": r(1),
                          "reputation": r(2)},
    });
    let mut body = TestApp::closing_body(&closer, &mentor);
    body["partner_fit"] = fit.clone();
    let created = app.post("/api/v1/closings", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["partner_fit"], fit);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let closing = format!("/api/v1/closings/{id}");
    assert_eq!(app.get(&closing).await.body["partner_fit"], fit);

    // Internal: not on the public record, its page or the badge it backs.
    let public = app.get(&format!("/closings/{id}")).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text);
    assert!(!public.text.contains("partner_fit") && !public.text.contains("kickoff"));
    let page = app.page(&format!("/closings/{id}")).await;
    assert!(!page.text.contains("kickoff"), "{}", page.text);
    let issued = app.issue("partnership-closed", &closer, Some(&id)).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert!(!issued.text.contains("kickoff") && !issued.text.contains("partner_fit"));

    // Each criterion checked, naming it.
    let mut bad = fit.clone();
    bad["spread"]["size"]["score"] = json!(4);
    let patch = |fit: Value| json!({"partner_fit": fit});
    app.call(Method::PATCH, &closing, Some(patch(bad)), Some(&app.token))
        .await
        .assert_problem(422, "partner_fit.spread.size.score must be 0, 1, 2 or 3");
    let mut long = fit.clone();
    long["depth"]["localisation"]["note"] = json!("x".repeat(1001));
    app.call(Method::PATCH, &closing, Some(patch(long)), Some(&app.token))
        .await
        .assert_problem(
            422,
            "partner_fit.depth.localisation.note must be at most 1000",
        );
    let mut missing = fit.clone();
    missing["participation"]
        .as_object_mut()
        .unwrap()
        .remove("reputation");
    let r = app
        .call(
            Method::PATCH,
            &closing,
            Some(patch(missing)),
            Some(&app.token),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert!(r.text.contains("reputation"), "{}", r.text);
    // Only the assessment changes: the rest is the evidence the badge cites.
    let r = app
        .call(
            Method::PATCH,
            &closing,
            Some(json!({"summary": "new"})),
            Some(&app.token),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    assert_eq!(app.get(&closing).await.body["partner_fit"], fit);

    // Changed, then removed.
    let mut changed = fit.clone();
    changed["spread"]["size"] = json!({"score": 2, "note": "  grew  "});
    let r = app
        .call(
            Method::PATCH,
            &closing,
            Some(patch(changed)),
            Some(&app.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["partner_fit"]["spread"]["size"],
        json!({"score": 2, "note": "grew"})
    );
    let r = app
        .call(
            Method::PATCH,
            &closing,
            Some(patch(Value::Null)),
            Some(&app.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["partner_fit"], Value::Null);
    let unknown = format!("/api/v1/closings/{}", uuid::Uuid::new_v4());
    app.call(
        Method::PATCH,
        &unknown,
        Some(patch(Value::Null)),
        Some(&app.token),
    )
    .await
    .assert_problem(404, "no closing");
}

both_backends!(partner_fit_on, crate::partner_fit);

/// `GET /api/v1/stats`: the dashboard's figures, computed on both databases from records made
/// here (closings dated relative to today, so the calendar counts hold on any day).
async fn program_stats(app: &TestApp) {
    use chrono::Datelike as _;
    let maya = app.mentor("Maya Mentor", "maya@example.org").await;
    let omar = app.mentor("Omar Guide", "omar@example.org").await;
    let ada = app.person("Ada Lovelace", "ada@example.org").await;
    let grace = app.person("Grace Hopper", "grace@example.org").await;
    let alan = app.person("Alan Turing", "alan@example.org").await;
    let today = chrono::Utc::now().date_naive();
    let closing = |closer: &str, mentor: &str, closed_on: chrono::NaiveDate, country: &str| {
        let mut body = TestApp::closing_body(closer, mentor);
        body["closed_on"] = json!(closed_on.to_string());
        body["mentor_cc_at"] = json!(format!("{closed_on}T00:00:00Z"));
        body["stages"] = json!({});
        body["partner_country"] = json!(country);
        body
    };
    let dates = [
        today,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 2).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2024, 1, 15).unwrap(),
    ];
    let mut ids = Vec::new();
    for (closer, mentor, day, country) in [
        (&ada, &maya, dates[0], "United States"),
        (&grace, &omar, dates[1], "France"),
        (&alan, &maya, dates[2], "France"),
    ] {
        let r = app
            .post("/api/v1/closings", closing(closer, mentor, day, country))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    // Ada: Closed only (ready to certify); Grace: Closed and Certified; Alan: nothing yet.
    for (person, closing) in [(&ada, &ids[0]), (&grace, &ids[1])] {
        let r = app.issue("partnership-closed", person, Some(closing)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = app.issue("partnership-certified", &grace, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let r = app.get("/api/v1/stats").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = &r.body;
    let quarter = |d: chrono::NaiveDate| (d.year(), d.month0() / 3);
    let count = |f: &dyn Fn(&chrono::NaiveDate) -> bool| dates.iter().filter(|d| f(d)).count();
    let same_month = count(&|d| (d.year(), d.month()) == (today.year(), today.month()));
    assert_eq!(s["closings"]["this_month"], same_month, "{s:#}");
    assert_eq!(
        s["closings"]["this_quarter"],
        count(&|d| quarter(*d) == quarter(today))
    );
    assert_eq!(
        s["closings"]["this_year"],
        count(&|d| d.year() == today.year())
    );
    assert_eq!(s["closings"]["total"], 3);
    assert_eq!(s["certified_people"], 1);
    assert_eq!(s["queue"]["closings_without_closed"], 1);
    assert_eq!(s["queue"]["ready_to_certify"], 1);
    assert_eq!(s["queue"]["certifications_expiring_60_days"], 0);
    assert_eq!(s["queue"]["failed_notifications"], 0);
    let months = s["closings_per_month"].as_array().unwrap();
    assert_eq!(months.len(), 24);
    assert_eq!(months[23]["month"], today.format("%Y-%m").to_string());
    let in_series: i64 = months.iter().map(|m| m["value"].as_i64().unwrap()).sum();
    let within = count(&|d| {
        let back = (today.year() - d.year()) * 12 + today.month0() as i32 - d.month0() as i32;
        back < 24
    });
    assert_eq!(in_series, within as i64, "{s:#}");
    let certified = s["certified_over_time"].as_array().unwrap();
    assert_eq!(certified.len(), 24);
    assert_eq!(certified[23]["value"], 1);
    assert_eq!(certified[0]["value"], 0);
    assert_eq!(
        s["closings_by_country"],
        json!([{"country": "France", "closings": 2}, {"country": "United States", "closings": 1}])
    );
    assert_eq!(
        s["closings_per_mentor"],
        json!([{"mentor_id": maya, "name": "Maya Mentor", "closings": 2},
               {"mentor_id": omar, "name": "Omar Guide", "closings": 1}])
    );

    // Certifying Ada moves her out of the queue; read scope is needed.
    let r = app.issue("partnership-certified", &ada, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let s = app.get("/api/v1/stats").await.body;
    assert_eq!(s["queue"]["ready_to_certify"], 0);
    assert_eq!(s["certified_people"], 2);
    let r = app.call(Method::GET, "/api/v1/stats", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

both_backends!(program_stats_on, crate::program_stats);
