//! Bulk import (`partnership_badges::import`): a 10,000-row people file and its re-run, a
//! file full of broken rows, bulk issuance and its re-run, the email natural key on the
//! HTTP API, on SQLite and PostgreSQL; and the real binary on SQLite.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::TestApp;
use partnership_badges::import::{self, Format, Kind, Options, ProgressMode, Report};
use serde_json::json;

fn csv() -> Options {
    Options {
        format: Format::Csv,
        progress: ProgressMode::Quiet,
    }
}

fn json_opts() -> Options {
    Options {
        format: Format::Json,
        progress: ProgressMode::Quiet,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Asserts the failures are exactly these (line, reason fragment), in order.
#[track_caller]
fn assert_failed(report: &Report, expected: &[(u64, &str)]) {
    let got: Vec<(u64, &str)> = report
        .failed
        .iter()
        .map(|e| (e.line, e.reason.as_str()))
        .collect();
    assert_eq!(got.len(), expected.len(), "failures: {got:#?}");
    for ((line, reason), (want_line, fragment)) in got.iter().zip(expected) {
        assert_eq!(line, want_line, "failures: {got:#?}");
        assert!(
            reason.contains(fragment),
            "line {line}: {reason:?} should mention {fragment:?}"
        );
    }
}

async fn ten_thousand_people(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("name,email,city,country,url,listed_in_registry\n");
    for i in 0..10_000 {
        // Mixed case and spaces: stored normalised, so the re-run still matches.
        text.push_str(&format!(
            "Person {i},\" Person.{i}@Example.org\",Lyon,France,https://example.org/p/{i},{}\n",
            if i % 2 == 0 { "true" } else { "no" }
        ));
    }
    let file = write(dir.path(), "people.csv", &text);
    let store = &*app.state.store;

    let started = Instant::now();
    let first = import::run(store, Kind::People, &file, csv())
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!(
        "{}: 10,000-row people import took {took:.2?} ({})",
        store.backend(),
        first.summary()
    );
    assert_eq!(first.summary(), "created 10000, existing 0, failed 0");
    assert_eq!(first.rows, 10_000);
    assert_eq!(app.count("people").await, 10_000);
    let p = store
        .person_by_email("person.42@example.org")
        .await
        .unwrap();
    let p = p.expect("imported person");
    assert_eq!(p.name, "Person 42");
    assert!(p.listed_in_registry);
    let p = store
        .person_by_email("person.43@example.org")
        .await
        .unwrap();
    assert!(!p.unwrap().listed_in_registry);

    let started = Instant::now();
    let again = import::run(store, Kind::People, &file, csv())
        .await
        .unwrap();
    eprintln!(
        "{}: re-run took {:.2?} ({})",
        store.backend(),
        started.elapsed(),
        again.summary()
    );
    assert_eq!(again.summary(), "created 0, existing 10000, failed 0");
    assert_eq!(app.count("people").await, 10_000);
}
both_backends!(ten_thousand_people_import_once, crate::ten_thousand_people);

async fn broken_rows(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = &*app.state.store;

    // Mentors: one good, one bad URL, one missing name.
    let mentors = write(
        d,
        "mentors.csv",
        "name,email,url\n\
         Maya Mentor,maya@example.org,https://example.org/maya\n\
         Bad Url,bad.url@example.org,javascript:alert(1)\n\
         ,noname@example.org,\n",
    );
    let r = import::run(store, Kind::Mentors, &mentors, csv())
        .await
        .unwrap();
    assert_eq!(r.summary(), "created 1, existing 0, failed 2");
    assert_failed(
        &r,
        &[(3, "url must be an absolute http(s) URL"), (4, "name")],
    );

    // People: bad email, missing value, bad boolean, wrong column count, a quoted
    // multi-line field (the next row's line number still counts the file's lines).
    let people = write(
        d,
        "people.csv",
        "name,email,city,country,url,listed_in_registry\n\
         Ada Closer,ada@example.org,Lyon,France,,true\n\
         Bad Email,not-an-email,Lyon,France,,true\n\
         No Consent,noconsent@example.org,Lyon,France,,\n\
         Maybe,maybe@example.org,Lyon,France,,maybe\n\
         Short Row,short@example.org,Lyon\n\
         \"Bo\nBreak\",bo@example.org,Paris,France,,false\n\
         Cy Closer,cy@example.org,,,,yes\n\
         Too Long,long@example.org,Lyon,France,,true,extra\n",
    );
    let r = import::run(store, Kind::People, &people, csv())
        .await
        .unwrap();
    assert_failed(
        &r,
        &[
            (3, "email is not a valid email address"),
            (4, "listed_in_registry: missing or empty"),
            (5, "listed_in_registry: expected true or false"),
            (6, "expected 6 fields (as in the header row), found 3"),
            (10, "expected 6 fields (as in the header row), found 7"),
        ],
    );
    assert_eq!(r.summary(), "created 3, existing 0, failed 5");
    assert_eq!(app.count("people").await, 3);

    // Closings: a good one (date-only mentor_cc_at), unknown mentor, unknown closer, a bad
    // date, a bad time, a broken stage order (a program rule), a mentor who is the closer.
    let header = "closer_email,mentor_email,mentor_cc_at,partner_name,closed_on,summary,\
                  stage_lead,stage_conversation,stage_shaping,stage_work,stage_transition\n";
    let closings = write(
        d,
        "closings.csv",
        &format!(
            "{header}\
             ada@example.org,maya@example.org,2026-10-01,Lyon Library,2026-10-02,Six nights,2026-06-01,,,,2026-09-20\n\
             ada@example.org,nobody@example.org,2026-10-01,Other,2026-10-02,S,,,,,\n\
             ghost@example.org,maya@example.org,2026-10-01,Other,2026-10-02,S,,,,,\n\
             ada@example.org,maya@example.org,2026-10-01,Other,2026-13-02,S,,,,,\n\
             ada@example.org,maya@example.org,yesterday,Other,2026-10-02,S,,,,,\n\
             ada@example.org,maya@example.org,2026-10-01,Other,2026-10-02,S,2026-07-01,2026-06-01,,,\n"
        ),
    );
    let r = import::run(store, Kind::Closings, &closings, csv())
        .await
        .unwrap();
    assert_failed(
        &r,
        &[
            (
                3,
                "mentor_email: no mentor with email \"nobody@example.org\"",
            ),
            (
                4,
                "closer_email: no person with email \"ghost@example.org\"",
            ),
            (5, "closed_on: not a date (expected YYYY-MM-DD)"),
            (6, "mentor_cc_at: not a time"),
            (7, "stages.conversation must not be before stages.lead"),
        ],
    );
    assert_eq!(r.summary(), "created 1, existing 0, failed 5");
    // Re-run: the good row exists, the bad ones fail again, nothing is duplicated.
    let r = import::run(store, Kind::Closings, &closings, csv())
        .await
        .unwrap();
    assert_eq!(r.summary(), "created 0, existing 1, failed 5");
    assert_eq!(app.count("closings").await, 1);

    // File-level problems: one failure at line 1, nothing imported.
    let cases = [
        ("empty.csv", "", "the file is empty"),
        ("blank.csv", "\n\n", "the file is empty"),
        (
            "noheader.csv",
            "Dee,dee@example.org,,,,true\n",
            "unknown column \"dee\" in the header row (is the header row missing?)",
        ),
        (
            "missingcol.csv",
            "name,email\nDee,dee@example.org\n",
            "lacks the required column(s) listed_in_registry",
        ),
        (
            "twice.csv",
            "name,email,email,listed_in_registry\n",
            "column \"email\" appears twice",
        ),
    ];
    for (name, text, fragment) in cases {
        let file = write(d, name, text);
        let r = import::run(store, Kind::People, &file, csv())
            .await
            .unwrap();
        assert_failed(&r, &[(1, fragment)]);
        assert_eq!(r.created + r.existing, 0, "{name}");
    }
    assert_eq!(app.count("people").await, 3);

    // JSON: the API's field names; line numbers from the element's position.
    let people_json = write(
        d,
        "people.json",
        r#"[
  {"name": "Di Json", "email": "di@example.org", "listed_in_registry": true},
  {"name": "Ed Json", "email": "ed@example.org", "listed_in_registry": true,
   "age": 3},
  {"name": "Fa Json", "email": "fa@example.org"},
  "not an object",
  {"name": "Ada Again", "email": "ADA@example.org", "listed_in_registry": false}
]"#,
    );
    let r = import::run(store, Kind::People, &people_json, json_opts())
        .await
        .unwrap();
    assert_failed(
        &r,
        &[
            (3, "unknown field `age`"),
            (5, "listed_in_registry: missing or empty"),
            (6, "expected a JSON object"),
        ],
    );
    assert_eq!(r.summary(), "created 1, existing 1, failed 3");
    for (text, fragment) in [
        ("", "the file is empty"),
        ("{\"name\": \"x\"}", "not a JSON array of objects"),
        ("[{\"name\": ", "not a JSON array of objects"),
    ] {
        let file = write(d, "bad.json", text);
        let r = import::run(store, Kind::People, &file, json_opts())
            .await
            .unwrap();
        assert_failed(&r, &[(1, fragment)]);
    }

    // A closing in JSON: nested `stages`, RFC 3339 time.
    let closing_json = write(
        d,
        "closings.json",
        &json!([{
            "closer_email": "cy@example.org", "mentor_email": "maya@example.org",
            "mentor_cc_at": "2026-10-01T09:30:00Z", "partner_name": "Paris Makers",
            "stages": {"lead": "2026-06-01"}, "closed_on": "2026-10-02", "summary": "Done."
        }])
        .to_string(),
    );
    let r = import::run(store, Kind::Closings, &closing_json, json_opts())
        .await
        .unwrap();
    assert_eq!(r.summary(), "created 1, existing 0, failed 0");
    assert_eq!(app.count("closings").await, 2);
}
both_backends!(broken_rows_are_reported_good_rows_kept, crate::broken_rows);

async fn bulk_issue(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = &*app.state.store;
    let mentors = write(d, "m.csv", "name,email\nMaya,maya@example.org\n");
    let people = write(
        d,
        "p.csv",
        "name,email,listed_in_registry\nAda,ada@example.org,true\nBo,bo@example.org,true\n\
         Cy,cy@example.org,false\n",
    );
    let closings = write(
        d,
        "c.csv",
        "closer_email,mentor_email,mentor_cc_at,partner_name,closed_on,summary\n\
         ada@example.org,maya@example.org,2026-10-01T09:30:00Z,Lyon Library,2026-10-02,Done\n\
         bo@example.org,maya@example.org,2026-10-01,Paris Makers,2026-10-03,Done\n\
         cy@example.org,maya@example.org,2026-10-01,Nice Hub,2026-10-04,Done\n",
    );
    for (kind, file) in [
        (Kind::Mentors, &mentors),
        (Kind::People, &people),
        (Kind::Closings, &closings),
    ] {
        let r = import::run(store, kind, file, csv()).await.unwrap();
        assert!(r.is_ok(), "{kind:?}: {:?}", r.failed);
    }

    let badges = write(
        d,
        "badges.csv",
        "achievement,person_email,closing_partner,closing_closed_on,valid_until\n\
         partnership-closed,ada@example.org,lyon library,2026-10-02,\n\
         partnership-certified,ADA@example.org,,,\n\
         partnership-closed,bo@example.org,Paris Makers,2026-10-03,2099-01-01T00:00:00Z\n\
         partnership-closed,cy@example.org,Nice Hub,2026-10-04,\n\
         partnership-certified,bo@example.org,Paris Makers,2026-10-03,\n\
         partnership-closed,ghost@example.org,Lyon Library,2026-10-02,\n\
         partnership-closed,ada@example.org,Nowhere,2026-10-02,\n\
         partnership-closed,cy@example.org,,,\n\
         partnership-certified,cy@example.org,Nice Hub,,\n\
         partnership-gold,cy@example.org,,,\n\
         partnership-closed,bo@example.org,Paris Makers,2026-10-03,2000-01-01\n",
    );
    let expected_failures: &[(u64, &str)] = &[
        (
            7,
            "person_email: no person with email \"ghost@example.org\"",
        ),
        (8, "has no closing with \"Nowhere\" closed on 2026-10-02"),
        (9, "Partnership Closed needs a closing_id"),
        (10, "closing_closed_on: missing"),
        (11, "achievement must be"),
        // Same badge as line 4 with another expiry: its key names another request.
        (
            12,
            "Idempotency-Key was already used with a different request body",
        ),
    ];
    let r = import::issue_from(&app.state, &badges, csv())
        .await
        .unwrap();
    assert_failed(&r, expected_failures);
    assert_eq!(r.summary(), "created 5, existing 0, failed 6");
    assert_eq!(app.count("credentials").await, 5);

    let again = import::issue_from(&app.state, &badges, csv())
        .await
        .unwrap();
    assert_failed(&again, expected_failures);
    assert_eq!(again.summary(), "created 0, existing 5, failed 6");
    assert_eq!(app.count("credentials").await, 5);

    // The imported badges are real credentials: they verify.
    let ada = store
        .person_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    let held = store.credentials_of_person(ada.id).await.unwrap();
    assert_eq!(held.len(), 2);
    for c in held {
        let doc: serde_json::Value = serde_json::from_str(&c.document).unwrap();
        let report = partnership_badges::verify::verify_with_state(&app.state, &doc).await;
        assert!(report.verified, "{c:?}: {report:?}");
    }

    // A badge issued over the API first is "existing" for the file, not a failure.
    let extra = write(
        d,
        "extra.csv",
        "achievement,person_email\npartnership-certified,ada@example.org\n",
    );
    let extra_json = write(
        d,
        "extra.json",
        r#"[{"achievement": "partnership-certified", "person_email": "ada@example.org"}]"#,
    );
    let r = import::issue_from(&app.state, &extra, csv()).await.unwrap();
    assert_eq!(r.summary(), "created 0, existing 1, failed 0");
    let r = import::issue_from(&app.state, &extra_json, json_opts())
        .await
        .unwrap();
    assert_eq!(r.summary(), "created 0, existing 1, failed 0");
    assert_eq!(app.count("credentials").await, 5);
}
both_backends!(bulk_issue_creates_nothing_twice, crate::bulk_issue);

/// Files are held to the API's date ranges: past-event dates from 1900-01-01 to now, an
/// expiry after now and at most 100 years ahead, all judged in UTC (an offset of -23:59
/// takes 9999-12-31T23:59:59 into year 10000). What is accepted verifies.
async fn dates_in_files(app: &TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = &*app.state.store;
    let setup = [
        (
            Kind::Mentors,
            write(d, "m.csv", "name,email\nMaya,maya@example.org\n"),
        ),
        (
            Kind::People,
            write(
                d,
                "p.csv",
                "name,email,listed_in_registry\nAda,ada@example.org,true\n",
            ),
        ),
    ];
    for (kind, file) in &setup {
        let r = import::run(store, *kind, file, csv()).await.unwrap();
        assert!(r.is_ok(), "{kind:?}: {:?}", r.failed);
    }
    let closings = write(
        d,
        "c.csv",
        "closer_email,mentor_email,mentor_cc_at,partner_name,closed_on,stage_lead,summary\n\
         ada@example.org,maya@example.org,1900-01-01T23:59:00+23:59,Old Library,1900-01-01,1900-01-01,Done\n\
         ada@example.org,maya@example.org,1900-01-01,Older Library,1899-12-31,,Done\n\
         ada@example.org,maya@example.org,9999-12-31T23:59:59-23:59,Far Library,2026-10-02,,Done\n\
         ada@example.org,maya@example.org,1900-01-01T23:58:59+23:59,Early Library,1900-01-01,,Done\n\
         ada@example.org,maya@example.org,2026-10-01,Stage Library,2026-10-02,1899-12-31,Done\n\
         ada@example.org,maya@example.org,2026-10-01,Zero Library,0026-10-02,,Done\n",
    );
    let r = import::run(store, Kind::Closings, &closings, csv())
        .await
        .unwrap();
    assert_failed(
        &r,
        &[
            (3, "closed_on must not be before 1900-01-01"),
            (4, "mentor_cc_at must not be in the future"),
            (5, "mentor_cc_at must not be before 1900-01-01T00:00:00Z"),
            (6, "stages.lead must not be before 1900-01-01"),
            (7, "closed_on must not be before 1900-01-01"),
        ],
    );
    assert_eq!(r.summary(), "created 1, existing 0, failed 5");

    let far = (chrono::Utc::now() + chrono::Duration::days(36_500 - 2))
        .with_timezone(&chrono::FixedOffset::west_opt(23 * 3600 + 59 * 60).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    let badges = write(
        d,
        "badges.csv",
        &format!(
            "achievement,person_email,closing_partner,closing_closed_on,valid_until\n\
             partnership-closed,ada@example.org,Old Library,1900-01-01,9999-12-31T23:59:59-23:59\n\
             partnership-closed,ada@example.org,Old Library,1899-12-31,\n\
             partnership-closed,ada@example.org,Old Library,1900-01-01,{far}\n"
        ),
    );
    let r = import::issue_from(&app.state, &badges, csv())
        .await
        .unwrap();
    assert_failed(
        &r,
        &[
            (2, "valid_until is too far ahead"),
            (3, "closing_closed_on must not be before 1900-01-01"),
        ],
    );
    assert_eq!(r.summary(), "created 1, existing 0, failed 2");
    let ada = store
        .person_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    let held = store.credentials_of_person(ada.id).await.unwrap();
    assert_eq!(held.len(), 1);
    let doc: serde_json::Value = serde_json::from_str(&held[0].document).unwrap();
    let until = doc["validUntil"].as_str().unwrap();
    assert!(until.len() == 20 && until.ends_with('Z'), "{until}");
    let report = partnership_badges::verify::verify_with_state(&app.state, &doc).await;
    assert!(report.verified, "{report:?}");
}
both_backends!(dates_in_files_are_bounded, crate::dates_in_files);

async fn api_email_key(app: &TestApp) {
    app.person("Ada", "ada@example.org").await;
    let r = app
        .post(
            "/api/v1/people",
            json!({"name": "Ada Two", "email": " ADA@example.org ", "listed_in_registry": true,
                   "consent_source": "form"}),
        )
        .await;
    r.assert_problem(409, "a person with this email already exists");
    let bo = app.person("Bo", "bo@example.org").await;
    let r = app
        .call(
            axum::http::Method::PATCH,
            &format!("/api/v1/people/{bo}"),
            Some(json!({"email": "ada@example.org"})),
            Some(&app.token),
        )
        .await;
    r.assert_problem(409, "a person with this email already exists");

    app.mentor("Maya", "maya@example.org").await;
    let r = app
        .post(
            "/api/v1/mentors",
            json!({"name": "Maya Two", "email": "Maya@Example.org"}),
        )
        .await;
    r.assert_problem(409, "a mentor with this email already exists");
    // A mentor may also be a person (different tables).
    app.person("Maya", "maya@example.org").await;
}
both_backends!(api_refuses_duplicate_emails, crate::api_email_key);

/// The real binary on SQLite: plain progress lines off a terminal, bad rows on stderr
/// with file and line, the summary on stdout, exit status 1 when a row failed.
#[test]
fn binary_imports_and_issues() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite://{}/badges.db", d.display());
    let keys = d.join("keys");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_partnership-badges"))
            .args(args)
            .env("DATABASE_URL", &db)
            .env("KEYS_DIR", &keys)
            .env("PUBLIC_BASE_URL", common::BASE)
            .env_remove("CONFIG_FILE")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut people = String::from("name,email,listed_in_registry\n");
    for i in 0..2_500 {
        people.push_str(&format!("P {i},p{i}@example.org,true\n"));
    }
    people.push_str("Bad,not-an-email,true\n");
    let people = write(d, "people.csv", &people);
    let p = people.to_str().unwrap();

    let (ok, stdout, stderr) = run(&["import", "people", p]);
    assert!(!ok, "a failed row makes the exit status non-zero");
    assert!(
        stdout.contains("created 2500, existing 0, failed 1"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("{p}:2502: email is not a valid email address")),
        "{stderr}"
    );
    // Plain progress lines: every 1,000 rows and at the end.
    assert!(stderr.contains("1000/2501 rows"), "{stderr}");
    assert!(stderr.contains("2000/2501 rows"), "{stderr}");
    assert!(stderr.contains("2501/2501 rows"), "{stderr}");

    let (ok, stdout, _) = run(&["import", "people", p]);
    assert!(!ok);
    assert!(
        stdout.contains("created 0, existing 2500, failed 1"),
        "{stdout}"
    );

    // JSON by extension, then bulk issuance (needs a key).
    let mentors = write(
        d,
        "mentors.json",
        r#"[{"name": "Maya", "email": "maya@example.org"}]"#,
    );
    let (ok, stdout, stderr) = run(&["import", "mentors", mentors.to_str().unwrap()]);
    assert!(ok, "{stdout}{stderr}");
    let closings = write(
        d,
        "closings.txt",
        r#"[{"closer_email": "p1@example.org", "mentor_email": "maya@example.org",
             "mentor_cc_at": "2026-10-01T09:30:00Z", "partner_name": "Lyon Library",
             "closed_on": "2026-10-02", "summary": "Done."}]"#,
    );
    // Not named .json: --json says so.
    let (ok, stdout, stderr) = run(&["import", "closings", "--json", closings.to_str().unwrap()]);
    assert!(ok, "{stdout}{stderr}");
    let badges = write(
        d,
        "badges.csv",
        "achievement,person_email,closing_partner,closing_closed_on\n\
         partnership-closed,p1@example.org,Lyon Library,2026-10-02\n\
         partnership-certified,p1@example.org,,\n",
    );
    let b = badges.to_str().unwrap();
    let (ok, _, stderr) = run(&["issue", "--from", b]);
    assert!(!ok && stderr.contains("no signing key"), "{stderr}");
    let (ok, _, stderr) = run(&["keygen"]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = run(&["issue", "--from", b]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("created 2, existing 0, failed 0"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = run(&["issue", "--from", b]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("created 0, existing 2, failed 0"),
        "{stdout}"
    );
}
