//! The pages people see, end to end in-process on SQLite and PostgreSQL: content
//! negotiation, live status, holder consent, evidence, escaping of hostile text, baked
//! images, the LinkedIn link, OpenGraph tags, security headers and 404s.

mod common;

use axum::http::{header, StatusCode};
use common::{Res, TestApp, BASE};
use partnership_badges::credential::baking;
use serde_json::json;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Undoes the HTML escaping of text and attribute values (named and numeric references).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|&e| e < 10);
        let c = end.and_then(|end| match &rest[1..end] {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        });
        match (c, end) {
            (Some(c), Some(end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `content` of `<meta property|name="{key}" content="…">`, unescaped.
fn meta(html: &str, key: &str) -> Option<String> {
    [
        format!("<meta property=\"{key}\" content=\""),
        format!("<meta name=\"{key}\" content=\""),
    ]
    .iter()
    .find_map(|start| {
        let rest = &html[html.find(start.as_str())? + start.len()..];
        Some(unescape(&rest[..rest.find('"')?]))
    })
}

/// The `href` of the element with this `id`, unescaped.
fn href_of_id(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\" href=\""))?;
    let rest = &html[at + format!("id=\"{id}\" href=\"").len()..];
    Some(unescape(&rest[..rest.find('"')?]))
}

#[track_caller]
fn assert_html(r: &Res) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8",
        "{}",
        r.text
    );
    assert_eq!(r.headers[header::VARY], "Accept");
    assert!(r.text.starts_with("<!doctype html>"));
    assert!(r.text.contains("<html lang=\"en\">"));
}

#[track_caller]
fn assert_security_headers(r: &Res) {
    assert_eq!(r.headers[header::CONTENT_SECURITY_POLICY], CSP);
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        r.headers[header::REFERRER_POLICY],
        "strict-origin-when-cross-origin"
    );
}

// ---------------------------------------------------------------- negotiation

async fn negotiation(app: &TestApp) {
    let (_person, closing, id) = app.closed_person("ada@example.org").await;
    let uri = format!("/credentials/{id}");
    let stored = app.get(&format!("/api/v1/credentials/{id}")).await.body["credential"].clone();

    // Browsers get the page.
    let r = app.page(&uri).await;
    assert_html(&r);
    assert!(r.text.contains("Partnership Closed"));
    let r = app.get_as(&uri, Some("text/html"), false).await;
    assert_html(&r);
    let r = app.get_as(&uri, Some("*/*"), true).await;
    assert_html(&r);

    // Machines get the signed JSON, byte for byte, with the type they asked for.
    for (accept, media) in [
        ("application/json", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/vc+ld+json", "application/vc+ld+json"),
        (
            "application/ld+json, text/html;q=0.5",
            "application/ld+json",
        ),
        ("*/*", "application/json"),
    ] {
        let r = app.get_as(&uri, Some(accept), false).await;
        assert_eq!(r.status, StatusCode::OK, "{accept}: {}", r.text);
        assert_eq!(r.headers[header::CONTENT_TYPE], media, "{accept}");
        assert_eq!(r.headers[header::VARY], "Accept", "{accept}");
        assert_eq!(r.body, stored, "{accept}");
    }
    let r = app.get_as(&uri, None, false).await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    // A browser that names JSON gets JSON.
    let r = app.get_as(&uri, Some("application/json"), true).await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");

    // The closing record and the achievement negotiate the same way.
    let curi = format!("/closings/{closing}");
    let r = app.page(&curi).await;
    assert_html(&r);
    let r = app.get_as(&curi, Some("application/json"), false).await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(r.headers[header::VARY], "Accept");
    assert_eq!(r.body["partner"]["name"], "Lyon Makers Library");
    let r = app.page("/achievements/partnership-closed").await;
    assert_html(&r);
    assert!(r
        .text
        .contains("<h1 id=\"achievement-heading\">Partnership Closed</h1>"));
    let r = app
        .get_as(
            "/achievements/partnership-closed",
            Some("application/ld+json"),
            false,
        )
        .await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/ld+json");
    assert_eq!(r.body["name"], "Partnership Closed");
}
both_backends!(content_negotiation, crate::negotiation);

// ---------------------------------------------------------------- status

async fn statuses(app: &TestApp) {
    let (_p, _c, valid) = app.closed_person("valid@example.org").await;
    let (_p, _c, revoked) = app.closed_person("revoked@example.org").await;
    let (_p, _c, expired) = app.closed_person("expired@example.org").await;

    let r = app.page(&format!("/credentials/{valid}")).await;
    assert_html(&r);
    assert!(r.text.contains("class=\"status status-valid\""));
    assert!(r.text.contains("<strong>Valid</strong>"));
    assert!(r.text.contains("has not revoked it and it has not expired"));
    assert!(r.text.contains("Add to LinkedIn profile"));

    // Revoked through the API: shown at once, with the date and the reason.
    let reason = "Closing record entered in error";
    let rv = app
        .post(
            &format!("/api/v1/credentials/{revoked}/revoke"),
            json!({ "reason": reason }),
        )
        .await;
    assert_eq!(rv.status, StatusCode::OK, "{}", rv.text);
    let revoked_on = chrono::DateTime::parse_from_rfc3339(rv.body["revoked_at"].as_str().unwrap())
        .unwrap()
        .format("%-d %B %Y")
        .to_string();
    let r = app.page(&format!("/credentials/{revoked}")).await;
    assert_html(&r);
    assert!(r.text.contains("class=\"status status-revoked\""));
    assert!(r.text.contains("<strong>Revoked</strong>"));
    assert!(r
        .text
        .contains(&format!("revoked this badge on {revoked_on}")));
    assert!(r.text.contains(reason), "{}", r.text);
    assert!(!r.text.contains("<strong>Valid</strong>"));
    assert!(!r.text.contains("Add to LinkedIn profile"));

    // Expired in the database: the status is judged at request time.
    app.expire(&expired).await;
    let r = app.page(&format!("/credentials/{expired}")).await;
    assert_html(&r);
    assert!(r.text.contains("class=\"status status-expired\""));
    assert!(r.text.contains("<strong>Expired</strong>"));
    assert!(r.text.contains("This badge expired on 2 January 2026."));
    assert!(r
        .text
        .contains("<time datetime=\"2026-01-02T00:00:00Z\">2 January 2026</time>"));
    assert!(!r.text.contains("<strong>Valid</strong>"));
}
both_backends!(live_status, crate::statuses);

// ---------------------------------------------------------------- holder and evidence

async fn holder_consent(app: &TestApp) {
    let (_p, _c, public) = app
        .closed_badge_for("Grace Public", "grace@example.org", true, "A fine outcome.")
        .await;
    let (_p, _c, private) = app
        .closed_badge_for(
            "Harriet Private",
            "harriet@example.org",
            false,
            "Quiet outcome.",
        )
        .await;

    let r = app.page(&format!("/credentials/{public}")).await;
    assert!(r
        .text
        .contains("Awarded to <strong class=\"holder-name\"><bdi>Grace Public</bdi>"));
    assert!(meta(&r.text, "og:title").unwrap().contains("Grace Public"));
    assert!(!r.text.contains("grace@example.org"));

    let r = app.page(&format!("/credentials/{private}")).await;
    assert_html(&r);
    assert!(r.text.contains("Issued to a verified email address"));
    assert!(!r.text.contains("Harriet"), "name shown without consent");
    assert!(!r.text.contains("harriet@example.org"));
    assert!(!meta(&r.text, "og:description").unwrap().contains("Harriet"));
}
both_backends!(holder_name_needs_consent, crate::holder_consent);

async fn evidence(app: &TestApp) {
    let (_person, closing, id) = app.closed_person("ada@example.org").await;
    let r = app.page(&format!("/credentials/{id}")).await;
    assert_html(&r);
    let t = &r.text;
    assert!(t.contains("<h2 id=\"evidence-heading\">Evidence</h2>"));
    // The closing record: partner, stages with dates, closed date, summary, and a link.
    assert!(t.contains("Closing record: Lyon Makers Library"));
    for stage in [
        "Lead: 2026-06-01",
        "Conversation: 2026-06-15",
        "Shaping: 2026-07-01",
        "Work: 2026-08-01",
        "Transition: 2026-09-20",
    ] {
        assert!(t.contains(&format!("<li>{stage}</li>")), "{stage}");
    }
    assert!(t.contains("closed on 2026-10-02"));
    assert!(t.contains("Ran six maker nights with the library"));
    assert!(t.contains(&format!("href=\"{BASE}/closings/{closing}\"")));
    // The mentor CC'd: who and when.
    let plain = unescape(t);
    assert!(plain.contains("Mentor CC'd: Maya Mentor"));
    assert!(plain
        .contains("Maya Mentor was CC'd on the closing communications on 2026-10-01T09:30:00Z"));
    // Issuer, dates, technical details.
    let issuer = app.state.issuer.profile().name;
    assert!(t.contains(&issuer), "issuer name {issuer:?}");
    assert!(t.contains("Does not expire"));
    assert!(t.contains("<dd>DataIntegrityProof</dd>"));
    assert!(t.contains("<dd>eddsa-rdfc-2022</dd>"));
    assert!(t.contains("<dd>key-test</dd>"));
    assert!(t.contains(&format!("{BASE}/issuer/keys/key-test")));
    let stored = app.get(&format!("/api/v1/credentials/{id}")).await.body;
    let list_url = stored["status_list"].as_str().unwrap();
    assert!(t.contains(&format!("href=\"{list_url}\"")));
    assert!(t.contains(&format!(
        "<dd>{}</dd>",
        stored["status_list_index"].as_i64().unwrap()
    )));
    // Offers: signed credential, baked images, copy link without JS.
    assert!(t.contains(&format!("href=\"{BASE}/credentials/{id}/credential.json\"")));
    assert!(t.contains(&format!("href=\"{BASE}/credentials/{id}/badge.png\"")));
    assert!(t.contains(&format!("href=\"{BASE}/credentials/{id}/badge.svg\"")));
    assert!(t.contains(&format!("readonly value=\"{BASE}/credentials/{id}\"")));
    assert!(t.contains("<script src=\"/assets/badge.js\" defer></script>"));
    assert!(t.contains("alt=\"Partnership Closed badge: A teal shield"));

    // The closing record page: public fields only.
    let r = app.page(&format!("/closings/{closing}")).await;
    assert_html(&r);
    assert_security_headers(&r);
    assert!(r
        .text
        .contains("Partnership with <bdi>Lyon Makers Library</bdi>"));
    assert!(r
        .text
        .contains("<time datetime=\"2026-06-01\">1 June 2026</time>"));
    assert!(r
        .text
        .contains("<time datetime=\"2026-10-02\">2 October 2026</time>"));
    assert!(r.text.contains("<bdi>Maya Mentor</bdi>, on <time datetime=\"2026-10-01T09:30:00Z\">1 October 2026, 09:30 UTC</time>"));
    assert!(r.text.contains("Ran six maker nights"));
    assert!(
        !r.text.contains('@'),
        "no emails or message ids on the page"
    );
    let j = app
        .get_as(
            &format!("/closings/{closing}"),
            Some("application/json"),
            false,
        )
        .await;
    assert!(!j.text.contains('@'), "{}", j.text);
    for private in [
        "closer_id",
        "mentor_id",
        "mentor_cc_ref",
        "email",
        "created_at",
    ] {
        assert!(!j.text.contains(private), "{private} in {}", j.text);
    }
}
both_backends!(evidence_shown, crate::evidence);

// ---------------------------------------------------------------- hostile text

async fn hostile(app: &TestApp) {
    let accepted = "<script>alert(1)</script> \"Quote\" O'Neil";
    let name = format!("{accepted} \u{202E}evil");
    let summary = "<script>alert(2)</script><img src=x onerror=alert(3)> \"done\" \u{202E}txt";
    // The API refuses a name holding a bidi override now (tests/api.rs), but one stored
    // before that rule must still show as text, isolated: it is written straight to the row.
    let (person, closing, id) = app
        .closed_badge_for(accepted, "mallory@example.org", true, summary)
        .await;
    app.exec(&format!(
        "update people set name = '{}' where id = '{person}'",
        name.replace('\'', "''")
    ))
    .await;
    for uri in [format!("/credentials/{id}"), format!("/closings/{closing}")] {
        let r = app.page(&uri).await;
        assert_html(&r);
        let t = &r.text;
        assert!(!t.contains("<script>alert"), "{uri}: script not escaped");
        assert!(!t.contains("<img src=x"), "{uri}: markup not escaped");
        assert_eq!(
            t.matches("<script").count(),
            usize::from(uri.starts_with("/credentials")),
            "{uri}: only the page's own external script"
        );
        assert!(
            unescape(t).contains("<script>alert(2)</script><img src=x onerror=alert(3)>"),
            "{uri}: the summary is shown as text"
        );
        assert!(t.contains("\u{202E}txt"), "{uri}: RTL text kept as text");
    }
    let r = app.page(&format!("/credentials/{id}")).await;
    let t = &r.text;
    // The holder's name, exactly, as text isolated for bidi.
    let open = "<strong class=\"holder-name\"><bdi>";
    let start = t.find(open).unwrap() + open.len();
    let shown = &t[start..start + t[start..].find("</bdi>").unwrap()];
    assert!(!shown.contains(['<', '>', '"', '\'']), "{shown}");
    assert_eq!(unescape(shown), name);
    // In attributes the quotes cannot close the attribute.
    assert_eq!(
        meta(t, "og:title").unwrap(),
        format!("Partnership Closed – {name}")
    );
    assert!(!t.contains("\"Quote\""));
}
both_backends!(hostile_text_is_escaped, crate::hostile);

// ---------------------------------------------------------------- files

async fn baked(app: &TestApp) {
    let (_p, _c, id) = app.closed_person("ada@example.org").await;
    let (_, _, json) = app.get_bytes(&format!("/credentials/{id}")).await;
    let stored = String::from_utf8(json).unwrap();
    assert!(stored.contains("\"proof\""));

    let (status, headers, png) = app.get_bytes(&format!("/credentials/{id}/badge.png")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    let (keyword, text) = baking::extract_png(&png).unwrap().expect("baked chunk");
    assert_eq!(keyword, baking::PNG_KEYWORD_OB3);
    assert_eq!(text, stored, "the PNG carries the exact stored credential");

    let (status, headers, svg) = app.get_bytes(&format!("/credentials/{id}/badge.svg")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    let svg = String::from_utf8(svg).unwrap();
    assert_eq!(
        baking::extract_svg(&svg).unwrap().expect("baked element"),
        stored
    );

    // The signed credential as a download.
    let (status, headers, body) = app
        .get_bytes(&format!("/credentials/{id}/credential.json"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/vc+ld+json");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"partnership-closed-{id}.json\"")
    );
    assert_eq!(String::from_utf8(body).unwrap(), stored);

    // The unbaked artwork, and the page's assets.
    for slug in ["partnership-closed", "partnership-certified"] {
        let (s, h, png) = app
            .get_bytes(&format!("/achievements/{slug}/image.png"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "image/png");
        assert!(png.starts_with(b"\x89PNG"));
        assert!(baking::extract_png(&png).unwrap().is_none());
        let (s, h, svg) = app
            .get_bytes(&format!("/achievements/{slug}/image.svg"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "image/svg+xml");
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
    let (s, h, _) = app.get_bytes("/achievements/nope/image.png").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    let (s, h, css) = app.get_bytes("/assets/style.css").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(String::from_utf8(css).unwrap().contains(":focus-visible"));
    let (s, h, _) = app.get_bytes("/assets/badge.js").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    let (s, _, _) = app.get_bytes("/assets/..%2Fmod.rs").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
both_backends!(baked_images_carry_the_stored_credential, crate::baked);

// ---------------------------------------------------------------- sharing

async fn sharing(app: &TestApp) {
    let (_p, _c, id) = app
        .closed_badge_for("Ada Closer", "ada@example.org", true, "Good outcome.")
        .await;
    let r = app.page(&format!("/credentials/{id}")).await;
    let t = &r.text;
    let url = format!("{BASE}/credentials/{id}");
    let issued = app.get(&format!("/api/v1/credentials/{id}")).await.body["issued_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let issued = chrono::DateTime::parse_from_rfc3339(&issued).unwrap();

    // LinkedIn's add-certification link, every field form-encoded.
    let li = href_of_id(t, "linkedin").expect("LinkedIn link");
    let (base, query) = li.split_once('?').unwrap();
    assert_eq!(base, "https://www.linkedin.com/profile/add");
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        q.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing from {li}"))
    };
    assert_eq!(get("startTask"), "CERTIFICATION_NAME");
    assert_eq!(get("name"), "Partnership Closed");
    assert_eq!(get("organizationName"), app.state.issuer.profile().name);
    assert_eq!(
        get("issueYear"),
        chrono::Datelike::year(&issued).to_string()
    );
    assert_eq!(
        get("issueMonth"),
        chrono::Datelike::month(&issued).to_string()
    );
    assert_eq!(get("certUrl"), url);
    assert_eq!(get("certId"), id);
    assert!(query.contains("certUrl=http%3A%2F%2Fbadges.test%2Fcredentials%2F"));

    // OpenGraph and Twitter cards.
    assert_eq!(
        meta(t, "og:title").unwrap(),
        "Partnership Closed – Ada Closer"
    );
    assert!(meta(t, "og:description")
        .unwrap()
        .contains("Ada Closer earned the Partnership Closed badge"));
    assert_eq!(meta(t, "og:image").unwrap(), format!("{url}/badge.png"));
    assert_eq!(meta(t, "og:url").unwrap(), url);
    assert_eq!(meta(t, "og:type").unwrap(), "website");
    assert!(meta(t, "og:image:alt")
        .unwrap()
        .starts_with("Partnership Closed badge"));
    assert_eq!(meta(t, "twitter:card").unwrap(), "summary");
    assert_eq!(
        meta(t, "twitter:image").unwrap(),
        format!("{url}/badge.png")
    );
    assert!(meta(t, "twitter:title").is_some());
    assert!(meta(t, "description").is_some());

    // Security headers on every HTML answer; no inline script or style to need them loosened.
    assert_security_headers(&r);
    assert!(!t.contains("style=\""));
    assert!(!t.contains("<style"));
    assert!(!t.contains("<script>"));
    let handlers = t.match_indices(" on").any(|(i, _)| {
        let attr: String = t[i + 3..]
            .chars()
            .take_while(char::is_ascii_lowercase)
            .collect();
        !attr.is_empty() && t[i + 3 + attr.len()..].starts_with('=')
    });
    assert!(!handlers, "no inline event handlers");
    let r404 = app
        .page("/credentials/00000000-0000-4000-8000-000000000000")
        .await;
    assert_security_headers(&r404);
}
both_backends!(linkedin_og_and_security_headers, crate::sharing);

// ---------------------------------------------------------------- 404

async fn not_found(app: &TestApp) {
    for uri in [
        "/credentials/00000000-0000-4000-8000-000000000000".to_owned(),
        "/credentials/not-a-uuid".to_owned(),
        "/credentials/%3Cscript%3E".to_owned(),
        "/closings/00000000-0000-4000-8000-000000000000".to_owned(),
        "/closings/nope".to_owned(),
        "/achievements/nope".to_owned(),
        "/no/such/page".to_owned(),
    ] {
        let r = app.page(&uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.text);
        assert_eq!(
            r.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8",
            "{uri}"
        );
        assert!(r.text.contains("<h1>Page not found</h1>"), "{uri}");
        assert!(!r.text.contains("<script>"), "{uri}");
        assert_security_headers(&r);

        let r = app.get_as(&uri, Some("application/json"), false).await;
        r.assert_problem(404, "");
        let r = app.get_as(&uri, None, false).await;
        r.assert_problem(404, "");
    }
    for uri in [
        "/credentials/00000000-0000-4000-8000-000000000000/badge.png",
        "/credentials/00000000-0000-4000-8000-000000000000/badge.svg",
        "/credentials/00000000-0000-4000-8000-000000000000/credential.json",
        "/credentials/bad/badge.png",
    ] {
        let r = app.get_as(uri, Some("image/png,*/*;q=0.8"), false).await;
        r.assert_problem(404, "no credential");
        let r = app.page(uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.text.contains("Page not found"));
    }
}
both_backends!(unknown_ids_are_404_pages_or_problems, crate::not_found);
