//! Crash safety: the service process is `kill -9`ed in the middle of a stream of concurrent
//! issuances (each with an Idempotency-Key) and revocations, restarted on the same database,
//! and every request is retried. Then: each key holds exactly one credential; every 201
//! answered before the crash is still there, is what the retry returns, and verifies;
//! status-list positions are unique; the published status lists encode exactly the
//! revocations. On SQLite and on PostgreSQL.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::process::{free_port, status_bits, Api, Deployment, TempDb};
use futures::StreamExt as _;
use serde_json::{json, Value};

/// People, each with one closing to be awarded a Partnership Closed.
const PEOPLE: usize = 240;
/// Issued (and answered) before the stream; the first `REVOKED` of them are revoked
/// during the stream.
const BEFORE: usize = 40;
const REVOKED: usize = 24;
/// The server is killed once this many stream requests have been answered.
const KILL_AFTER: usize = 60;

/// One request of the stream, and what its first attempt got.
#[derive(Clone)]
enum Op {
    Issue { key: String, body: Value },
    Revoke { id: String },
}

impl Op {
    async fn send(&self, api: &Api) -> reqwest::Result<(u16, Value)> {
        match self {
            Op::Issue { key, body } => api.post("/api/v1/credentials", body, Some(key)).await,
            Op::Revoke { id } => {
                api.post(
                    &format!("/api/v1/credentials/{id}/revoke"),
                    &json!({"reason": "withdrawn by the program"}),
                    None,
                )
                .await
            }
        }
    }
}

/// Raw reads of the database the service wrote.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(url: &str) -> Db {
        if url.starts_with("sqlite:") {
            Db::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            Db::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    async fn pairs(&self, sql: &str) -> Vec<(String, String)> {
        match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        }
    }

    async fn positions(&self, sql: &str) -> Vec<(i64, i64)> {
        match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        }
    }

    async fn close(self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

async fn crash_and_retry(db: TempDb) {
    let deploy = Deployment::new(db);
    let token = deploy.cli(&["token", "create", "--name", "crash"]);
    let token = token.lines().last().unwrap().trim().to_owned();
    let port = free_port();
    let service = deploy.start(port, port).await;
    let api = Api::new(&service.base, &token);

    // Records: a mentor, and per person a closing.
    let mentor = api
        .created(
            "/api/v1/mentors",
            json!({"name": "Maya Mentor", "email": "maya@example.org"}),
        )
        .await;
    let api_ref = &api;
    let mentor_id = mentor["id"].as_str().unwrap().to_owned();
    let mentor_ref = &mentor_id;
    let issues: Vec<Op> = futures::stream::iter(0..PEOPLE)
        .map(|i| async move {
            let person = api_ref
                .created(
                    "/api/v1/people",
                    json!({"name": format!("Closer {i}"), "email": format!("closer{i}@example.org"),
                           "listed_in_registry": i % 2 == 0,
                           "consent_source": (i % 2 == 0).then_some("signed form")}),
                )
                .await;
            let person_id = person["id"].as_str().unwrap();
            let mut closing = common::TestApp::closing_body(person_id, mentor_ref);
            closing["partner_name"] = json!(format!("Partner {i}"));
            let closing = api_ref.created("/api/v1/closings", closing).await;
            let closing_id = closing["id"].as_str().unwrap();
            Op::Issue {
                key: format!("crash-{closing_id}"),
                body: json!({"achievement": "partnership-closed", "person_id": person_id,
                             "closing_id": closing_id}),
            }
        })
        .buffered(8)
        .collect()
        .await;

    // Before the stream: BEFORE badges, all answered.
    let mut answered_201: HashMap<String, String> = HashMap::new();
    let mut before_ids = Vec::new();
    for op in &issues[..BEFORE] {
        let (status, body) = op.send(&api).await.unwrap();
        assert_eq!(status, 201, "{body}");
        let Op::Issue { key, .. } = op else {
            unreachable!()
        };
        let id = body["id"].as_str().unwrap().to_owned();
        answered_201.insert(key.clone(), id.clone());
        before_ids.push(id);
    }

    // The stream: the other issuances and REVOKED revocations, 16 in flight, killed midway.
    let mut stream_ops: Vec<Op> = issues[BEFORE..].to_vec();
    for (n, id) in before_ids[..REVOKED].iter().enumerate() {
        // Interleaved, so revocations are in flight when the kill lands.
        stream_ops.insert(n * 7 % stream_ops.len(), Op::Revoke { id: id.clone() });
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let stream = {
        let api = api.clone();
        let ops = stream_ops.clone();
        let answered = answered.clone();
        tokio::spawn(async move {
            let api = &api;
            let answered = &answered;
            futures::stream::iter(ops)
                .map(|op| async move {
                    let result = op.send(api).await.ok();
                    if result.is_some() {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    (op, result)
                })
                .buffered(16)
                .collect::<Vec<_>>()
                .await
        })
    };
    let mut waited = 0;
    while answered.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(2)).await;
        waited += 1;
        assert!(waited < 30_000, "the stream never got {KILL_AFTER} answers");
    }
    service.kill9();
    let outcomes = stream.await.unwrap();
    let lost = outcomes.iter().filter(|(_, r)| r.is_none()).count();
    assert!(
        lost > 0 && lost < outcomes.len(),
        "the kill must land mid-stream: {lost} of {} requests unanswered",
        outcomes.len()
    );
    eprintln!(
        "kill -9 after {} answers: {lost} of {} stream requests unanswered",
        outcomes.len() - lost,
        outcomes.len()
    );
    for (op, result) in &outcomes {
        if let (Op::Issue { key, .. }, Some((201, body))) = (op, result) {
            answered_201.insert(key.clone(), body["id"].as_str().unwrap().to_owned());
        }
    }
    for (op, result) in &outcomes {
        if let Some((status, body)) = result {
            let ok = match op {
                Op::Issue { .. } => *status == 201,
                Op::Revoke { .. } => *status == 200,
            };
            assert!(
                ok,
                "before the crash, an answered request succeeded: {status} {body}"
            );
        }
    }

    // Restart on the same database and keys, and retry every request of the stream.
    let service = deploy.start(port, port).await;
    let mut final_ids: HashMap<String, String> = HashMap::new();
    for op in issues.iter().chain(stream_ops.iter()) {
        let (status, body) = op.send(&api).await.expect("the restarted service answers");
        match op {
            Op::Issue { key, .. } => {
                let id = body["id"].as_str().unwrap_or_default().to_owned();
                match answered_201.get(key) {
                    // Acknowledged before the crash: the retry must find that very badge.
                    Some(first) => {
                        assert_eq!(status, 200, "a retry of an acknowledged key: {body}");
                        assert_eq!(&id, first, "the retry returns the acknowledged credential");
                    }
                    // Unacknowledged: stored before the crash (200) or issued now (201).
                    None => assert!(status == 200 || status == 201, "{status} {body}"),
                }
                final_ids.insert(key.clone(), id);
            }
            Op::Revoke { .. } => assert_eq!(status, 200, "a revocation retry: {body}"),
        }
    }

    // Exactly one credential per key, and no other credential.
    let db = Db::open(&deploy.db.url).await;
    let stored: HashMap<String, String> = db
        .pairs("select idempotency_key, cast(id as text) from credentials")
        .await
        .into_iter()
        .collect();
    let all = db
        .pairs("select cast(id as text), achievement from credentials")
        .await;
    assert_eq!(
        all.len(),
        PEOPLE,
        "one credential per issuance request, no more"
    );
    assert_eq!(stored.len(), PEOPLE, "every key holds a credential");
    assert_eq!(
        stored, final_ids,
        "each key's credential is the one retries return"
    );

    // Status positions are unique.
    let positions = db
        .positions("select status_list, status_index from credentials")
        .await;
    let unique: BTreeSet<_> = positions.iter().copied().collect();
    assert_eq!(unique.len(), positions.len(), "status positions are unique");

    // The published status lists encode exactly the revocations.
    let revoked: BTreeSet<(i64, i64)> = db
        .positions("select status_list, status_index from credentials where revoked_at is not null")
        .await
        .into_iter()
        .collect();
    let expected_revoked: BTreeSet<String> = before_ids[..REVOKED].iter().cloned().collect();
    let revoked_ids: BTreeSet<String> = db
        .pairs("select cast(id as text), achievement from credentials where revoked_at is not null")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        revoked_ids, expected_revoked,
        "exactly the revoked badges are revoked"
    );
    let lists: BTreeSet<i64> = positions.iter().map(|(list, _)| *list).collect();
    for list in lists {
        let (status, doc) = api.get(&format!("/status/{list}")).await;
        assert_eq!(status, 200);
        let published: BTreeSet<(i64, i64)> =
            status_bits(&doc).into_iter().map(|i| (list, i)).collect();
        let in_db: BTreeSet<(i64, i64)> = revoked
            .iter()
            .filter(|(l, _)| *l == list)
            .copied()
            .collect();
        assert_eq!(
            published, in_db,
            "status list {list} encodes exactly the revocations"
        );
    }

    // Every credential, acknowledged or not, verifies; the revoked ones fail on status only.
    let verify_client = &api;
    let expected_revoked = &expected_revoked;
    let reports: Vec<(String, Value)> = futures::stream::iter(all.iter().map(|(id, _)| id.clone()))
        .map(|id| async move {
            let (_, doc) = verify_client.get(&format!("/credentials/{id}")).await;
            (id, verify_client.verify(&doc).await)
        })
        .buffered(8)
        .collect()
        .await;
    for (id, report) in &reports {
        assert_eq!(report["checks"]["proof"], "passed", "{id}: {report}");
        if expected_revoked.contains(id) {
            assert_eq!(report["verified"], false, "{id}: {report}");
            assert_eq!(report["checks"]["status"], "failed", "{id}: {report}");
        } else {
            assert_eq!(report["verified"], true, "{id}: {report}");
        }
    }

    db.close().await;
    drop(service);
    deploy.db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_sqlite() {
    crash_and_retry(TempDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_postgres() {
    let Some(db) = TempDb::postgres().await else {
        return;
    };
    crash_and_retry(db).await;
}
