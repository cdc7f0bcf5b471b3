//! Scale-out on PostgreSQL: two service processes on one database, the way a deployment
//! grows past one machine (stateless instances behind a load balancer). Issuances and
//! revocations race through both; the database's constraints, not each instance's checks,
//! keep one Closed per closing and one active Certified per person, and status positions
//! unique; both instances publish the same status lists and registry.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::process::{free_port, status_bits, Api, Deployment, TempDb};
use futures::StreamExt as _;
use serde_json::{json, Value};

const PEOPLE: usize = 36;

/// Sends the same request to both instances at once; the two statuses and bodies.
async fn race(a: &Api, b: &Api, path: &str, body: Value) -> [(u16, Value); 2] {
    let (ra, rb) = tokio::join!(a.post(path, &body, None), b.post(path, &body, None));
    [ra.unwrap(), rb.unwrap()]
}

fn one_winner(results: &[(u16, Value); 2], what: &str) -> String {
    let wins: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        wins.len(),
        1,
        "{what}: exactly one instance issues: {results:?}"
    );
    let loser = results.iter().find(|(s, _)| *s != 201).unwrap();
    assert_eq!(
        loser.0, 409,
        "{what}: the other is told it conflicts: {loser:?}"
    );
    wins[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres() {
    let Some(db) = TempDb::postgres().await else {
        return;
    };
    let deploy = Deployment::new(db);
    let token = deploy.cli(&["token", "create", "--name", "ops"]);
    let token = token.lines().last().unwrap().trim().to_owned();
    // Both publish under one address, as behind a load balancer.
    let (port_a, port_b) = (free_port(), free_port());
    let service_a = deploy.start(port_a, port_a).await;
    let service_b = deploy.start(port_b, port_a).await;
    let a = Api::new(&service_a.base, &token);
    let b = Api::new(&service_b.base, &token);
    let via = |i: usize| if i % 2 == 0 { &a } else { &b };

    // Records, written alternately through both.
    let mentor = a
        .created(
            "/api/v1/mentors",
            json!({"name": "Maya Mentor", "email": "maya@example.org"}),
        )
        .await;
    let mentor_id = mentor["id"].as_str().unwrap();
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let person = via(i)
            .created(
                "/api/v1/people",
                json!({"name": format!("Person {i:02}"), "email": format!("p{i}@example.org"),
                       "city": "Lyon", "country": "France", "listed_in_registry": true, "consent_source": "signed form"}),
            )
            .await;
        let person_id = person["id"].as_str().unwrap().to_owned();
        let mut closing = common::TestApp::closing_body(&person_id, mentor_id);
        closing["partner_name"] = json!(format!("Partner {i}"));
        let closing = via(i + 1).created("/api/v1/closings", closing).await;
        people.push((person_id, closing["id"].as_str().unwrap().to_owned()));
    }

    // Partnership Closed for every closing, asked of both instances at once.
    let closed: Vec<String> = futures::stream::iter(&people)
        .map(|(person, closing)| {
            let (a, b) = (&a, &b);
            async move {
                let results = race(
                    a,
                    b,
                    "/api/v1/credentials",
                    json!({"achievement": "partnership-closed", "person_id": person,
                           "closing_id": closing}),
                )
                .await;
                one_winner(&results, "Closed for one closing")
            }
        })
        .buffered(8)
        .collect()
        .await;
    assert_eq!(closed.len(), PEOPLE);

    // At once, through both: a Certified race for the first two thirds, and the last third's
    // Closed badges revoked (each through the instance that did not issue it, alternately).
    let (certify, revoke) = people.split_at(PEOPLE * 2 / 3);
    assert!(!revoke.is_empty());
    // `closed` is in `people` order (`buffered` keeps it).
    let revoked_ids: Vec<String> = closed[certify.len()..].to_vec();
    let certifications = futures::stream::iter(certify)
        .map(|(person, _)| {
            let (a, b) = (&a, &b);
            async move {
                let results = race(
                    a,
                    b,
                    "/api/v1/credentials",
                    json!({"achievement": "partnership-certified", "person_id": person}),
                )
                .await;
                one_winner(&results, "Certified for one person")
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>();
    let revocations = futures::stream::iter(revoked_ids.iter().enumerate())
        .map(|(i, id)| {
            let api = via(i).clone();
            async move {
                let (status, body) = api
                    .post(
                        &format!("/api/v1/credentials/{id}/revoke"),
                        &json!({"reason": "closing record withdrawn"}),
                        None,
                    )
                    .await
                    .unwrap();
                assert_eq!(status, 200, "{body}");
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<()>>();
    let (certified, _) = tokio::join!(certifications, revocations);
    assert_eq!(certified.len(), certify.len());

    // The database's own constraints hold, and refuse a direct attempt to break them.
    let pool = sqlx::PgPool::connect(&deploy.db.url).await.unwrap();
    let positions: Vec<(i64, i64)> =
        sqlx::query_as("select status_list, status_index from credentials")
            .fetch_all(&pool)
            .await
            .unwrap();
    let unique: BTreeSet<_> = positions.iter().copied().collect();
    assert_eq!(positions.len(), PEOPLE + certify.len());
    assert_eq!(unique.len(), positions.len(), "status positions are unique");
    let (person, _) = &certify[0];
    let twin = sqlx::query(
        "insert into credentials (id, achievement, person_id, status_list, status_index, \
         issued_at, document) select gen_random_uuid(), achievement, person_id, status_list, \
         status_index + 100000, issued_at, document from credentials \
         where achievement = 'partnership-certified' and person_id = $1::uuid",
    )
    .bind(person)
    .execute(&pool)
    .await;
    let err = twin.expect_err("a second active Certified must be refused by the database");
    assert!(
        err.as_database_error()
            .is_some_and(|e| e.is_unique_violation()),
        "{err}"
    );
    let same_bit = sqlx::query(
        "insert into credentials (id, achievement, person_id, status_list, status_index, \
         issued_at, document) select gen_random_uuid(), 'partnership-closed', person_id, \
         status_list, status_index, issued_at, document from credentials limit 1",
    )
    .execute(&pool)
    .await;
    assert!(same_bit
        .expect_err("a reused status position must be refused by the database")
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation()));
    let revoked_in_db: BTreeSet<(i64, i64)> = sqlx::query_as(
        "select status_list, status_index from credentials where revoked_at is not null",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(revoked_in_db.len(), revoke.len());
    pool.close().await;

    // Both instances publish the same revocations in every status list.
    let lists: BTreeSet<i64> = positions.iter().map(|(l, _)| *l).collect();
    for list in lists {
        let (sa, doc_a) = a.get(&format!("/status/{list}")).await;
        let (sb, doc_b) = b.get(&format!("/status/{list}")).await;
        assert_eq!((sa, sb), (200, 200));
        let expected: BTreeSet<i64> = revoked_in_db
            .iter()
            .filter(|(l, _)| *l == list)
            .map(|(_, i)| *i)
            .collect();
        assert_eq!(status_bits(&doc_a), expected, "instance A, list {list}");
        assert_eq!(status_bits(&doc_b), expected, "instance B, list {list}");
        assert_eq!(doc_a["id"], doc_b["id"], "one status list URL for both");
    }

    // A badge issued through one instance verifies through the other, revoked or not.
    for (id, revoked) in [(&certified[0], false), (&revoked_ids[0], true)] {
        let (_, doc) = a.get(&format!("/credentials/{id}")).await;
        let report = b.verify(&doc).await;
        assert_eq!(report["checks"]["proof"], "passed", "{report}");
        assert_eq!(report["verified"], !revoked, "{report}");
    }

    // Both serve the same registry: every certified person, once. (Another instance's
    // change shows after at most REGISTRY_RECHECK_MS, so allow a few seconds.)
    let names = |doc: &Value| -> Vec<String> {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected: Vec<String> = (0..certify.len())
        .map(|i| format!("Person {i:02}"))
        .collect();
    let mut same = false;
    for _ in 0..50 {
        let (_, ra) = a.get("/registry.json?limit=100").await;
        let (_, rb) = b.get("/registry.json?limit=100").await;
        if names(&ra) == expected && ra["items"] == rb["items"] {
            same = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(same, "both instances serve the same, complete registry");

    drop((service_a, service_b));
    deploy.db.drop_db().await;
}

/// A badge page as a browser gets it from `api`'s instance.
async fn page(api: &Api, id: &str) -> String {
    let res = api
        .client
        .get(format!("{}/credentials/{id}", api.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The status an instance's badge page shows (`valid`, `revoked`, `expired`).
fn page_status(html: &str) -> &str {
    let at = html
        .find("class=\"status status-")
        .expect("the page shows a status")
        + 21;
    &html[at..at + html[at..].find('"').unwrap()]
}

/// How many badge pages an instance served from `from` (`memory` or `database`).
async fn pages_from(api: &Api, from: &str) -> f64 {
    let text = api
        .client
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("partnership_badges_badge_pages_total{{from=\"{from}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Badge pages come from memory, and still a revocation, a holder's change, an erasure and an
/// expiry show on the very next request on every instance sharing the database.
async fn badge_pages_stay_live(db: TempDb) {
    let deploy = Deployment::new(db);
    let token = deploy.cli(&["token", "create", "--name", "ops"]);
    let token = token.lines().last().unwrap().trim().to_owned();
    let (port_a, port_b) = (free_port(), free_port());
    let service_a = deploy.start(port_a, port_a).await;
    let service_b = deploy.start(port_b, port_a).await;
    let a = Api::new(&service_a.base, &token);
    let b = Api::new(&service_b.base, &token);

    let mentor = a
        .created(
            "/api/v1/mentors",
            json!({"name": "Maya Mentor", "email": "maya@example.org"}),
        )
        .await;
    let mut badges = Vec::new();
    let in_five_seconds = chrono::Utc::now() + chrono::Duration::seconds(5);
    for (i, name) in ["Ada Revoked", "Bea Expiring", "Cy Renamed"]
        .iter()
        .enumerate()
    {
        let person = a
            .created(
                "/api/v1/people",
                json!({"name": name, "email": format!("p{i}@example.org"), "city": "Lyon",
                       "country": "France", "listed_in_registry": true,
                       "consent_source": "signed form"}),
            )
            .await;
        let person_id = person["id"].as_str().unwrap().to_owned();
        let closing = common::TestApp::closing_body(&person_id, mentor["id"].as_str().unwrap());
        let closing = b.created("/api/v1/closings", closing).await;
        let mut body = json!({"achievement": "partnership-closed", "person_id": person_id,
                              "closing_id": closing["id"]});
        if i == 1 {
            body["valid_until"] = json!(in_five_seconds.to_rfc3339());
        }
        let badge = a.created("/api/v1/credentials", body).await;
        badges.push((person_id, badge["id"].as_str().unwrap().to_owned()));
    }
    let [(_, revoked), (_, expiring), (renamed_person, renamed)] = &badges[..] else {
        unreachable!()
    };

    // Every page read through both instances, until both answer from memory.
    let memory_before = (
        pages_from(&a, "memory").await,
        pages_from(&b, "memory").await,
    );
    for _ in 0..3 {
        for api in [&a, &b] {
            for (_, id) in &badges {
                let html = page(api, id).await;
                assert_eq!(page_status(&html), "valid");
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(page(&b, renamed).await.contains("Cy Renamed"));
    assert!(
        pages_from(&a, "memory").await > memory_before.0
            && pages_from(&b, "memory").await > memory_before.1,
        "both instances serve badge pages from memory"
    );

    // A revocation through A: the next request to either instance shows it.
    let (status, body) = a
        .post(
            &format!("/api/v1/credentials/{revoked}/revoke"),
            &json!({"reason": "closing record withdrawn"}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    for api in [&b, &a] {
        let html = page(api, revoked).await;
        assert_eq!(page_status(&html), "revoked", "{}", api.base);
        assert!(html.contains("closing record withdrawn"));
    }

    // The holder's new name through B shows on A at once.
    let res = b
        .client
        .patch(format!("{}/api/v1/people/{renamed_person}", b.base))
        .bearer_auth(&token)
        .json(&json!({"name": "Cy Newname"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let html = page(&a, renamed).await;
    assert!(html.contains("Cy Newname") && !html.contains("Cy Renamed"));

    // The holder erased through A: on B, no name and revoked, at once.
    let res = a
        .client
        .delete(format!("{}/api/v1/people/{renamed_person}", a.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let html = page(&b, renamed).await;
    assert_eq!(page_status(&html), "revoked");
    assert!(
        !html.contains("Cy Newname"),
        "the erased holder's name is gone"
    );

    // The expiring badge: valid from memory until its time, then expired, with no write.
    assert_eq!(page_status(&page(&b, expiring).await), "valid");
    let wait = in_five_seconds - chrono::Utc::now();
    tokio::time::sleep(wait.to_std().unwrap_or_default() + Duration::from_millis(1100)).await;
    for api in [&a, &b] {
        assert_eq!(
            page_status(&page(api, expiring).await),
            "expired",
            "{}",
            api.base
        );
    }

    drop((service_a, service_b));
    deploy.db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn badge_pages_live_on_every_instance_postgres() {
    let Some(db) = TempDb::postgres().await else {
        return;
    };
    badge_pages_stay_live(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn badge_pages_live_on_every_instance_sqlite() {
    badge_pages_stay_live(TempDb::sqlite()).await;
}
