//! Holder mail through a real SMTP server (the aiosmtpd sink of `tests/common/smtp.rs`),
//! sent by the service process, under the two things that can make a transactional outbox
//! lose or repeat mail: a crash and a second instance.
//!
//! - **Crash** (SQLite and PostgreSQL): the service is `kill -9`ed while notified
//!   issuances are in flight and its sender is mid-round, restarted on the same database,
//!   and every request is retried with its Idempotency-Key. Once the outbox is drained:
//!   every stored credential has exactly one outbox row, `sent`, and at least one delivered
//!   message carrying that row's id as its `Message-ID` and naming the badge; no message
//!   speaks of a credential that was not stored (the row and the credential share one
//!   transaction). Delivery is at least once, so a message the sink accepted just before
//!   the kill, whose row was not yet marked sent, is sent again after the lease
//!   (`--mail-lease-secs 2`) runs out: the test prints how many such duplicates there
//!   were, and checks each is exactly that case (first copy accepted before the kill, row
//!   not `sent` at the kill, one copy more, never a message already marked sent), and
//!   that every such message was sent again.
//! - **Two instances on one PostgreSQL**: both senders poll the same outbox every 20 ms
//!   while badges are issued through both; `for update skip locked` must keep them from
//!   claiming the same row, so the sink gets every message exactly once, each row
//!   claimed once (`attempts` = 1), and both instances take part.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::process::{free_port, Api, Deployment, TempDb};
use common::smtp::{Mail, SinkOptions, SmtpSink};
use futures::StreamExt as _;
use serde_json::{json, Value};

/// Notified issuances of the crash test, each for its own closing.
const CRASH_BADGES: usize = 100;
/// The service is killed once this many of them were answered.
const KILL_AFTER: usize = 40;
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;
/// Notified issuances of the two-instance test.
const SCALE_BADGES: usize = 200;
/// The longest wait for the outbox to drain (or the kill's answers to come).
const BOUND: Duration = Duration::from_secs(60);
/// The host of every `Message-ID`: the public base URL's (`http://127.0.0.1:PORT`).
const HOST: &str = "127.0.0.1";
/// The badge every message announces.
const BADGE: &str = "Partnership Closed";

/// One outbox row, as read from the database.
#[derive(Debug, Clone)]
struct OutboxRow {
    id: String,
    credential: String,
    status: String,
    attempts: String,
    email: String,
}

/// Raw reads of the database the service wrote.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

const OUTBOX_SQL: &str = "select cast(o.id as text), coalesce(cast(o.credential_id as text), ''), \
     o.status, cast(o.attempts as text), p.email from outbox o join people p on p.id = o.person_id";
const CREDENTIALS_SQL: &str =
    "select cast(id as text), coalesce(idempotency_key, '') from credentials";

impl Db {
    async fn open(url: &str) -> Db {
        if url.starts_with("sqlite:") {
            Db::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            // One session, so `wait_alone` can tell it from the service's.
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1);
            Db::Postgres(pool.connect(url).await.unwrap())
        }
    }

    async fn outbox(&self) -> Vec<OutboxRow> {
        type Row = (String, String, String, String, String);
        let rows: Vec<Row> = match self {
            Db::Sqlite(p) => sqlx::query_as(OUTBOX_SQL).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as(OUTBOX_SQL).fetch_all(p).await.unwrap(),
        };
        rows.into_iter()
            .map(|(id, credential, status, attempts, email)| OutboxRow {
                id,
                credential,
                status,
                attempts,
                email,
            })
            .collect()
    }

    /// `(id, idempotency key or "")` of every credential.
    async fn credentials(&self) -> Vec<(String, String)> {
        match self {
            Db::Sqlite(p) => sqlx::query_as(CREDENTIALS_SQL).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as(CREDENTIALS_SQL).fetch_all(p).await.unwrap(),
        }
    }

    /// Waits until no other session is connected to this PostgreSQL database (nothing on
    /// SQLite). A killed service's sessions may still run the statements it had sent just
    /// before it died (a `finish_message` among them); once they are gone, nothing of it
    /// can commit any more.
    async fn wait_alone(&self) {
        let Db::Postgres(p) = self else {
            return;
        };
        let deadline = Instant::now() + BOUND;
        loop {
            let others: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity \
                 where datname = current_database() and pid <> pg_backend_pid()",
            )
            .fetch_one(p)
            .await
            .unwrap();
            if others == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{others} sessions of the killed service still open after {BOUND:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn close(self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// An admin token of the deployment.
fn token(deploy: &Deployment) -> String {
    let out = deploy.cli(&["token", "create", "--name", "mail"]);
    out.lines().last().unwrap().trim().to_owned()
}

/// A mentor and `n` people, each with a closing; the issuance body of each (notified: the
/// default) and the person's address.
async fn seed(api: &Api, n: usize) -> Vec<(Value, String)> {
    let mentor = api
        .created(
            "/api/v1/mentors",
            json!({"name": "Maya Mentor", "email": "maya@example.org"}),
        )
        .await;
    let mentor_id = mentor["id"].as_str().unwrap();
    futures::stream::iter(0..n)
        .map(|i| async move {
            let email = format!("closer{i}@example.org");
            let person = api
                .created(
                    "/api/v1/people",
                    json!({"name": format!("Closer {i}"), "email": email,
                           "listed_in_registry": false}),
                )
                .await;
            let person_id = person["id"].as_str().unwrap();
            let mut closing = common::TestApp::closing_body(person_id, mentor_id);
            closing["partner_name"] = json!(format!("Partner {i}"));
            let closing = api.created("/api/v1/closings", closing).await;
            let body = json!({"achievement": "partnership-closed", "person_id": person_id,
                              "closing_id": closing["id"]});
            (body, email)
        })
        .buffered(8)
        .collect()
        .await
}

/// The sink's messages once none arrived for `quiet` (a message whose DATA ended as its
/// sender died, or a racing second copy, may still be on its way into the directory).
async fn settled(sink: &SmtpSink, quiet: Duration) -> Vec<Mail> {
    let deadline = Instant::now() + BOUND;
    let mut seen = sink.messages();
    loop {
        tokio::time::sleep(quiet).await;
        let now = sink.messages();
        if now.len() == seen.len() {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the SMTP sink kept receiving mail for {BOUND:?} ({} messages)",
            now.len()
        );
        seen = now;
    }
}

/// The outbox row id of a `Message-ID` (`<row id>@<host>`, brackets already dropped).
fn row_of(message_id: &str) -> &str {
    message_id
        .strip_suffix(&format!("@{HOST}"))
        .unwrap_or_else(|| panic!("Message-ID {message_id:?} is not <outbox row id>@{HOST}"))
}

/// Checks that a message is the announcement of `row`'s credential, to its person.
fn assert_announces(mail: &Mail, row: &OutboxRow) {
    let text = mail.text.as_deref().unwrap_or_default();
    let url = format!("/credentials/{}", row.credential);
    assert!(
        text.contains(BADGE) && text.contains(&url),
        "message {} names the badge ({BADGE}, {url}): {text}",
        mail.message_id
    );
    assert!(mail.subject.contains(BADGE), "subject: {}", mail.subject);
    assert_eq!(
        mail.to,
        std::slice::from_ref(&row.email),
        "message {}",
        mail.message_id
    );
}

/// Copies of each `Message-ID`: the positions (in the sink's order of acceptance) at which
/// it arrived.
fn copies(mail: &[Mail]) -> BTreeMap<&str, Vec<usize>> {
    let mut copies: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, m) in mail.iter().enumerate() {
        copies.entry(m.message_id.as_str()).or_default().push(i);
    }
    copies
}

async fn crash_with_mail(backend: &str, db: TempDb, sink: SmtpSink) {
    let deploy = Deployment::new(db);
    let token = token(&deploy);
    let port = free_port();
    let smtp = sink.url();
    let env = [
        ("SMTP_URL", smtp.as_str()),
        ("MAIL_LEASE_SECS", "2"),
        ("MAIL_POLL_MS", "50"),
        // The sink accepts everything; a transient hiccup should not stall the drain.
        ("MAIL_RETRY_BASE_MS", "200"),
    ];
    let service = deploy.start_with(port, port, &env).await;
    let api = Api::new(&service.base, &token);
    let seeded = seed(&api, CRASH_BADGES).await;
    let requests: Vec<(String, Value)> = seeded
        .iter()
        .enumerate()
        .map(|(i, (body, _))| (format!("mail-crash-{i}"), body.clone()))
        .collect();
    assert!(
        sink.messages().is_empty(),
        "no mail before the first issuance"
    );

    // The stream: every issuance, IN_FLIGHT at a time, killed midway.
    let answered = Arc::new(AtomicUsize::new(0));
    let stream = {
        let (api, requests, answered) = (api.clone(), requests.clone(), answered.clone());
        tokio::spawn(async move {
            let (api, answered) = (&api, &answered);
            futures::stream::iter(requests)
                .map(|(key, body)| async move {
                    let result = api
                        .post("/api/v1/credentials", &body, Some(&key))
                        .await
                        .ok();
                    if result.is_some() {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    (key, result)
                })
                .buffered(IN_FLIGHT)
                .collect::<Vec<_>>()
                .await
        })
    };
    let deadline = Instant::now() + BOUND;
    while answered.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "the stream did not get {KILL_AFTER} answers within {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    service.kill9();
    let outcomes = stream.await.unwrap();
    let lost = outcomes.iter().filter(|(_, r)| r.is_none()).count();
    assert!(
        lost > 0 && lost < outcomes.len(),
        "the kill must land mid-stream: {lost} of {} requests unanswered",
        outcomes.len()
    );
    let mut acknowledged: HashMap<String, String> = HashMap::new();
    for (key, result) in &outcomes {
        if let Some((status, body)) = result {
            assert_eq!(
                *status, 201,
                "before the kill, an answered issuance: {body}"
            );
            acknowledged.insert(key.clone(), body["id"].as_str().unwrap().to_owned());
        }
    }

    // What the sink and the outbox held at the kill (nothing sends until the restart).
    let db = Db::open(&deploy.db.url).await;
    db.wait_alone().await;
    let at_kill = settled(&sink, Duration::from_millis(300)).await;
    let sent_at_kill: BTreeSet<String> = db
        .outbox()
        .await
        .into_iter()
        .filter(|r| r.status == "sent")
        .map(|r| r.id)
        .collect();
    db.close().await;
    let delivered_at_kill: BTreeSet<&str> = at_kill.iter().map(|m| row_of(&m.message_id)).collect();
    for id in &sent_at_kill {
        assert!(
            delivered_at_kill.contains(id.as_str()),
            "row {id} was marked sent before the kill without the sink having its message"
        );
    }
    let unmarked_at_kill = delivered_at_kill
        .iter()
        .filter(|id| !sent_at_kill.contains(**id))
        .count();
    eprintln!(
        "{backend}: kill -9 after {} answers ({lost} of {CRASH_BADGES} unanswered): the sink had \
         accepted {} messages, {} of them not yet marked sent",
        outcomes.len() - lost,
        at_kill.len(),
        unmarked_at_kill
    );

    // Restart on the same database, keys and sink; retry every request with its key.
    let restarted = Instant::now();
    let service = deploy.start_with(port, port, &env).await;
    let api = Api::new(&service.base, &token);
    let retried: Vec<(String, u16, String)> = futures::stream::iter(&requests)
        .map(|(key, body)| {
            let api = &api;
            async move {
                let (status, body) = api
                    .post("/api/v1/credentials", body, Some(key))
                    .await
                    .expect("the restarted service answers");
                (
                    key.clone(),
                    status,
                    body["id"].as_str().unwrap_or_default().to_owned(),
                )
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    for (key, status, id) in &retried {
        match acknowledged.get(key) {
            Some(first) => {
                assert_eq!(*status, 200, "a retry of the acknowledged {key}");
                assert_eq!(id, first, "the retry of {key} returns its credential");
            }
            None => assert!(
                *status == 200 || *status == 201,
                "a retry of the unanswered {key}: {status}"
            ),
        }
    }

    // The outbox drains: no queued row left.
    let deadline = Instant::now() + BOUND;
    loop {
        let (status, page) = api
            .get("/api/v1/notifications?status=queued&limit=200")
            .await;
        assert_eq!(status, 200, "{page}");
        let queued = page["items"].as_array().expect("items").len();
        if queued == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{queued} messages still queued {BOUND:?} after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = restarted.elapsed();

    // One credential per request; one outbox row per credential, sent.
    let db = Db::open(&deploy.db.url).await;
    let credentials: HashMap<String, String> = db.credentials().await.into_iter().collect();
    let outbox = db.outbox().await;
    db.close().await;
    assert_eq!(
        credentials.len(),
        CRASH_BADGES,
        "one credential per request"
    );
    let by_key: HashMap<&str, &str> = credentials
        .iter()
        .map(|(id, key)| (key.as_str(), id.as_str()))
        .collect();
    for (key, _, id) in &retried {
        assert_eq!(by_key.get(key.as_str()), Some(&id.as_str()), "{key}");
    }
    assert_eq!(
        outbox.len(),
        credentials.len(),
        "one outbox row per credential"
    );
    let rows: HashMap<&str, &OutboxRow> = outbox.iter().map(|r| (r.id.as_str(), r)).collect();
    let announced: BTreeSet<&str> = outbox.iter().map(|r| r.credential.as_str()).collect();
    assert_eq!(
        announced,
        credentials.keys().map(String::as_str).collect(),
        "each stored credential has its row, and no row names another"
    );
    for row in &outbox {
        assert_eq!(row.status, "sent", "row {row:?}");
    }

    // The sink: every row's message, nothing else; duplicates only from the kill.
    let mail = sink.messages();
    let copies = copies(&mail);
    for row in &outbox {
        assert!(
            copies.contains_key(format!("{}@{HOST}", row.id).as_str()),
            "no message was delivered for credential {} (row {})",
            row.credential,
            row.id
        );
    }
    for m in &mail {
        let id = row_of(&m.message_id);
        let row = rows.get(id).unwrap_or_else(|| {
            panic!(
                "message {} has no outbox row (its badge was not stored)",
                m.message_id
            )
        });
        assert_announces(m, row);
    }
    let mut duplicates = 0;
    for (message_id, at) in &copies {
        if at.len() == 1 {
            continue;
        }
        duplicates += at.len() - 1;
        let id = row_of(message_id);
        assert_eq!(
            at.len(),
            2,
            "{message_id}: one resend after one crash, no more ({at:?})"
        );
        assert!(
            at[0] < at_kill.len() && at[1] >= at_kill.len(),
            "{message_id}: a duplicate's first copy came before the kill and the second \
             after (positions {at:?}; {} before the kill)",
            at_kill.len()
        );
        assert!(
            !sent_at_kill.contains(id),
            "{message_id}: resent although its row was marked sent before the kill"
        );
    }
    // At least once, and no more: each message the sink had but the outbox did not know
    // of at the kill comes again (its row stayed queued), and only those.
    assert!(
        duplicates <= at_kill.len(),
        "{duplicates} duplicates, but only {} messages before the kill",
        at_kill.len()
    );
    assert_eq!(
        duplicates, unmarked_at_kill,
        "every message accepted before the kill but not marked sent is sent once more"
    );
    eprintln!(
        "{backend}: duplicates (accepted just before the kill, resent after restart): {duplicates} \
         (bound: {unmarked_at_kill}); {} messages for {} credentials; outbox drained {:.1} s \
         after the restart",
        mail.len(),
        credentials.len(),
        drained.as_secs_f64()
    );

    drop(service);
    deploy.db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_mailing_sqlite() {
    let Some(sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    crash_with_mail("sqlite", TempDb::sqlite(), sink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_mailing_postgres() {
    let Some(sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    let Some(db) = TempDb::postgres().await else {
        return;
    };
    crash_with_mail("postgres", db, sink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_senders_one_postgres_send_each_message_once() {
    let Some(sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    let Some(db) = TempDb::postgres().await else {
        return;
    };
    let deploy = Deployment::new(db);
    let token = token(&deploy);
    let smtp = sink.url();
    // Each instance signs its mail with its own From, so the sink tells who sent what.
    let from = ["instance-a@example.org", "instance-b@example.org"];
    let (port_a, port_b) = (free_port(), free_port());
    let mut services = Vec::new();
    for (port, from) in [(port_a, from[0]), (port_b, from[1])] {
        let env = [
            ("SMTP_URL", smtp.as_str()),
            ("MAIL_POLL_MS", "20"),
            ("MAIL_FROM", from),
        ];
        // Both publish under one address, as behind a load balancer.
        services.push(deploy.start_with(port, port_a, &env).await);
    }
    let a = Api::new(&services[0].base, &token);
    let b = Api::new(&services[1].base, &token);
    let seeded = seed(&a, SCALE_BADGES).await;

    // Issued through both, alternately: each wakes its own sender, both poll.
    let started = Instant::now();
    let statuses: Vec<(u16, Value)> = futures::stream::iter(seeded.iter().enumerate())
        .map(|(i, (body, _))| {
            let api = if i % 2 == 0 { &a } else { &b };
            async move { api.post("/api/v1/credentials", body, None).await.unwrap() }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    for (status, body) in &statuses {
        assert_eq!(*status, 201, "{body}");
    }

    // Until every row is sent.
    let db = Db::open(&deploy.db.url).await;
    let deadline = Instant::now() + BOUND;
    let outbox = loop {
        let outbox = db.outbox().await;
        let sent = outbox.iter().filter(|r| r.status == "sent").count();
        if sent == SCALE_BADGES {
            break outbox;
        }
        assert!(
            Instant::now() < deadline,
            "{sent} of {SCALE_BADGES} messages sent {BOUND:?} after the first issuance \
             ({} rows)",
            outbox.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let all_sent = started.elapsed();
    let credentials = db.credentials().await;
    db.close().await;
    assert_eq!(credentials.len(), SCALE_BADGES);
    assert_eq!(outbox.len(), SCALE_BADGES, "one row per credential");
    for row in &outbox {
        assert_eq!(
            row.attempts, "1",
            "row {} was claimed more than once: {row:?}",
            row.id
        );
    }

    // A second copy racing the first would land within moments: give it a second.
    let mail = settled(&sink, Duration::from_secs(1)).await;
    let copies = copies(&mail);
    let twice: Vec<_> = copies.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(mail.len(), SCALE_BADGES, "one message per badge");
    assert_eq!(copies.len(), SCALE_BADGES, "distinct Message-IDs");
    let rows: HashMap<&str, &OutboxRow> = outbox.iter().map(|r| (r.id.as_str(), r)).collect();
    for m in &mail {
        let row = rows
            .get(row_of(&m.message_id))
            .unwrap_or_else(|| panic!("message {} has no outbox row", m.message_id));
        assert_announces(m, row);
    }
    let by = |from: &str| mail.iter().filter(|m| m.from == from).count();
    let (by_a, by_b) = (by(from[0]), by(from[1]));
    assert_eq!(by_a + by_b, SCALE_BADGES, "every message is from A or B");
    eprintln!(
        "two senders: {SCALE_BADGES} messages, each once; instance A sent {by_a}, \
         instance B {by_b}; all sent {:.1} s after the first issuance",
        all_sent.as_secs_f64()
    );
    assert!(
        by_a > 0 && by_b > 0,
        "both senders took part (A {by_a}, B {by_b})"
    );

    drop(services);
    deploy.db.drop_db().await;
}
