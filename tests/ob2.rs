//! Open Badges 2.0 hosted compatibility on SQLite and PostgreSQL: document shapes, ids that
//! resolve to themselves, the recipient hash shared with the OB 3.0 credential, revocation
//! (410 and the RevocationList), images and the baked assertion.

mod common;

use common::{TestApp, BASE};
use partnership_badges::credential::{baking, ob2};
use serde_json::{json, Value};

/// GETs `url` (absolute, under BASE) and asserts it is JSON-LD whose `id` is `url` itself.
async fn resolves_to_itself(app: &TestApp, url: &str) -> Value {
    let path = url.strip_prefix(BASE).expect("a URL of the service");
    let r = app.get(path).await;
    assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.text);
    assert_eq!(r.headers["content-type"], "application/ld+json", "{path}");
    assert_eq!(r.body["@context"], ob2::OB2_CONTEXT, "{path}");
    assert_eq!(r.body["id"], url, "{path}: the id must be the URL served");
    r.body
}

async fn hosted_documents(app: &TestApp) {
    let (_, closing, id) = app.closed_person("ada@example.org").await;
    let vc = app.get(&format!("/credentials/{id}")).await.body;

    let a = resolves_to_itself(app, &format!("{BASE}/ob2/assertions/{id}")).await;
    assert_eq!(a["type"], "Assertion");
    assert_eq!(a["verification"], json!({"type": "hosted"}));
    assert_eq!(a["issuedOn"], vc["validFrom"]);
    assert!(a.get("expires").is_none());
    // The same recipient identity as the OB 3.0 credential: same salt, same hash.
    let ident = &vc["credentialSubject"]["identifier"][0];
    assert_eq!(
        a["recipient"],
        json!({"type": "email", "hashed": true, "salt": ident["salt"],
               "identity": ident["identityHash"]})
    );
    let salt = ident["salt"].as_str().unwrap();
    assert_eq!(
        a["recipient"]["identity"],
        partnership_badges::program::identity_hash("ada@example.org", salt)
    );
    assert!(!a.to_string().contains("ada@example.org"));
    let evidence = a["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2);
    assert_eq!(evidence[0]["id"], format!("{BASE}/closings/{closing}"));
    assert_eq!(evidence[0]["type"], "Evidence");
    assert!(evidence[1]["name"]
        .as_str()
        .unwrap()
        .contains("Maya Mentor"));

    // Badge, issuer and revocation list resolve to themselves, linked from one another.
    let badge_url = a["badge"].as_str().unwrap();
    assert_eq!(badge_url, format!("{BASE}/ob2/badges/partnership-closed"));
    let badge = resolves_to_itself(app, badge_url).await;
    assert_eq!(badge["type"], "BadgeClass");
    assert_eq!(badge["name"], "Partnership Closed");
    assert!(badge["criteria"]["narrative"]
        .as_str()
        .unwrap()
        .contains("CC'd"));
    assert!(!badge["description"].as_str().unwrap().is_empty());
    let issuer = resolves_to_itself(app, badge["issuer"].as_str().unwrap()).await;
    assert_eq!(issuer["type"], "Issuer");
    assert_eq!(issuer["name"], "Partnership Training Program");
    assert_eq!(issuer["url"], BASE);
    // No ISSUER_EMAIL configured: the documented default.
    assert_eq!(issuer["email"], "badges@badges.test");
    let list = resolves_to_itself(app, issuer["revocationList"].as_str().unwrap()).await;
    assert_eq!(list["type"], "RevocationList");
    assert_eq!(list["issuer"], issuer["id"]);

    // The images are PNGs served here; the assertion's carries the assertion.
    let image = badge["image"].as_str().unwrap().strip_prefix(BASE).unwrap();
    let (status, headers, png) = app.get_bytes(image).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["content-type"], "image/png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(baking::extract_png(&png).unwrap(), None);
    let image = a["image"].as_str().unwrap().strip_prefix(BASE).unwrap();
    let (status, headers, baked) = app.get_bytes(image).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["content-type"], "image/png");
    let (keyword, text) = baking::extract_png(&baked)
        .unwrap()
        .expect("a baked assertion");
    assert_eq!(keyword, baking::PNG_KEYWORD_OB2);
    let extracted: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(extracted, a);

    // Both badges exist; the Certified one too.
    resolves_to_itself(app, &format!("{BASE}/ob2/badges/partnership-certified")).await;
    let (status, _, _) = app
        .get_bytes("/ob2/badges/partnership-certified/image.png")
        .await;
    assert_eq!(status.as_u16(), 200);
}
both_backends!(hosted_documents_on_both, crate::hosted_documents);

async fn revocation(app: &TestApp) {
    // Nothing revoked yet: two placeholder entries, never fewer.
    let list = app.get("/ob2/revocations").await.body;
    let entries = list["revokedAssertions"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{list:#}");
    assert_eq!(entries[0]["id"], ob2::SENTINEL_REVOKED_ID);

    let (person, _, closed) = app.closed_person("bo@example.org").await;
    let r = app.issue("partnership-certified", &person, None).await;
    let cert = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/credentials/{closed}/revoke"),
            json!({"reason": "closing record entered in error"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);

    // 410 Gone, with revoked: true and the reason; the baked image is gone too.
    let r = app.get(&format!("/ob2/assertions/{closed}")).await;
    assert_eq!(r.status.as_u16(), 410, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/ld+json");
    assert_eq!(
        r.body,
        json!({"@context": ob2::OB2_CONTEXT, "id": format!("{BASE}/ob2/assertions/{closed}"),
               "type": "Assertion", "revoked": true,
               "revocationReason": "closing record entered in error"})
    );
    let (status, _, _) = app
        .get_bytes(&format!("/ob2/assertions/{closed}/badge.png"))
        .await;
    assert_eq!(status.as_u16(), 410);
    // The other badge is untouched.
    assert_eq!(
        app.get(&format!("/ob2/assertions/{cert}"))
            .await
            .status
            .as_u16(),
        200
    );

    // The list: the sentinel plus the revoked assertion, with its reason.
    let list = app.get("/ob2/revocations").await.body;
    let entries = list["revokedAssertions"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{list:#}");
    assert_eq!(entries[0]["id"], ob2::SENTINEL_REVOKED_ID);
    assert_eq!(entries[1]["id"], format!("{BASE}/ob2/assertions/{closed}"));
    assert_eq!(
        entries[1]["revocationReason"],
        "closing record entered in error"
    );
    let r = app
        .post(
            &format!("/api/v1/credentials/{cert}/revoke"),
            json!({"reason": "second"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let list = app.get("/ob2/revocations").await.body;
    assert_eq!(list["revokedAssertions"].as_array().unwrap().len(), 3);
}
both_backends!(revocation_on_both, crate::revocation);

async fn expiry_and_unknown_ids(app: &TestApp) {
    let mentor = app.mentor("Maya Mentor", "maya@example.org").await;
    let person = app.person("Cy Closer", "cy@example.org").await;
    let closing = app.closing(&person, &mentor).await;
    let r = app
        .post(
            "/api/v1/credentials",
            json!({"achievement": "partnership-closed", "person_id": person,
                   "closing_id": closing, "valid_until": "2031-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let a = app.get(&format!("/ob2/assertions/{id}")).await.body;
    assert_eq!(a["expires"], "2031-01-01T00:00:00Z");

    for path in [
        format!("/ob2/assertions/{}", uuid::Uuid::new_v4()),
        "/ob2/assertions/not-a-uuid".to_owned(),
        format!("/ob2/assertions/{}/badge.png", uuid::Uuid::new_v4()),
        "/ob2/badges/no-such-badge".to_owned(),
        "/ob2/badges/no-such-badge/image.png".to_owned(),
    ] {
        let r = app.get(&path).await;
        r.assert_problem(404, "no ");
    }
}
both_backends!(
    expiry_and_unknown_ids_on_both,
    crate::expiry_and_unknown_ids
);
