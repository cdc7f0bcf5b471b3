//! The staff console in a real browser: the service on a loopback port, headless Chromium
//! (Debian `chromium`, driven by `playwright-core`, tests/browser/console.mjs) walking a
//! program officer's journey: the one-time link and a new password → a mentor, a person and
//! a closing with a partner-fit assessment → Partnership Closed awarded by keyboard after its
//! preview → certified → the person on the dashboard's figures and charts → the Certified
//! revoked after a confirmation → 3,000 people imported with a progress bar and a report
//! naming the bad rows → the lists searched and filtered → sign out. axe-core checks every
//! page it shows (no serious or critical violation), every visible control is
//! keyboard-focusable, and no page breaks the CSP.
//!
//! Screenshots of every page are `target/browser-screenshots/console-*.png`; the dashboard's
//! is also docs/images/console-dashboard.png. Outside CI the test is skipped, with the
//! reason printed, when Node.js or Chromium is missing; under `CI=true` that is a failure.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::TestApp;
use partnership_badges::scopes::Role;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

const PASSWORD: &str = "a long enough passphrase";

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Rows of the imported file.
const ROWS: u64 = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_officer_journey() {
    if !common::browser_ready() {
        return;
    }
    let (app, served) =
        common::serve_on_port(async |b: &str| Some(TestApp::sqlite_with_args(b, &[]).await))
            .await
            .expect("SQLite always starts");
    let base = served.base.clone();
    let link = common::console::create_account(&app, "ann@example.org", Role::Admin).await;

    // 3,000 people, three of them bad (lines 11, 101 and 201 of the file): enough that the
    // import runs for a while, so its progress bar is seen moving however fast the machine.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let mut rows = String::from("name,email,city,country,listed_in_registry\n");
    for i in 0..ROWS {
        match i {
            9 => rows.push_str("No Email,,Lyon,France,false\n"),
            99 => rows.push_str("Bad Email,not-an-email,Lyon,France,false\n"),
            199 => rows.push_str("Bad Flag,flag@example.org,Lyon,France,perhaps\n"),
            _ => rows.push_str(&format!("Person {i},p{i}@example.org,Lyon,France,false\n")),
        }
    }
    std::fs::write(&csv, rows).unwrap();

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-screenshots");
    let mut child = tokio::process::Command::new("node")
        .arg(common::tests_dir("browser").join("console.mjs"))
        .args(["--base", &base, "--link", &format!("{base}{link}")])
        .args(["--password", PASSWORD])
        .arg("--csv")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .env("CHROMIUM_PATH", common::chromium_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async |step: &str| -> Value {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the browser script ended before step {step}"));
            if line.trim_start().starts_with('{') {
                let report: Value = serde_json::from_str(&line).unwrap();
                eprintln!("{step}: {report:#}");
                assert_eq!(report["step"], step, "{report:#}");
                return report;
            }
            eprintln!("browser: {line}");
        }
    };

    let r = next("signed-in").await;
    assert_eq!(r["url"], format!("{base}/console"), "{r:#}");
    assert_eq!(r["h1"], "Dashboard");
    let session = r["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "pb_staff")
        .unwrap_or_else(|| panic!("no session cookie: {r:#}"));
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Lax");

    let r = next("recorded").await;
    assert!(
        r["mentorError"].as_str().unwrap().contains("email"),
        "the error beside the field: {r:#}"
    );
    assert_eq!(r["notice"], "Recorded.");
    assert_eq!(r["fitRows"], 9, "{r:#}");
    assert!(r["fitNote"].as_str().unwrap().contains("Works in Swahili"));

    let r = next("awarded").await;
    assert_eq!(r["byKeyboard"], "Award Partnership Closed", "{r:#}");
    assert_eq!(r["preview"]["recipient"], "Grace Hopper", "{r:#}");
    assert!(r["preview"]["evidence"]
        .as_str()
        .unwrap()
        .contains("Nairobi Makers"));
    assert_eq!(r["notice"], "Partnership Closed is awarded and signed.");
    assert!(r["badges"].as_str().unwrap().contains("valid"), "{r:#}");

    let r = next("certified").await;
    assert_eq!(r["preview"], "Certify: Grace Hopper");
    assert_eq!(r["notice"], "Partnership Certified is awarded and signed.");

    // The person is on the figures and the charts, as the API counts them.
    let r = next("dashboard").await;
    let stats = app.get("/api/v1/stats").await.body;
    let f = &r["figures"];
    assert_eq!(
        f["closings-month"],
        stats["closings"]["this_month"].to_string()
    );
    assert_eq!(f["certified-people"], "1");
    assert_eq!(f["certified-people"], stats["certified_people"].to_string());
    assert_eq!(f["queue-without-closed"], "0");
    let charts = r["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 4, "{r:#}");
    for c in charts {
        assert!(c["bars"].as_u64().unwrap() >= 1, "a chart with no bar: {c}");
        assert!(
            c["rows"].as_u64().unwrap() >= 1,
            "a chart with no data table: {c}"
        );
    }
    assert_eq!(strings(&r["countryRow"]), ["Kenya\t1"]);
    assert!(r["fitRow"].as_str().unwrap().contains("2.00"), "{r:#}");
    let shot = out.join("console-dashboard.png");
    assert!(shot.exists());

    let r = next("revoked").await;
    assert!(
        r["question"]
            .as_str()
            .unwrap()
            .contains("Certified by mistake"),
        "{r:#}"
    );
    assert_eq!(r["notice"], "The badge is revoked.");
    let mut statuses = strings(&r["statuses"]);
    statuses.sort();
    assert_eq!(statuses, ["revoked", "valid"]);

    let r = next("imported").await;
    assert!(
        r["check"]["headerOk"]
            .as_str()
            .unwrap()
            .contains(&format!("{ROWS} rows")),
        "{r:#}"
    );
    assert_eq!(r["check"]["firstRows"], 5);
    assert_eq!(r["check"]["button"], format!("Import {ROWS} rows"));
    let progress = r["progress"].as_array().unwrap();
    assert!(
        !progress.is_empty(),
        "the progress bar was never seen: {r:#}"
    );
    assert!(
        progress
            .iter()
            .all(|p| p["visible"] == true && p["max"] == ROWS),
        "{r:#}"
    );
    assert!(
        progress.iter().any(|p| p["value"].as_u64().unwrap() < ROWS),
        "seen while it ran: {r:#}"
    );
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("{} created, 0 already stored, 3 failed", ROWS - 3)),
        "{r:#}"
    );
    let bad = strings(&r["badRows"]);
    assert_eq!(bad.len(), 3, "{r:#}");
    for (row, line) in bad.iter().zip(["11", "101", "201"]) {
        assert!(row.starts_with(&format!("{line}\t")), "{row}");
    }
    let csv_report = r["reportCsv"].as_str().unwrap();
    assert!(
        csv_report.starts_with("line,outcome,reason\n11,failed,"),
        "{csv_report}"
    );
    // Those imported, and the one person the journey began with.
    assert_eq!(app.count("people").await, ROWS as i64 - 3 + 1);

    let r = next("lists").await;
    assert_eq!(r["people"], 1, "{r:#}");
    assert_eq!(r["mentors"], 1, "{r:#}");
    assert_eq!(r["closings"], 1, "{r:#}");

    let r = next("access").await;
    assert_eq!(r["tokensH1"], "API tokens");
    let actions = strings(&r["auditActions"]);
    for a in [
        "POST /console/set-password",
        "POST /console/closings/new",
        "POST /console/closings/{id}/award",
        "POST /console/people/{id}/certify",
        "POST /console/credentials/{id}/revoke",
        "POST /console/import/{job}/run",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }

    let r = next("signed-out").await;
    assert!(r["afterUrl"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{base}/console/sign-in")));
    assert_eq!(r["notice"], "You are signed out.");
    assert!(r["then"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{base}/console/sign-in")));

    let done = next("done").await;
    assert_eq!(
        done["axe"],
        serde_json::json!([]),
        "accessibility: {:#}",
        done["axe"]
    );
    assert_eq!(
        done["unreachable"],
        serde_json::json!([]),
        "keyboard: {:#}",
        done["unreachable"]
    );
    assert_eq!(done["csp"], serde_json::json!([]), "CSP: {:#}", done["csp"]);
    assert_eq!(
        done["consoleErrors"],
        serde_json::json!([]),
        "{:#}",
        done["consoleErrors"]
    );
    // The mentor form's 422 is the only error answer of the journey.
    assert_eq!(
        strings(&done["failedRequests"]),
        ["422 /console/mentors/new"],
        "{done:#}"
    );
    assert!(strings(&done["pages"]).len() >= 24, "{done:#}");
    let status = child.wait().await.unwrap();
    assert!(status.success());
    served.shutdown().await;
    app.cleanup().await;
}
