//! Bulk import from CSV or JSON files: mentors, people and closing records
//! (`partnership-badges import KIND FILE`), and badges (`partnership-badges issue --from FILE`).
//!
//! Every row goes through the same validation and program rules as the HTTP API
//! ([`crate::program::records`], [`crate::program::issue`]), so a file cannot store what the
//! API would refuse. Imports are re-runnable: each record has a natural key, and a row whose
//! key is already stored is reported as `exists` and left unchanged (never updated, never
//! duplicated):
//!
//! - a mentor or a person: the normalised email (a unique index holds it);
//! - a closing: its closer, its partner name (trimmed, case-insensitive) and `closed_on`;
//! - a badge: a deterministic Idempotency-Key `import:<sha256 of achievement, recipient
//!   email, closing partner and day>`, so the issuance's own retry logic refuses a second one.
//!
//! Bad rows are reported with their line number and reason; good rows are kept. The file is
//! read whole before the first write, so a header error stores nothing.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::db::{Stages, Store};
use crate::error::AppError;
use crate::program::issue::{issue, IssueRequest};
use crate::program::records::{
    create_closing, create_mentor, create_person, NewClosing, NewMentor, NewPerson,
};
use crate::program::{normalise_email, past_date};
use crate::state::AppState;

mod read;

use read::{
    read, read_bytes, typed, Parsed, CLOSING_COLUMNS, ISSUE_COLUMNS, MENTOR_COLUMNS, PERSON_COLUMNS,
};
pub use read::{Check, Format, RowError, CHECK_ROWS};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Mentors: `name, email, url`.
    Mentors,
    /// People: `name, email, city, country, url, listed_in_registry, consent_source`.
    People,
    /// Closing records, naming closer and mentor by email.
    Closings,
}

/// How progress and bad rows are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar when stderr is a terminal, [`ProgressMode::Lines`] otherwise.
    Auto,
    /// Bad rows as they happen and a progress line every 1,000 rows, on stderr.
    Lines,
    /// Nothing printed: the [`Report`] says it all (tests, library use).
    Quiet,
}

/// Options of one import.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The file format.
    pub format: Format,
    /// Progress display.
    pub progress: ProgressMode,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Rows that stored a new record.
    pub created: u64,
    /// Rows whose record was already stored (left unchanged).
    pub existing: u64,
    /// Rows that failed, in file order; a file-level problem (empty file, bad header) is
    /// one entry at line 1.
    pub failed: Vec<RowError>,
}

impl Report {
    /// `created N, existing N, failed N`.
    pub fn summary(&self) -> String {
        format!(
            "created {}, existing {}, failed {}",
            self.created,
            self.existing,
            self.failed.len()
        )
    }

    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// What happened to one row.
enum Outcome {
    Created,
    Exists,
    Failed(String),
}

/// A program error as a row outcome: a conflict means the record is already stored; a
/// client error is the row's fault; a server error (the database is gone) stops the import.
fn outcome<T>(result: Result<T, AppError>) -> anyhow::Result<Outcome> {
    match result {
        Ok(_) => Ok(Outcome::Created),
        Err(AppError::Conflict(_)) => Ok(Outcome::Exists),
        Err(AppError::Internal(e)) => Err(e),
        Err(e) => Ok(Outcome::Failed(e.to_string())),
    }
}

// ---- progress ----

/// Shows progress and bad rows while an import runs.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    label: String,
    total: u64,
    done: u64,
}

/// Rows between two plain progress lines.
const PROGRESS_EVERY: u64 = 1_000;

impl Progress {
    fn new(mode: ProgressMode, label: String, total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (mode == ProgressMode::Auto && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(label.clone());
            bar
        });
        Progress {
            lines: mode == ProgressMode::Lines || (mode == ProgressMode::Auto && !terminal),
            bar,
            label,
            total,
            done: 0,
        }
    }

    fn bad_row(&self, line: u64, reason: &str) {
        let text = format!("{}:{line}: {reason}", self.label);
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None if self.lines => eprintln!("{text}"),
            None => {}
        }
    }

    fn tick(&mut self, report: &Report) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if self.lines && self.done % PROGRESS_EVERY == 0 {
            eprintln!(
                "{}: {}/{} rows ({})",
                self.label,
                self.done,
                self.total,
                report.summary()
            );
        }
    }

    fn finish(&self, report: &Report) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.bar.is_some() || self.lines {
            eprintln!(
                "{}: {}/{} rows ({})",
                self.label,
                self.done,
                self.total,
                report.summary()
            );
        }
    }
}

/// Runs `handle` over every row of a parsed file, keeping count. Up to `in_flight` rows run
/// at once (each its own commit, so PostgreSQL can group them); results are taken in file
/// order, so reports and progress read as if sequential.
async fn run_rows<F, Fut>(
    parsed: Parsed,
    label: String,
    mode: ProgressMode,
    watch: Option<&Watch>,
    in_flight: usize,
    handle: F,
) -> anyhow::Result<Report>
where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Outcome>>,
{
    use futures_util::StreamExt as _;

    let mut report = Report::default();
    let mut progress = Progress::new(mode, label, parsed.items.len() as u64);
    if let Some(w) = watch {
        w.total.store(parsed.items.len() as u64, Ordering::Relaxed);
    }
    if let Some(e) = parsed.file_error {
        progress.bad_row(e.line, &e.reason);
        report.failed.push(e);
    }
    let handle = &handle;
    let mut results = futures_util::stream::iter(parsed.items)
        .map(|item| async move {
            let result = match item.value {
                Ok(value) => handle(value).await,
                Err(reason) => Ok(Outcome::Failed(reason)),
            };
            (item.line, result)
        })
        .buffered(in_flight.max(1));
    while let Some((line, result)) = results.next().await {
        report.rows += 1;
        let result = result
            .with_context(|| format!("line {line}: stopped ({} so far)", report.summary()))?;
        match result {
            Outcome::Created => report.created += 1,
            Outcome::Exists => report.existing += 1,
            Outcome::Failed(reason) => {
                progress.bad_row(line, &reason);
                report.failed.push(RowError { line, reason });
                if let Some(w) = watch {
                    w.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(w) = watch {
            w.done.fetch_add(1, Ordering::Relaxed);
        }
        progress.tick(&report);
    }
    progress.finish(&report);
    Ok(report)
}

/// Rows of independent records (mentors, people) in flight at once. SQLite has one writer,
/// so more connections only contend for its lock; PostgreSQL commits concurrent rows
/// together. Closings and badges go one at a time: a row may depend on an earlier one
/// (a Certified on its Closed; a repeated closing on the first being stored).
fn independent_in_flight(store: &dyn Store) -> usize {
    if store.backend() == "postgres" {
        16
    } else {
        1
    }
}

fn label(path: &Path) -> String {
    path.display().to_string()
}

// ---- records ----

/// A closing row: [`NewClosing`] with the closer and mentor named by email. In CSV the
/// stage dates are `stage_lead` … `stage_transition` columns; in JSON a `stages` object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClosingRow {
    closer_email: String,
    mentor_email: String,
    mentor_cc_at: DateTime<Utc>,
    #[serde(default)]
    mentor_cc_ref: Option<String>,
    partner_name: String,
    #[serde(default)]
    partner_url: Option<String>,
    #[serde(default)]
    partner_city: Option<String>,
    #[serde(default)]
    partner_country: Option<String>,
    #[serde(default)]
    stages: Stages,
    closed_on: NaiveDate,
    summary: String,
}

fn columns_of(kind: Kind) -> &'static read::Columns {
    match kind {
        Kind::Mentors => &MENTOR_COLUMNS,
        Kind::People => &PERSON_COLUMNS,
        Kind::Closings => &CLOSING_COLUMNS,
    }
}

/// Checks a CSV file of `kind` before importing it: the header, the first rows, the count.
pub fn check(kind: Kind, bytes: &[u8]) -> Check {
    read::check(bytes, columns_of(kind))
}

/// An import's progress for someone watching it (the console's progress bar): rows in the
/// file, rows done, rows failed so far.
#[derive(Debug, Default)]
pub struct Watch {
    /// Rows in the file.
    pub total: AtomicU64,
    /// Rows handled.
    pub done: AtomicU64,
    /// Rows that failed.
    pub failed: AtomicU64,
}

/// Imports mentors, people or closings from `path` into `store`, row by row, with the
/// API's validation. Re-running the same file creates nothing twice. `Err` only when the
/// file cannot be read or the database fails; bad rows are in the [`Report`].
pub async fn run(
    store: &dyn Store,
    kind: Kind,
    path: &Path,
    options: Options,
) -> anyhow::Result<Report> {
    let parsed = read(path, options.format, columns_of(kind))?;
    run_parsed(store, kind, parsed, label(path), options, None).await
}

/// [`run`] on a file's bytes (the console's upload), named `label` in its report, with
/// progress counted in `watch`.
pub async fn run_bytes(
    store: &dyn Store,
    kind: Kind,
    bytes: &[u8],
    label: String,
    options: Options,
    watch: Option<&Watch>,
) -> anyhow::Result<Report> {
    let parsed = read_bytes(bytes, options.format, columns_of(kind));
    run_parsed(store, kind, parsed, label, options, watch).await
}

async fn run_parsed(
    store: &dyn Store,
    kind: Kind,
    parsed: Parsed,
    label: String,
    options: Options,
    watch: Option<&Watch>,
) -> anyhow::Result<Report> {
    let in_flight = independent_in_flight(store);
    match kind {
        Kind::Mentors => {
            run_rows(
                parsed,
                label,
                options.progress,
                watch,
                in_flight,
                |value| async move {
                    match typed::<NewMentor>(value) {
                        Ok(input) => outcome(create_mentor(store, input).await),
                        Err(reason) => Ok(Outcome::Failed(reason)),
                    }
                },
            )
            .await
        }
        Kind::People => {
            let source_file = label.clone();
            let source_file = &source_file;
            run_rows(
                parsed,
                label,
                options.progress,
                watch,
                in_flight,
                |mut value| async move {
                    // Listing someone is a claim that they consented; an import file's row
                    // without its own `consent_source` names the file as that claim.
                    if value["listed_in_registry"] == Value::Bool(true)
                        && value.get("consent_source").is_none_or(Value::is_null)
                    {
                        value["consent_source"] =
                            Value::String(format!("listed by the import of {source_file}"));
                    }
                    match typed::<NewPerson>(value) {
                        Ok(input) => outcome(create_person(store, input).await),
                        Err(reason) => Ok(Outcome::Failed(reason)),
                    }
                },
            )
            .await
        }
        Kind::Closings => {
            run_rows(
                parsed,
                label,
                options.progress,
                watch,
                1,
                |value| async move {
                    match typed::<ClosingRow>(value) {
                        Ok(row) => import_closing(store, row).await,
                        Err(reason) => Ok(Outcome::Failed(reason)),
                    }
                },
            )
            .await
        }
    }
}

async fn import_closing(store: &dyn Store, row: ClosingRow) -> anyhow::Result<Outcome> {
    let Some(closer) = store
        .person_by_email(&normalise_email(&row.closer_email))
        .await?
    else {
        return Ok(Outcome::Failed(format!(
            "closer_email: no person with email {:?} (import people first)",
            row.closer_email.trim()
        )));
    };
    let Some(mentor) = store
        .mentor_by_email(&normalise_email(&row.mentor_email))
        .await?
    else {
        return Ok(Outcome::Failed(format!(
            "mentor_email: no mentor with email {:?} (import mentors first)",
            row.mentor_email.trim()
        )));
    };
    if store
        .closing_by_natural_key(closer.id, &row.partner_name, row.closed_on)
        .await?
        .is_some()
    {
        return Ok(Outcome::Exists);
    }
    let input = NewClosing {
        closer_id: closer.id,
        mentor_id: mentor.id,
        mentor_cc_at: row.mentor_cc_at,
        mentor_cc_ref: row.mentor_cc_ref,
        partner_name: row.partner_name,
        partner_url: row.partner_url,
        partner_city: row.partner_city,
        partner_country: row.partner_country,
        stages: row.stages,
        closed_on: row.closed_on,
        summary: row.summary,
        // An assessment is recorded by staff, not imported.
        partner_fit: None,
    };
    outcome(create_closing(store, input).await)
}

// ---- badges ----

/// A badge row: the achievement, the recipient by email and, for Partnership Closed (or to
/// make a Certified cite one closing), the closing by partner name and closing day.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRow {
    achievement: String,
    person_email: String,
    #[serde(default)]
    closing_partner: Option<String>,
    #[serde(default)]
    closing_closed_on: Option<NaiveDate>,
    #[serde(default)]
    valid_until: Option<DateTime<Utc>>,
    /// `false`: the holder is not emailed (default: they are).
    #[serde(default)]
    notify: Option<bool>,
}

/// The Idempotency-Key of a badge row: `import:` + hex SHA-256 of the fields that identify
/// the badge (not `valid_until`: a changed expiry on a re-run is reported, not re-issued).
pub fn issue_key(
    achievement: &str,
    person_email: &str,
    closing_partner: Option<&str>,
    closing_closed_on: Option<NaiveDate>,
) -> String {
    let mut text = String::new();
    let _ = write!(
        text,
        "{}\n{}\n{}\n{}",
        achievement.trim(),
        normalise_email(person_email),
        closing_partner
            .map(|p| p.trim().to_lowercase())
            .unwrap_or_default(),
        closing_closed_on.map(|d| d.to_string()).unwrap_or_default()
    );
    format!("import:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Issues badges in bulk from `path` (`issue --from`), through [`issue`] with a
/// deterministic Idempotency-Key per row ([`issue_key`]), so a re-run issues nothing twice.
/// A row whose badge is already held (issued otherwise) is reported as existing.
pub async fn issue_from(state: &AppState, path: &Path, options: Options) -> anyhow::Result<Report> {
    let parsed = read(path, options.format, &ISSUE_COLUMNS)?;
    run_rows(
        parsed,
        label(path),
        options.progress,
        None,
        1,
        |value| async move {
            match typed::<IssueRow>(value) {
                Ok(row) => issue_row(state, row).await,
                Err(reason) => Ok(Outcome::Failed(reason)),
            }
        },
    )
    .await
}

async fn issue_row(state: &AppState, row: IssueRow) -> anyhow::Result<Outcome> {
    let store = &*state.store;
    let email = normalise_email(&row.person_email);
    let Some(person) = store.person_by_email(&email).await? else {
        return Ok(Outcome::Failed(format!(
            "person_email: no person with email {:?}",
            row.person_email.trim()
        )));
    };
    // The closing day only names a closing, yet it is a date input like any other.
    if let Some(day) = row.closing_closed_on {
        if let Err(e) = past_date("closing_closed_on", day, crate::program::now().date_naive()) {
            return Ok(Outcome::Failed(e.to_string()));
        }
    }
    let partner = row
        .closing_partner
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let closing_id = match (partner, row.closing_closed_on) {
        (None, None) => None,
        (Some(partner), Some(day)) => {
            match store
                .closing_by_natural_key(person.id, partner, day)
                .await?
            {
                Some(c) => Some(c.id),
                None => {
                    return Ok(Outcome::Failed(format!(
                        "closing_partner: {} has no closing with {partner:?} closed on {day}",
                        email
                    )))
                }
            }
        }
        (Some(_), None) => {
            return Ok(Outcome::Failed(
                "closing_closed_on: missing; a closing is named by closing_partner and \
                 closing_closed_on together"
                    .into(),
            ))
        }
        (None, Some(_)) => {
            return Ok(Outcome::Failed(
                "closing_partner: missing; a closing is named by closing_partner and \
                 closing_closed_on together"
                    .into(),
            ))
        }
    };
    let key = issue_key(&row.achievement, &email, partner, row.closing_closed_on);
    let request = IssueRequest {
        achievement: row.achievement.trim().to_owned(),
        person_id: person.id,
        closing_id,
        valid_until: row.valid_until,
        notify: row.notify,
    };
    Ok(match issue(state, request, Some(key)).await {
        Ok(issued) if issued.created => Outcome::Created,
        Ok(_) => Outcome::Exists,
        // "rule: … already has an active …": the badge this row asks for is held.
        Err(AppError::Conflict(detail)) if detail.starts_with("rule:") => Outcome::Exists,
        // The row's key was used with other fields (e.g. a changed valid_until).
        Err(AppError::Conflict(detail)) => Outcome::Failed(detail),
        Err(AppError::Internal(e)) => return Err(e),
        Err(e) => Outcome::Failed(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_keys_ignore_case_and_spacing() {
        let day = NaiveDate::from_ymd_opt(2026, 10, 2);
        assert_eq!(
            issue_key(
                "partnership-closed",
                " Ada@Example.org",
                Some("Lyon Library "),
                day
            ),
            issue_key(
                "partnership-closed",
                "ada@example.org",
                Some("lyon library"),
                day
            )
        );
        assert_ne!(
            issue_key("partnership-closed", "ada@example.org", None, None),
            issue_key("partnership-certified", "ada@example.org", None, None)
        );
    }
}
