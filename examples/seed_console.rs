//! Seeds a database for load tests of the staff console's dashboard, fast: direct SQL in one
//! transaction. PEOPLE people (default 10,000) with two closings each, spread over the last
//! two years, eight countries and 200 mentors; a Partnership Closed for three closings in
//! four, a Partnership Certified for two people in five, a partner-fit assessment on one
//! closing in four. Then it times the dashboard's figures (`program::stats`) as the service
//! computes them.
//!
//! ```sh
//! DATABASE_URL=sqlite://data/load.db cargo run --release --example seed_console -- 10000
//! ```
//!
//! The stored credential documents are **placeholders, not signed credentials**: the
//! dashboard never reads them. Use a seeded database for load tests only.

use std::time::Instant;

use chrono::{Duration, Utc};
use partnership_badges::db::postgres::PgStore;
use partnership_badges::db::sqlite::SqliteStore;
use partnership_badges::db::Store;
use uuid::Uuid;

const COUNTRIES: [&str; 8] = [
    "France",
    "Portugal",
    "Kenya",
    "Canada",
    "United Kingdom",
    "India",
    "Brazil",
    "Poland",
];
const MENTORS: usize = 200;

/// A partner fit whose ratings vary with `i`.
fn fit(i: usize) -> serde_json::Value {
    let r = |k: usize| serde_json::json!({"score": ((i + k) % 4) as u8});
    serde_json::json!({
        "depth": {"locations_and_audiences": r(0), "organisational_structures": r(1), "localisation": r(2)},
        "spread": {"growth_and_leadership": r(1), "size": r(2), "new_access": r(3)},
        "participation": {"shares_values": r(2), "participates_in_community": r(3), "reputation": r(0)},
    })
}

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
        let mentors: Vec<Uuid> = (0..MENTORS).map(|_| Uuid::new_v4()).collect();
        for (m, id) in mentors.iter().enumerate() {
            sqlx::query("insert into mentors (id, name, email, url, created_at) values ($1, $2, $3, null, $4)")
                .bind($id(*id))
                .bind(format!("Mentor {m}"))
                .bind(format!("mentor.{m}@example.org"))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let mut index = 0i64;
        for i in 0..$count {
            let person = Uuid::new_v4();
            let country = COUNTRIES[i % COUNTRIES.len()];
            sqlx::query(
                "insert into people (id, name, email, city, country, url, listed_in_registry, \
                 created_at) values ($1, $2, $3, $4, $5, null, $6, $7)",
            )
            .bind($id(person))
            .bind(format!("Person {i}"))
            .bind(format!("person.{i}@example.org"))
            .bind("City")
            .bind(country)
            .bind(false)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let mut closed = false;
            for k in 0..2usize {
                let n = 2 * i + k;
                let closing = Uuid::new_v4();
                let closed_on = (now - Duration::days((n % 730) as i64)).date_naive();
                sqlx::query(
                    "insert into closings (id, closer_id, mentor_id, mentor_cc_at, partner_name, \
                     partner_country, stages, closed_on, summary, created_at, partner_fit) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind($id(closing))
                .bind($id(person))
                .bind($id(mentors[n % MENTORS]))
                .bind(now - Duration::days((n % 730) as i64 + 1))
                .bind(format!("Partner {n}"))
                .bind(COUNTRIES[(n / 3) % COUNTRIES.len()])
                .bind(sqlx::types::Json(serde_json::json!({})))
                .bind(closed_on)
                .bind("Seeded for a load test.")
                .bind(now)
                .bind((n % 4 == 0).then(|| sqlx::types::Json(fit(n))))
                .execute(&mut *tx)
                .await?;
                if n % 4 != 3 {
                    closed = true;
                    index += 1;
                    sqlx::query(
                        "insert into credentials (id, achievement, person_id, closing_id, \
                         status_list, status_index, issued_at, valid_until, document) \
                         values ($1, 'partnership-closed', $2, $3, $4, $5, $6, null, $7)",
                    )
                    .bind($id(Uuid::new_v4()))
                    .bind($id(person))
                    .bind(Some($id(closing)))
                    .bind(list)
                    .bind(index)
                    .bind(now - Duration::days((n % 730) as i64))
                    .bind(r#"{"note":"placeholder seeded for a load test; not a signed credential"}"#)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if closed && i % 5 < 2 {
                index += 1;
                sqlx::query(
                    "insert into credentials (id, achievement, person_id, closing_id, \
                     status_list, status_index, issued_at, valid_until, document) \
                     values ($1, 'partnership-certified', $2, null, $3, $4, $5, $6, $7)",
                )
                .bind($id(Uuid::new_v4()))
                .bind($id(person))
                .bind(list)
                .bind(index)
                .bind(now - Duration::days((i % 700) as i64))
                .bind(Some(now + Duration::days((i % 400) as i64 + 1)))
                .bind(r#"{"note":"placeholder seeded for a load test; not a signed credential"}"#)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        index
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
    let (store, badges): (Box<dyn Store>, i64) = if url.starts_with("sqlite:") {
        let s = SqliteStore::connect(&url, "normal").await?;
        let n = seed!(s.pool(), |u: Uuid| u.to_string(), count);
        (Box::new(s), n)
    } else {
        let s = PgStore::connect(&url).await?;
        let n = seed!(s.pool(), |u: Uuid| u, count);
        // Fresh statistics now, as autovacuum would soon: plans for a bulk-loaded table.
        sqlx::query("analyze").execute(s.pool()).await?;
        (Box::new(s), n)
    };
    println!(
        "seeded {count} people, {} closings, {badges} badges in {:.2?} ({})",
        2 * count,
        started.elapsed(),
        store.backend()
    );
    // The dashboard's database work and calendar, as the service does it.
    let n = 50;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        partnership_badges::program::stats::stats(&*store, Utc::now()).await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "program::stats: median {:.1?}, p95 {:.1?} over {n} calls",
        times[n / 2],
        times[n * 95 / 100]
    );
    store.close().await;
    Ok(())
}
