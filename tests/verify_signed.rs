//! Verification judges what the signature covers, on SQLite and PostgreSQL.
//!
//! Each attack keeps the signed RDF (checked here: the variant canonicalises to the same
//! N-Quads as the original, so its proof still verifies) while changing what the JSON keys
//! say: aliased keys (full IRIs, inline context terms, value objects), a re-typed status list,
//! content that expansion drops, duplicate keys, and look-alike issuers. Every variant goes
//! through `POST /verify` as JSON, the HTML form, a baked PNG, a baked SVG and the `verify`
//! command, and must come back not verified with a detail that says why. The variants are
//! generated from freshly issued credentials: every checked key, one at a time.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{TestApp, BASE};
use ed25519_dalek::SigningKey;
use partnership_badges::credential::jsonld::JsonLdProcessor;
use partnership_badges::credential::model::OpenBadgeCredential;
use partnership_badges::credential::rdfc::canonicalize;
use partnership_badges::credential::{baking, multikey, sign_credential};
use serde_json::{json, Map, Value};

const CLOSED_SVG: &str = include_str!("../src/html/assets/partnership-closed.svg");
const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";

/// How one channel judged a document.
#[derive(Debug)]
struct Verdict {
    channel: &'static str,
    verified: bool,
    /// Errors and warnings, the problem detail, or the page or command output.
    detail: String,
    /// The report's `issuer.this_service` (JSON channels), or the page's word for it.
    this_service: Option<bool>,
}

/// Runs the `verify` command against this app's database and keys.
struct Command {
    dir: tempfile::TempDir,
    database_url: String,
}

impl Command {
    fn new(app: &TestApp) -> Command {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        let key = keys.join("key-test.key");
        std::fs::write(&key, format!("{}\n", hex::encode([7u8; 32]))).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let database_url = match &app.db {
            common::Db::Sqlite(_, d) => format!("sqlite://{}/badges.db", d.path().display()),
            common::Db::Postgres(_, schema) => {
                let url = common::pg_url();
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-c%20search_path%3D{schema}")
            }
            common::Db::Shared => unreachable!("each test owns its database"),
        };
        Command { dir, database_url }
    }

    fn run(&self, text: &str) -> Verdict {
        let file = self.dir.path().join("credential.json");
        std::fs::write(&file, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_partnership-badges"))
            .args(["--database-url", &self.database_url])
            .args(["--public-base-url", BASE])
            .arg("--keys-dir")
            .arg(self.dir.path().join("keys"))
            .arg("verify")
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let report: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        Verdict {
            channel: "verify command",
            verified: out.status.success(),
            detail: format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr)),
            this_service: report["issuer"]["this_service"].as_bool(),
        }
    }
}

fn from_response(channel: &'static str, r: &common::Res) -> Verdict {
    assert!(
        r.status.is_success() || r.status.is_client_error(),
        "{channel}: {} {}",
        r.status,
        r.text
    );
    if r.status == StatusCode::OK {
        let mut detail = r.body["errors"].to_string();
        detail.push_str(&r.body["warnings"].to_string());
        Verdict {
            channel,
            verified: r.body["verified"] == true,
            detail,
            this_service: r.body["issuer"]["this_service"].as_bool(),
        }
    } else {
        assert_eq!(
            r.headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{channel}: {}",
            r.text
        );
        Verdict {
            channel,
            verified: false,
            detail: r.detail().to_owned(),
            this_service: None,
        }
    }
}

/// `text` judged through every channel.
async fn judge(app: &TestApp, cmd: &Command, text: &str) -> Vec<Verdict> {
    let mut out = Vec::new();
    let r = app
        .post_bytes("/verify", "application/json", text.as_bytes().to_vec())
        .await;
    out.push(from_response("POST /verify JSON", &r));

    let (ctype, body) = common::multipart(&[("credential", None, text.as_bytes())]);
    let req = Request::post("/verify")
        .header(header::ACCEPT, common::BROWSER_ACCEPT)
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap();
    let page = app.send(req).await;
    assert!(
        page.status == StatusCode::OK || page.status.is_client_error(),
        "form: {} {}",
        page.status,
        page.text
    );
    out.push(Verdict {
        channel: "HTML form",
        verified: page.text.contains("<h2 id=\"result\">Verified</h2>")
            || page.text.contains("Valid signature, another issuer"),
        detail: page.text.clone(),
        this_service: if page.text.contains("(this service)") {
            Some(true)
        } else if page.text.contains("(not this service)") {
            Some(false)
        } else {
            None
        },
    });

    let art = baking::render_png(CLOSED_SVG, 32).unwrap();
    let png = baking::bake_png(&art, baking::PNG_KEYWORD_OB3, text).unwrap();
    let r = app.post_bytes("/verify", "image/png", png).await;
    out.push(from_response("baked PNG", &r));

    let svg = baking::bake_svg(CLOSED_SVG, text).unwrap();
    let r = app
        .post_bytes("/verify", "image/svg+xml", svg.into_bytes())
        .await;
    out.push(from_response("baked SVG", &r));

    out.push(cmd.run(text));
    out
}

/// Asserts that no channel verifies `text` and each says why (`needle`).
#[track_caller]
fn assert_refused(label: &str, verdicts: &[Verdict], needle: &str) {
    for v in verdicts {
        assert!(
            !v.verified,
            "{label} via {}: verified: {}",
            v.channel, v.detail
        );
        assert!(
            v.detail.contains(needle),
            "{label} via {}: should say {needle:?}: {}",
            v.channel,
            v.detail
        );
    }
}

/// The canonical N-Quads of `doc` without its proof: what its signature covers.
fn signed_rdf(doc: &Value) -> String {
    let mut doc = doc.clone();
    doc.as_object_mut().unwrap().remove("proof");
    canonicalize(&JsonLdProcessor::new().to_rdf(&doc).unwrap()).unwrap()
}

/// The object at `pointer` in `doc`.
fn object_at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Map<String, Value> {
    doc.pointer_mut(pointer).unwrap().as_object_mut().unwrap()
}

/// `doc` with the member `key` of the object at `pointer` renamed to `new` (same place).
fn renamed(doc: &Value, pointer: &str, key: &str, new: &str, value: Option<Value>) -> Value {
    let mut doc = doc.clone();
    let obj = object_at(&mut doc, pointer);
    let members: Vec<(String, Value)> = std::mem::take(obj).into_iter().collect();
    for (k, v) in members {
        if k == key {
            obj.insert(new.to_owned(), value.clone().unwrap_or(v));
        } else {
            obj.insert(k, v);
        }
    }
    doc
}

/// `doc` with an inline context object appended to its `@context`.
fn with_inline_context(doc: &Value, definitions: Value) -> Value {
    let mut doc = doc.clone();
    doc["@context"].as_array_mut().unwrap().push(definitions);
    doc
}

/// Each checked key of a credential: (pointer of its object, key, IRI, datatype of its
/// value when it is a typed literal).
const CHECKED_KEYS: &[(&str, &str, &str, Option<&str>)] = &[
    ("", "type", "@type", None),
    (
        "",
        "issuer",
        "https://www.w3.org/2018/credentials#issuer",
        None,
    ),
    ("/issuer", "name", "https://schema.org/name", None),
    (
        "",
        "validFrom",
        "https://www.w3.org/2018/credentials#validFrom",
        Some(XSD_DATE_TIME),
    ),
    (
        "",
        "credentialStatus",
        "https://www.w3.org/2018/credentials#credentialStatus",
        None,
    ),
    (
        "",
        "credentialSubject",
        "https://www.w3.org/2018/credentials#credentialSubject",
        None,
    ),
    (
        "/credentialSubject",
        "achievement",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#achievement",
        None,
    ),
    (
        "/credentialSubject/achievement",
        "name",
        "https://schema.org/name",
        None,
    ),
];

/// Every key-aliasing variant of `doc` for the keys in `keys`: under its IRI (with a value
/// object for typed literals) and under a term of an inline context.
fn aliased_variants(
    doc: &Value,
    keys: &[(&str, &str, &str, Option<&str>)],
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for &(pointer, key, iri, datatype) in keys {
        let value = doc.pointer(&format!("{pointer}/{key}")).unwrap().clone();
        let typed = datatype.map(|t| json!({"@value": value, "@type": t}));
        out.push((
            format!("{pointer}/{key} as its IRI"),
            renamed(doc, pointer, key, iri, typed),
        ));
        let alias = format!("x{key}");
        let definition = match datatype {
            Some(t) => json!({"@id": iri, "@type": t}),
            None if iri == "@type" => json!("@type"),
            None => json!({"@id": iri}),
        };
        let aliased = renamed(doc, pointer, key, &alias, None);
        out.push((
            format!("{pointer}/{key} as an inline alias"),
            with_inline_context(&aliased, json!({ alias: definition })),
        ));
    }
    out
}

/// A credential in our shape signed with this app's key, valid from `from` until `until`.
fn our_signed(template: &Value, from: &str, until: Option<&str>) -> Value {
    let mut vc: OpenBadgeCredential = serde_json::from_value(template.clone()).unwrap();
    vc.valid_from = from.into();
    vc.valid_until = until.map(Into::into);
    sign_credential(
        &mut vc,
        &SigningKey::from_bytes(&[7u8; 32]),
        &format!("{BASE}/issuer/keys/key-test"),
        from,
    )
    .unwrap();
    serde_json::to_value(&vc).unwrap()
}

async fn attacks(app: &TestApp) {
    let cmd = Command::new(app);
    let (_, _, id) = app.closed_person("ada@example.org").await;
    let doc = app.get(&format!("/credentials/{id}")).await.body;
    let text = doc.to_string();

    // Untouched and good: verified, and this service's.
    for v in judge(app, &cmd, &text).await {
        assert!(v.verified, "good via {}: {}", v.channel, v.detail);
        assert_eq!(v.this_service, Some(true), "good via {}", v.channel);
    }
    let r = app
        .post_bytes("/verify", "application/json", text.clone().into_bytes())
        .await;
    assert_eq!(r.body["issuer"]["id"], format!("{BASE}/issuer"));
    assert_eq!(
        r.body["issuer"]["verification_method"],
        format!("{BASE}/issuer/keys/key-test")
    );
    assert_eq!(
        r.body["credential"]["credentialStatus"],
        Value::Null,
        "facts use their own names"
    );
    assert_eq!(
        r.body["credential"]["status"]["statusListCredential"],
        doc["credentialStatus"]["statusListCredential"]
    );

    // Revoke it: untouched, it reads revoked everywhere.
    let r = app
        .post(
            &format!("/api/v1/credentials/{id}/revoke"),
            json!({"reason": "entered in error"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_refused("revoked", &judge(app, &cmd, &text).await, "revoked");

    // Aliased keys: the same signed RDF, so the proof would pass; refused on the form.
    let original = signed_rdf(&doc);
    for (label, variant) in aliased_variants(&doc, CHECKED_KEYS) {
        assert_eq!(signed_rdf(&variant), original, "{label}: not the same RDF");
        let verdicts = judge(app, &cmd, &variant.to_string()).await;
        assert_refused(&format!("revoked, {label}"), &verdicts, "compact form");
    }

    // An expired badge of ours: untouched it reads expired; validUntil aliased, refused.
    let expired = our_signed(&doc, "2024-01-01T00:00:00Z", Some("2025-01-01T00:00:00Z"));
    assert_refused(
        "expired",
        &judge(app, &cmd, &expired.to_string()).await,
        "expired",
    );
    let until = [(
        "",
        "validUntil",
        "https://www.w3.org/2018/credentials#validUntil",
        Some(XSD_DATE_TIME),
    )];
    let expired_rdf = signed_rdf(&expired);
    for (label, variant) in aliased_variants(&expired, &until) {
        assert_eq!(
            signed_rdf(&variant),
            expired_rdf,
            "{label}: not the same RDF"
        );
        let verdicts = judge(app, &cmd, &variant.to_string()).await;
        assert_refused(&format!("expired, {label}"), &verdicts, "compact form");
    }

    // Our signed status list, re-keyed so that its type reads OpenBadgeCredential and an
    // achievement appears (mapped to null, so outside the signed RDF).
    let list_url = doc["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap();
    let list = app.get(list_url.strip_prefix(BASE).unwrap()).await.body;
    assert!(list["proof"][0].is_object(), "{list:#}");
    let types = list["type"].as_array().unwrap();
    let retyped_types: Vec<Value> = types
        .iter()
        .map(|t| match t.as_str() {
            Some("BitstringStatusListCredential") => json!("OpenBadgeCredential"),
            _ => t.clone(),
        })
        .collect();
    let mut retyped = with_inline_context(
        &list,
        json!({
            "OpenBadgeCredential":
                "https://www.w3.org/ns/credentials/status#BitstringStatusListCredential",
            "achievement": null
        }),
    );
    retyped["type"] = Value::Array(retyped_types);
    retyped["credentialSubject"]["achievement"] = doc["credentialSubject"]["achievement"].clone();
    assert_eq!(signed_rdf(&retyped), signed_rdf(&list), "re-typed list");
    let verdicts = judge(app, &cmd, &retyped.to_string()).await;
    assert_refused("re-typed status list", &verdicts, "compact form");
    // Untouched, the list is no badge either.
    let verdicts = judge(app, &cmd, &list.to_string()).await;
    assert_refused("status list", &verdicts, "OpenBadgeCredential");

    // Unsigned content: a key expansion ignores, a term mapped to null.
    let good_id = app.closed_person("grace@example.org").await.2;
    let good = app.get(&format!("/credentials/{good_id}")).await.body;
    let good_rdf = signed_rdf(&good);
    let mut ignored = good.clone();
    ignored["credentialSubject"]["@note"] = json!("Awarded with the highest honours");
    let mut nulled = with_inline_context(&good, json!({"honours": null}));
    nulled["credentialSubject"]["honours"] = json!("Awarded with the highest honours");
    for (label, variant, needle) in [
        ("an @-key", ignored, "keyword form"),
        ("a term mapped to null", nulled, "inline"),
    ] {
        assert_eq!(signed_rdf(&variant), good_rdf, "{label}: not the same RDF");
        let verdicts = judge(app, &cmd, &variant.to_string()).await;
        assert_refused(&format!("unsigned content, {label}"), &verdicts, needle);
    }
    // A duplicate key whose first value differs from the last (the signed one).
    let compact = good.to_string();
    let marker = "\"achievement\":{";
    assert!(compact.contains(marker));
    let duplicated = compact.replacen(
        marker,
        &format!("{marker}\"name\":\"Partnership Grandmaster\","),
        1,
    );
    let last_wins: Value = serde_json::from_str(&duplicated).unwrap();
    assert_eq!(last_wins, good, "the last value is the signed one");
    let verdicts = judge(app, &cmd, &duplicated).await;
    assert_refused("duplicate key", &verdicts, "appears twice");

    // Look-alike issuers: a self-made did:key copying our issuer's name and url.
    let impostor = SigningKey::from_bytes(&[99u8; 32]);
    let lookalike = |id: &str| {
        let mut vc: OpenBadgeCredential = serde_json::from_value(good.clone()).unwrap();
        vc.issuer.id = multikey::did_key(&impostor.verifying_key());
        vc.id = id.to_owned();
        vc.credential_status = None;
        vc.proof.clear();
        let vm = multikey::did_key_verification_method(&impostor.verifying_key());
        let created = vc.valid_from.clone();
        sign_credential(&mut vc, &impostor, &vm, &created).unwrap();
        serde_json::to_value(&vc).unwrap()
    };
    assert_eq!(
        good["issuer"]["name"],
        lookalike("urn:uuid:x")["issuer"]["name"]
    );
    // Its id a URL of ours: refused, naming the signer.
    let ours_id = format!("{BASE}/credentials/{}", uuid::Uuid::new_v4());
    let verdicts = judge(app, &cmd, &lookalike(&ours_id).to_string()).await;
    assert_refused("look-alike with our id", &verdicts, "did not sign it");
    // Its own id: the signature is fine and it may verify, but never as ours.
    let own = lookalike("urn:uuid:0f4c7a3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b");
    for v in judge(app, &cmd, &own.to_string()).await {
        assert_eq!(v.this_service, Some(false), "look-alike via {}", v.channel);
        if v.channel == "HTML form" {
            assert!(
                v.detail.contains("not issued by this service"),
                "{}",
                v.detail
            );
            assert!(
                !v.detail.contains("This credential is genuine"),
                "{}",
                v.detail
            );
            assert!(v.detail.contains("did:key:z6Mk"), "{}", v.detail);
        } else {
            assert!(
                v.detail.contains("not awarded by this service"),
                "{}",
                v.detail
            );
        }
    }
}
// Dozens of verifications a second: without the per-client limit (it has its own tests).
both_backends!(
    attacks_on_both,
    crate::attacks,
    ["--verify-rate-per-minute", "0"]
);

/// The facts a report states are the signed ones, and read under their own names: a
/// report for a credential whose signature did not verify states none.
async fn facts_only_when_signed(app: &TestApp) {
    let (_, _, id) = app.closed_person("facts@example.org").await;
    let doc = app.get(&format!("/credentials/{id}")).await.body;
    let r = app
        .post_bytes("/verify", "application/json", doc.to_string().into_bytes())
        .await;
    let facts = &r.body["credential"];
    assert_eq!(facts["id"], doc["id"]);
    assert_eq!(facts["validFrom"], doc["validFrom"]);
    assert_eq!(
        facts["types"],
        json!(["OpenBadgeCredential", "VerifiableCredential"])
    );
    assert_eq!(
        facts["subject"]["achievement"]["name"],
        doc["credentialSubject"]["achievement"]["name"]
    );
    let mut tampered = doc.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Partnership Grandmaster");
    let r = app
        .post_bytes(
            "/verify",
            "application/json",
            tampered.to_string().into_bytes(),
        )
        .await;
    assert_eq!(r.body["checks"]["proof"], "failed", "{:#}", r.body);
    assert_eq!(r.body["credential"], Value::Null);
    assert_eq!(r.body["issuer"], Value::Null);
}
both_backends!(
    facts_only_when_signed_on_both,
    crate::facts_only_when_signed
);
