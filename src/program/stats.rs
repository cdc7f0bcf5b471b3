//! The program's figures, as the dashboard and `GET /api/v1/stats` show them: closings this
//! month, quarter and year; certified people; the work queue (closings without their badge,
//! people ready to certify, certifications expiring within 60 days, failed notifications);
//! and the series behind the charts (closings per month and certified people over 24 months,
//! closings by partner country and per mentor). The database counts and groups; the calendar
//! (which months, which quarter) is here.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::db::{CertifiedSpan, FitMonth, Store};
use crate::error::AppResult;

/// The figures as last computed, answered again while fresh: for `ttl`, and only while no
/// write went through this instance since (every write marks it dirty, so staff see their
/// own changes at once; changes elsewhere show within `ttl`).
pub struct StatsCache {
    ttl: std::time::Duration,
    /// Bumped by every write.
    generation: std::sync::atomic::AtomicU64,
    /// When computed, at which generation, what.
    last: std::sync::Mutex<Option<(std::time::Instant, u64, std::sync::Arc<Stats>)>>,
    /// Held while computing: of many requests missing at once, one computes and the others
    /// take its result (no stampede when the figures expire under load).
    computing: tokio::sync::Mutex<()>,
}

impl StatsCache {
    /// A cache keeping figures for `ttl` (zero: never).
    pub fn new(ttl: std::time::Duration) -> Self {
        StatsCache {
            ttl,
            generation: Default::default(),
            last: Default::default(),
            computing: Default::default(),
        }
    }

    /// Something was written: the next read computes anew.
    pub fn mark_dirty(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The figures at `now`, from memory while fresh.
    pub async fn get(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> AppResult<std::sync::Arc<Stats>> {
        if self.ttl.is_zero() {
            return Ok(std::sync::Arc::new(stats(store, now).await?));
        }
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let _computing = self.computing.lock().await;
        // Computed by the request this one waited for?
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        // Read before computing: a write that lands meanwhile makes this result stale.
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let s = std::sync::Arc::new(stats(store, now).await?);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), generation, s.clone()));
        Ok(s)
    }

    /// The last figures, if no write came since and they are younger than the TTL.
    fn fresh(&self) -> Option<std::sync::Arc<Stats>> {
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match &*last {
            Some((at, g, s)) if *g == generation && at.elapsed() < self.ttl => Some(s.clone()),
            _ => None,
        }
    }
}

/// How many months the series cover, ending with the current one.
pub const MONTHS: usize = 24;
/// The window of "expiring soon".
pub const EXPIRING_DAYS: i64 = 60;

/// The figures at one time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// When they were computed.
    pub as_of: DateTime<Utc>,
    /// Closings recorded, by when they closed.
    pub closings: ClosingCounts,
    /// People holding a valid Partnership Certified now.
    pub certified_people: i64,
    /// What is waiting for staff.
    pub queue: Queue,
    /// Closings per month, oldest first, every month of the last 24 (zeros included).
    pub closings_per_month: Vec<MonthValue>,
    /// People holding a valid Partnership Certified at the end of each of those months (now,
    /// for the current one).
    pub certified_over_time: Vec<MonthValue>,
    /// Closings by partner country, most first (`null`: none given).
    pub closings_by_country: Vec<CountryValue>,
    /// Closings per mentor CC'd, most first (the 50 with most).
    pub closings_per_mentor: Vec<MentorValue>,
    /// The partner-fit assessments averaged per axis, per quarter of the closing day, the
    /// last eight quarters oldest first (quarters without an assessment included).
    pub partner_fit_by_quarter: Vec<QuarterFit>,
}

/// The average partner fit of one quarter's assessed closings.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuarterFit {
    /// `YYYY-Qn`.
    pub quarter: String,
    /// Closings assessed.
    pub assessed: i64,
    /// Depth: the mean of its three criteria over those closings, 0–3 (two decimals);
    /// `null` when none was assessed.
    pub depth: Option<f64>,
    /// Spread, likewise.
    pub spread: Option<f64>,
    /// Participation, likewise.
    pub participation: Option<f64>,
}

/// Closings by when they closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClosingCounts {
    /// This calendar month (UTC).
    pub this_month: i64,
    /// This calendar quarter.
    pub this_quarter: i64,
    /// This calendar year.
    pub this_year: i64,
    /// Ever.
    pub total: i64,
}

/// The work queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Queue {
    /// Closings with no unrevoked Partnership Closed.
    pub closings_without_closed: i64,
    /// People with a valid Closed and no valid Certified.
    pub ready_to_certify: i64,
    /// Valid Certified badges that expire within 60 days.
    pub certifications_expiring_60_days: i64,
    /// Messages to holders that failed for good.
    pub failed_notifications: i64,
}

/// One month's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthValue {
    /// `YYYY-MM`.
    pub month: String,
    /// The value.
    pub value: i64,
}

/// Closings with partners of one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CountryValue {
    /// The partner's country, `null` if none was given.
    pub country: Option<String>,
    /// How many.
    pub closings: i64,
}

/// Closings one mentor was CC'd on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MentorValue {
    /// The mentor.
    pub mentor_id: Uuid,
    /// Their name.
    pub name: String,
    /// How many.
    pub closings: i64,
}

/// The first day of the month `back` months before the month of `day`.
fn month_start(day: NaiveDate, back: u32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 - back as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("the first of a month exists")
}

/// The figures at `now`.
pub async fn stats(store: &dyn Store, now: DateTime<Utc>) -> AppResult<Stats> {
    let today = now.date_naive();
    let months: Vec<NaiveDate> = (0..MONTHS as u32)
        .rev()
        .map(|back| month_start(today, back))
        .collect();
    let rows = store
        .stats(now, months[0], now + Duration::days(EXPIRING_DAYS))
        .await?;
    let label = |m: NaiveDate| m.format("%Y-%m").to_string();
    let closings_per_month: Vec<MonthValue> = months
        .iter()
        .map(|&m| MonthValue {
            month: label(m),
            value: rows
                .closings_per_month
                .iter()
                .find(|c| c.month == label(m))
                .map_or(0, |c| c.closings),
        })
        .collect();
    let since = |start: NaiveDate| {
        closings_per_month
            .iter()
            .filter(|m| m.month >= label(start))
            .map(|m| m.value)
            .sum::<i64>()
    };
    let quarter_start = month_start(today, today.month0() % 3);
    let year_start = month_start(today, today.month0());
    let certified_over_time = months
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            // The end of the month, or now for the current one.
            let end = months.get(i + 1).map_or(now, |next| {
                Utc.from_utc_datetime(&next.and_time(Default::default()))
            });
            MonthValue {
                month: label(m),
                value: certified_at(&rows.certified, end),
            }
        })
        .collect();
    Ok(Stats {
        as_of: now,
        closings: ClosingCounts {
            this_month: since(month_start(today, 0)),
            this_quarter: since(quarter_start),
            this_year: since(year_start),
            total: rows.counts.closings,
        },
        certified_people: rows.counts.certified_people,
        queue: Queue {
            closings_without_closed: rows.counts.without_closed,
            ready_to_certify: rows.counts.ready_to_certify,
            certifications_expiring_60_days: rows.counts.expiring,
            failed_notifications: rows.counts.failed_notifications,
        },
        closings_per_month,
        certified_over_time,
        closings_by_country: rows
            .closings_by_country
            .into_iter()
            .map(|c| CountryValue {
                country: c.country,
                closings: c.closings,
            })
            .collect(),
        closings_per_mentor: rows
            .closings_per_mentor
            .into_iter()
            .map(|m| MentorValue {
                mentor_id: m.mentor_id,
                name: m.name,
                closings: m.closings,
            })
            .collect(),
        partner_fit_by_quarter: fit_by_quarter(&rows.fits, today),
    })
}

/// How many quarters the partner-fit averages cover.
pub const QUARTERS: usize = 8;

/// `YYYY-Qn` of a day.
fn quarter_of(day: NaiveDate) -> String {
    format!("{}-Q{}", day.year(), day.month0() / 3 + 1)
}

/// `YYYY-Qn` of a `YYYY-MM` month.
fn quarter_of_month(month: &str) -> Option<String> {
    let (year, m) = month.split_once('-')?;
    let m: u32 = m.parse().ok()?;
    (1..=12)
        .contains(&m)
        .then(|| format!("{year}-Q{}", (m - 1) / 3 + 1))
}

/// The per-axis means of each of the last [`QUARTERS`] quarters to `today`, from the sums
/// per month.
fn fit_by_quarter(fits: &[FitMonth], today: NaiveDate) -> Vec<QuarterFit> {
    let this_quarter = month_start(today, today.month0() % 3);
    (0..QUARTERS as u32)
        .rev()
        .map(|back| {
            let label = quarter_of(month_start(this_quarter, back * 3));
            let months = fits
                .iter()
                .filter(|f| quarter_of_month(&f.month).as_deref() == Some(label.as_str()));
            let (mut n, mut depth, mut spread, mut participation) = (0i64, 0i64, 0i64, 0i64);
            for f in months {
                n += f.assessed;
                depth += f.depth;
                spread += f.spread;
                participation += f.participation;
            }
            // Three criteria per axis per closing; two decimals.
            let mean =
                |sum: i64| (n > 0).then(|| (sum as f64 / (3 * n) as f64 * 100.0).round() / 100.0);
            QuarterFit {
                quarter: label,
                assessed: n,
                depth: mean(depth),
                spread: mean(spread),
                participation: mean(participation),
            }
        })
        .collect()
}

/// How many people held a valid Certified at `at`: issued by then, and neither revoked nor
/// expired by then.
fn certified_at(spans: &[CertifiedSpan], at: DateTime<Utc>) -> i64 {
    let mut people: Vec<Uuid> = spans
        .iter()
        .filter(|s| {
            s.issued_at <= at
                && s.revoked_at.is_none_or(|r| r > at)
                && s.valid_until.is_none_or(|v| v > at)
        })
        .map(|s| s.person_id)
        .collect();
    people.sort_unstable();
    people.dedup();
    people.len() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_count_back_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
        assert_eq!(
            month_start(d, 0),
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
        );
        assert_eq!(
            month_start(d, 2),
            NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
        );
        assert_eq!(
            month_start(d, 23),
            NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
        );
    }

    #[test]
    fn months_fall_in_their_quarters() {
        assert_eq!(quarter_of_month("2026-01").as_deref(), Some("2026-Q1"));
        assert_eq!(quarter_of_month("2026-03").as_deref(), Some("2026-Q1"));
        assert_eq!(quarter_of_month("2026-04").as_deref(), Some("2026-Q2"));
        assert_eq!(quarter_of_month("2026-12").as_deref(), Some("2026-Q4"));
        assert_eq!(quarter_of_month("2026-13"), None);
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let fits = [
            FitMonth {
                month: "2026-10".into(),
                assessed: 1,
                depth: 6,
                spread: 3,
                participation: 0,
            },
            FitMonth {
                month: "2026-12".into(),
                assessed: 1,
                depth: 3,
                spread: 3,
                participation: 9,
            },
        ];
        let q = fit_by_quarter(&fits, today);
        assert_eq!(q.len(), QUARTERS);
        let last = q.last().unwrap();
        assert_eq!((last.quarter.as_str(), last.assessed), ("2026-Q4", 2));
        assert_eq!(last.depth, Some(1.5));
        assert_eq!(last.participation, Some(1.5));
        assert_eq!(q[0].quarter, "2025-Q1");
        assert_eq!(q[0].depth, None);
    }

    #[test]
    fn certified_spans_end_at_revocation_and_expiry() {
        let t = |m: u32| Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let spans = [
            CertifiedSpan {
                person_id: a,
                issued_at: t(1),
                valid_until: Some(t(3)),
                revoked_at: None,
            },
            // A renewal of the same person counts once.
            CertifiedSpan {
                person_id: a,
                issued_at: t(2),
                valid_until: None,
                revoked_at: None,
            },
            CertifiedSpan {
                person_id: b,
                issued_at: t(2),
                valid_until: None,
                revoked_at: Some(t(4)),
            },
        ];
        assert_eq!(certified_at(&spans, t(1) - Duration::seconds(1)), 0);
        assert_eq!(certified_at(&spans, t(1)), 1);
        assert_eq!(certified_at(&spans, t(3)), 2);
        // Revoked at t(4): from then on, only A.
        assert_eq!(certified_at(&spans, t(4)), 1);
    }
}
