//! Seeds a database with N listed, certified people for load tests of the registry, fast:
//! direct SQL in one transaction (a mentor, then per person a person row, a closing, a
//! Partnership Closed and a Partnership Certified), then times the registry's two hot
//! queries (the version probe and the first page) so their cost is on record.
//!
//! ```sh
//! DATABASE_URL=sqlite://data/load.db cargo run --release --example seed_registry -- 10000
//! ```
//!
//! The stored credential documents are **placeholders, not signed credentials**: the
//! registry never reads them, and signing 20,000 credentials would dominate the seeding
//! time. Use a seeded database for load tests only.

use std::time::Instant;

use chrono::{Duration, Utc};
use partnership_badges::db::postgres::PgStore;
use partnership_badges::db::sqlite::SqliteStore;
use partnership_badges::db::{RegistryOrder, RegistryQuery, Store};
use uuid::Uuid;

const FIRST: [&str; 25] = [
    "Ada", "Bruno", "Chioma", "Dmitri", "Elena", "Farah", "Goran", "Hana", "Ines", "Jonas",
    "Kemal", "Lucia", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sami", "Tariq",
    "Ulla", "Vera", "Wen", "Yusuf", "Zora",
];
const LAST: [&str; 20] = [
    "Almeida", "Berg", "Chen", "Diallo", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jansen",
    "Kowalski", "Lopez", "Moreau", "Nowak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka",
    "Weber",
];
const PLACES: [(&str, &str); 8] = [
    ("Lyon", "France"),
    ("Porto", "Portugal"),
    ("Nairobi", "Kenya"),
    ("Toronto", "Canada"),
    ("Leeds", "United Kingdom"),
    ("Pune", "India"),
    ("Recife", "Brazil"),
    ("Kraków", "Poland"),
];

/// One row per statement, bound like the backends bind them (text ids on SQLite).
macro_rules! seed {
    ($pool:expr, $id:expr, $count:expr) => {{
        let mut tx = $pool.begin().await?;
        let now = partnership_badges::program::now();
        let list: i64 = sqlx::query_scalar("select coalesce(max(id), 0) + 1 from status_lists")
            .fetch_one(&mut *tx)
            .await?;
        // A full list of its own: the service's allocator never hands out its positions.
        sqlx::query("insert into status_lists (id, size, next_counter) values ($1, $2, $2)")
            .bind(list)
            .bind(partnership_badges::program::STATUS_LIST_SIZE)
            .execute(&mut *tx)
            .await?;
        let mentor = Uuid::new_v4();
        sqlx::query("insert into mentors (id, name, email, url, created_at) values ($1, $2, $3, null, $4)")
            .bind($id(mentor))
            .bind("Load Mentor")
            .bind("load.mentor@example.org")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for i in 0..$count {
            let person = Uuid::new_v4();
            let (city, country) = PLACES[i % PLACES.len()];
            let name = format!("{} {} {i}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
            sqlx::query(
                "insert into people (id, name, email, city, country, url, listed_in_registry, \
                 created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind($id(person))
            .bind(&name)
            .bind(format!("load.{i}@example.org"))
            .bind(city)
            .bind(country)
            .bind((i % 3 == 0).then(|| format!("https://people.example.org/{i}")))
            .bind(true)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let closing = Uuid::new_v4();
            let closed_on = (now - Duration::days(30)).date_naive();
            sqlx::query(
                "insert into closings (id, closer_id, mentor_id, mentor_cc_at, partner_name, \
                 stages, closed_on, summary, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind($id(closing))
            .bind($id(person))
            .bind($id(mentor))
            .bind(now - Duration::days(31))
            .bind("Load Partner")
            .bind(sqlx::types::Json(serde_json::json!({})))
            .bind(closed_on)
            .bind("Seeded for a load test.")
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let issued = now - Duration::minutes(i as i64);
            for (k, (achievement, closing_id)) in [
                ("partnership-closed", Some($id(closing))),
                ("partnership-certified", None),
            ]
            .into_iter()
            .enumerate()
            {
                sqlx::query(
                    "insert into credentials (id, achievement, person_id, closing_id, \
                     status_list, status_index, issued_at, valid_until, document) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind($id(Uuid::new_v4()))
                .bind(achievement)
                .bind($id(person))
                .bind(closing_id)
                .bind(list)
                .bind((2 * i + k) as i64)
                .bind(issued)
                .bind(Some(now + Duration::days(365 + i as i64)))
                .bind(r#"{"note":"placeholder seeded for a load test; not a signed credential"}"#)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
    }};
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/badges.db".into());
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000);
    let started = Instant::now();
    let store: Box<dyn Store> = if url.starts_with("sqlite:") {
        let s = SqliteStore::connect(&url, "normal").await?;
        seed!(s.pool(), |u: Uuid| u.to_string(), count);
        Box::new(s)
    } else {
        let s = PgStore::connect(&url).await?;
        seed!(s.pool(), |u: Uuid| u, count);
        // Fresh statistics now, as autovacuum would soon: plans for a bulk-loaded table.
        sqlx::query("analyze").execute(s.pool()).await?;
        Box::new(s)
    };
    println!(
        "seeded {count} listed, certified people in {:.2?} ({})",
        started.elapsed(),
        store.backend()
    );

    // The cost of the registry's database work, as the service pays it.
    let now = Utc::now();
    let n = 1000;
    let t = Instant::now();
    for _ in 0..n {
        store.registry_probe(now).await?;
    }
    let probe = t.elapsed() / n;
    let q = RegistryQuery {
        country: None,
        prefix: None,
        after: None,
        order: RegistryOrder::Name,
        limit: 21,
        now,
    };
    let t = Instant::now();
    for _ in 0..200 {
        store.registry_page(&q).await?;
    }
    let page = t.elapsed() / 200;
    let ids: Vec<Uuid> = store
        .registry_page(&q)
        .await?
        .iter()
        .map(|r| r.person_id)
        .collect();
    let t = Instant::now();
    for _ in 0..200 {
        store.registry_badges(&ids).await?;
    }
    let badges = t.elapsed() / 200;
    println!(
        "registry_probe {probe:.1?} per call; first page: registry_page {page:.1?} + \
         registry_badges {badges:.1?}"
    );
    store.close().await;
    Ok(())
}
