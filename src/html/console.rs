//! The staff console's pages: sign-in, the dashboard and its server-rendered SVG charts
//! (each with its data table), the record lists and forms, awarding. Built from what the
//! handlers in `crate::routes::console` load, without I/O.

use askama::Template;

use crate::program::stats::{QuarterFit, Stats};

/// The console's header: who is signed in, what they may do, the sign-out form.
pub struct Nav {
    /// The staff member's email.
    pub email: String,
    /// Their role's name.
    pub role: &'static str,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    /// The current section (`dashboard`, `closings`, …).
    pub current: &'static str,
    /// May record and award.
    pub can_issue: bool,
    /// May revoke.
    pub can_revoke: bool,
    /// May manage tokens and read the audit log.
    pub is_admin: bool,
}

impl Nav {
    /// `aria-current="page"` for the current section's link.
    pub fn current_of(&self, section: &str) -> &'static str {
        if self.current == section {
            "page"
        } else {
            "false"
        }
    }
}

/// `/`: the program's home for the public.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage;

/// `/console/sign-in`.
#[derive(Template)]
#[template(path = "console/sign-in.html")]
pub struct SignInPage {
    /// The form's CSRF token.
    pub csrf: String,
    /// An error or a notice.
    pub message: Option<String>,
    /// Whether `message` is an error.
    pub error: bool,
    /// Whether OpenID Connect sign-in is offered.
    pub oidc: bool,
}

/// `/console/set-password?token=`.
#[derive(Template)]
#[template(path = "console/set-password.html")]
pub struct SetPasswordPage {
    /// The account's email.
    pub email: String,
    /// The link's token (the form posts it back).
    pub token: String,
    /// What is wrong with the password given.
    pub error: Option<String>,
    /// The shortest password accepted.
    pub min: usize,
}

/// `/console/account`.
#[derive(Template)]
#[template(path = "console/account.html")]
pub struct AccountPage {
    /// Header.
    pub nav: Nav,
    /// What just happened.
    pub notice: Option<&'static str>,
    /// The field at fault (`current`, `password`).
    pub error_field: Option<&'static str>,
    /// What is wrong.
    pub error: Option<String>,
    /// Whether a password is set (OIDC-only accounts have none).
    pub has_password: bool,
    /// The shortest password accepted.
    pub min: usize,
}

impl AccountPage {
    /// The error of `field`, if it is the one at fault.
    pub fn error_of(&self, field: &str) -> Option<&str> {
        (self.error_field == Some(field))
            .then_some(self.error.as_deref())
            .flatten()
    }
}

/// One bar of a chart, in SVG user units.
pub struct Bar {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
    /// Its label (a month, a country, a mentor).
    pub label: String,
    /// Its value.
    pub value: i64,
    /// Where its label is drawn.
    pub label_x: u32,
    /// Where its label is drawn.
    pub label_y: u32,
    /// Whether the label is drawn (months: every third).
    pub show_label: bool,
}

/// A bar chart drawn on the server: columns over time or rows per category, with the
/// same figures as a table.
pub struct Chart {
    /// Element id stem (of its heading and its description, which label the drawing).
    pub id: &'static str,
    /// Heading.
    pub title: &'static str,
    /// One sentence for screen readers: what the chart shows and its largest value.
    pub summary: String,
    /// The table's first column heading.
    pub label_heading: &'static str,
    /// The table's second column heading.
    pub value_heading: &'static str,
    /// Drawing width.
    pub width: u32,
    /// Drawing height.
    pub height: u32,
    /// The bars.
    pub bars: Vec<Bar>,
    /// Columns (over time) rather than rows (per category).
    pub columns: bool,
}

const COLUMNS_HEIGHT: u32 = 180;
const COLUMN_WIDTH: u32 = 24;
const ROW_HEIGHT: u32 = 22;
const ROWS_LABEL: u32 = 170;
const ROWS_WIDTH: u32 = 560;
/// Most rows a category chart draws (the table lists them all).
const MAX_ROWS: usize = 12;

impl Chart {
    /// Columns, one per point, oldest first: closings per month, certified people.
    pub fn columns(
        id: &'static str,
        title: &'static str,
        value_heading: &'static str,
        points: Vec<(String, i64)>,
    ) -> Chart {
        let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
        let plot = COLUMNS_HEIGHT - 24;
        let n = points.len();
        let bars = points
            .into_iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let h = (value.max(0) as u64 * u64::from(plot) / max as u64) as u32;
                let x = i as u32 * COLUMN_WIDTH;
                Bar {
                    x: x + 3,
                    y: plot - h,
                    w: COLUMN_WIDTH - 6,
                    h,
                    label_x: x + COLUMN_WIDTH / 2,
                    label_y: COLUMNS_HEIGHT - 6,
                    show_label: (n - 1 - i) % 3 == 0,
                    label,
                    value,
                }
            })
            .collect::<Vec<_>>();
        let summary = summary(title, &bars);
        Chart {
            id,
            title,
            summary,
            label_heading: "Month",
            value_heading,
            width: (n as u32 * COLUMN_WIDTH).max(COLUMN_WIDTH),
            height: COLUMNS_HEIGHT,
            bars,
            columns: true,
        }
    }

    /// Rows, one per category, largest first: closings by country, per mentor.
    pub fn rows(
        id: &'static str,
        title: &'static str,
        label_heading: &'static str,
        points: Vec<(String, i64)>,
    ) -> Chart {
        let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1);
        let plot = ROWS_WIDTH - ROWS_LABEL - 40;
        let bars = points
            .into_iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let w = (value.max(0) as u64 * u64::from(plot) / max as u64) as u32;
                let y = i as u32 * ROW_HEIGHT;
                Bar {
                    x: ROWS_LABEL,
                    y: y + 3,
                    w,
                    h: ROW_HEIGHT - 6,
                    label_x: ROWS_LABEL - 8,
                    label_y: y + ROW_HEIGHT / 2 + 5,
                    show_label: i < MAX_ROWS,
                    label,
                    value,
                }
            })
            .collect::<Vec<_>>();
        let drawn = bars.len().min(MAX_ROWS) as u32;
        let summary = summary(title, &bars);
        Chart {
            id,
            title,
            summary,
            label_heading,
            value_heading: "Closings",
            width: ROWS_WIDTH,
            height: (drawn * ROW_HEIGHT).max(ROW_HEIGHT),
            bars,
            columns: false,
        }
    }

    /// The bars drawn (a category chart draws the first twelve).
    pub fn drawn(&self) -> &[Bar] {
        if self.columns {
            &self.bars
        } else {
            &self.bars[..self.bars.len().min(MAX_ROWS)]
        }
    }
}

fn summary(title: &str, bars: &[Bar]) -> String {
    match bars.iter().max_by_key(|b| b.value) {
        Some(top) if top.value > 0 => format!(
            "{title}: {} values; the largest is {} ({}). The table below lists every value.",
            bars.len(),
            top.value,
            top.label
        ),
        _ => format!("{title}: no data yet."),
    }
}

/// `/console`: the program's figures.
#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct DashboardPage {
    /// Header.
    pub nav: Nav,
    /// The figures (the same as `GET /api/v1/stats`).
    pub stats: Stats,
    /// The charts.
    pub charts: Vec<Chart>,
}

impl DashboardPage {
    /// The quarters of the partner-fit table.
    pub fn fits(&self) -> &[QuarterFit] {
        &self.stats.partner_fit_by_quarter
    }
}

/// An average as shown: two decimals, or a dash.
pub fn mean(v: &Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

/// A form's values as sent and its errors, each beside its field, in the words of the
/// API's problem `detail`.
#[derive(Default)]
pub struct FormState {
    /// The values sent (or prefilled), by field name.
    pub values: Vec<(String, String)>,
    /// Errors by field name (the API's `field`).
    pub errors: Vec<(String, String)>,
    /// An error of no one field.
    pub general: Option<String>,
}

impl FormState {
    /// The value of `name`, or empty.
    pub fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `name` has the value `v` among its values (selects, checkboxes).
    pub fn is(&self, name: &str, v: &str) -> bool {
        self.values.iter().any(|(k, x)| k == name && x == v)
    }

    /// The error of `name`.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether anything is wrong.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.general.is_some()
    }
}

/// A partner-fit criterion: its key and its label.
pub type Criterion = (&'static str, &'static str);
/// A partner-fit axis: its key, its label and its three criteria.
pub type Axis = (&'static str, &'static str, [Criterion; 3]);

/// The three axes of partner fit and their criteria.
pub const FIT_AXES: [Axis; 3] = [
    (
        "depth",
        "Depth",
        [
            ("locations_and_audiences", "Locations and audiences"),
            (
                "organisational_structures",
                "Existing organisational structures",
            ),
            ("localisation", "Localisation"),
        ],
    ),
    (
        "spread",
        "Spread",
        [
            ("growth_and_leadership", "Growth and leadership potential"),
            ("size", "Size"),
            ("new_access", "New access"),
        ],
    ),
    (
        "participation",
        "Participation",
        [
            ("shares_values", "Shares our values"),
            ("participates_in_community", "Participates in our community"),
            ("reputation", "Reputation"),
        ],
    ),
];

/// One criterion's rating as a page shows it.
pub struct FitRow {
    /// The axis.
    pub axis: &'static str,
    /// The criterion.
    pub criterion: &'static str,
    /// 0–3.
    pub score: u8,
    /// The note, if any.
    pub note: Option<String>,
}

/// A closing's partner fit as rows, axis by axis.
pub fn fit_rows(fit: &crate::db::PartnerFit) -> Vec<FitRow> {
    let d = &fit.depth;
    let s = &fit.spread;
    let p = &fit.participation;
    let ratings = [
        &d.locations_and_audiences,
        &d.organisational_structures,
        &d.localisation,
        &s.growth_and_leadership,
        &s.size,
        &s.new_access,
        &p.shares_values,
        &p.participates_in_community,
        &p.reputation,
    ];
    FIT_AXES
        .iter()
        .flat_map(|(_, axis, criteria)| criteria.iter().map(move |(_, c)| (*axis, *c)))
        .zip(ratings)
        .map(|((axis, criterion), r)| FitRow {
            axis,
            criterion,
            score: r.score,
            note: r.note.clone(),
        })
        .collect()
}

/// A badge as the console lists it.
pub struct BadgeRow {
    /// Credential id.
    pub id: String,
    /// `Partnership Closed`.
    pub name: &'static str,
    /// `valid`, `revoked` or `expired`.
    pub status: &'static str,
    /// Issue date.
    pub issued: String,
    /// Why it was revoked.
    pub reason: Option<String>,
    /// The closing it is for (Closed).
    pub closing_id: Option<String>,
}

impl BadgeRow {
    /// The console's row of a stored credential, its status judged at `now`.
    pub fn of(r: &crate::db::CredentialRecord, now: chrono::DateTime<chrono::Utc>) -> BadgeRow {
        BadgeRow {
            id: r.id.to_string(),
            name: crate::program::achievements::by_slug(&r.achievement).map_or("Badge", |a| a.name),
            status: r.status_at(now),
            issued: r.issued_at.format("%Y-%m-%d").to_string(),
            reason: r.revocation_reason.clone(),
            closing_id: r.closing_id.map(|c| c.to_string()),
        }
    }
}

/// One audit entry on a record's page.
pub struct TrailRow {
    /// When.
    pub at: String,
    /// The staff member or token.
    pub who: String,
    /// Method and route.
    pub action: String,
    /// The status answered.
    pub status: u16,
}

impl TrailRow {
    /// The row of a stored entry.
    pub fn of(r: &crate::db::AuditRecord) -> TrailRow {
        let e = &r.entry;
        let who = match (&e.staff_email, &e.token_name) {
            (Some(s), _) => s.clone(),
            (None, Some(t)) => format!("token {t}"),
            _ => "unknown".into(),
        };
        TrailRow {
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            who,
            action: e.action.clone(),
            status: e.status,
        }
    }
}

/// `/console/people`, `/console/mentors`, `/console/closings`: a page of a list.
#[derive(Template)]
#[template(path = "console/list.html")]
pub struct ListPage {
    /// Header.
    pub nav: Nav,
    /// `People`, `Mentors`, `Closings`.
    pub heading: &'static str,
    /// The list's path.
    pub path: &'static str,
    /// The filters as sent.
    pub filters: FormState,
    /// Which filters the list has: country, dates, badge states (value, label).
    pub country: bool,
    /// Closed-between filters.
    pub dates: bool,
    /// Badge states offered.
    pub badges: Vec<(&'static str, &'static str)>,
    /// Column headings.
    pub columns: Vec<&'static str>,
    /// Rows: the link to the record, then the cells.
    pub rows: Vec<(String, Vec<String>)>,
    /// The next page's URL.
    pub next: Option<String>,
    /// The "new" form's URL, if the staff member may record.
    pub new_url: Option<&'static str>,
    /// An error in the filters.
    pub error: Option<String>,
}

/// A person's page.
#[derive(Template)]
#[template(path = "console/person.html")]
pub struct PersonPage {
    /// Header.
    pub nav: Nav,
    /// The record.
    pub person: crate::db::Person,
    /// Their badges.
    pub badges: Vec<BadgeRow>,
    /// The closings they closed.
    pub closings: Vec<crate::db::Closing>,
    /// Requests about them.
    pub trail: Vec<TrailRow>,
    /// What just happened.
    pub notice: Option<&'static str>,
}

impl PersonPage {
    /// The closing form with this person as the closer.
    pub fn new_closing_url(&self) -> String {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("closer", &self.person.email)
            .finish();
        format!("/console/closings/new?{q}")
    }
}

/// A mentor's page.
#[derive(Template)]
#[template(path = "console/mentor.html")]
pub struct MentorPage {
    /// Header.
    pub nav: Nav,
    /// The record.
    pub mentor: crate::db::Mentor,
    /// The closings they were CC'd on (the latest 50).
    pub closings: Vec<crate::db::Closing>,
    /// Requests about them.
    pub trail: Vec<TrailRow>,
    /// What just happened.
    pub notice: Option<&'static str>,
}

/// A closing's page.
#[derive(Template)]
#[template(path = "console/closing.html")]
pub struct ClosingPage {
    /// Header.
    pub nav: Nav,
    /// The record.
    pub closing: crate::db::Closing,
    /// Its closer.
    pub closer: crate::db::Person,
    /// Its mentor.
    pub mentor: crate::db::Mentor,
    /// The badges awarded for it.
    pub badges: Vec<BadgeRow>,
    /// Its partner fit, criterion by criterion.
    pub fit: Vec<FitRow>,
    /// Whether it has an unrevoked Partnership Closed (no second one can be awarded).
    pub has_closed: bool,
    /// Requests about it.
    pub trail: Vec<TrailRow>,
    /// What just happened.
    pub notice: Option<&'static str>,
}

/// The forms that record a mentor, a person, a closing, or a closing's partner fit.
#[derive(Template)]
#[template(path = "console/record-form.html")]
pub struct RecordFormPage {
    /// Header.
    pub nav: Nav,
    /// `mentor`, `person`, `closing` or `fit`.
    pub kind: &'static str,
    /// Heading.
    pub heading: String,
    /// Where it posts.
    pub action: String,
    /// Values and errors.
    pub form: FormState,
    /// Where "Cancel" goes.
    pub back: String,
}

impl RecordFormPage {
    /// The axes and criteria of partner fit.
    pub fn axes(&self) -> &'static [Axis] {
        &FIT_AXES
    }

    /// Whether the form has the partner-fit fields.
    pub fn with_fit(&self) -> bool {
        self.kind == "closing" || self.kind == "fit"
    }
}

/// What a badge will say, shown before it is signed.
#[derive(Template)]
#[template(path = "console/award.html")]
pub struct AwardPage {
    /// Header.
    pub nav: Nav,
    /// `Award Partnership Closed`.
    pub heading: String,
    /// Where the form posts.
    pub action: String,
    /// The form's idempotency key: a double submit issues once.
    pub idempotency_key: String,
    /// The badge's name.
    pub badge: &'static str,
    /// What it recognises.
    pub description: &'static str,
    /// Its criteria.
    pub criteria: &'static str,
    /// The recipient's name.
    pub recipient: String,
    /// The issuer's name.
    pub issuer: String,
    /// Evidence: name and description.
    pub evidence: Vec<(String, String)>,
    /// Where "Cancel" goes.
    pub back: String,
    /// Why it cannot be awarded, if a rule says so (then no button).
    pub refused: Option<String>,
}

/// Revoking a badge: the reason, then confirmation.
#[derive(Template)]
#[template(path = "console/revoke.html")]
pub struct RevokePage {
    /// Header.
    pub nav: Nav,
    /// The badge.
    pub badge: BadgeRow,
    /// Its holder.
    pub holder: String,
    /// Where the form posts.
    pub action: String,
    /// Values and errors.
    pub form: FormState,
    /// Where "Cancel" goes.
    pub back: String,
    /// The reason is given: this is the confirmation step.
    pub confirming: bool,
}

/// A token as the tokens page lists it (never its secret).
pub struct TokenRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes, comma-separated.
    pub scopes: String,
    /// `pb_<id>_`, to match a token someone holds.
    pub prefix: String,
    /// `active`, `revoked` or `expired`.
    pub status: &'static str,
    /// Created.
    pub created: String,
    /// Expires, if it does.
    pub expires: String,
}

impl TokenRow {
    /// The row of a stored token, its status at `now`.
    pub fn of(t: &crate::db::ApiToken, now: chrono::DateTime<chrono::Utc>) -> TokenRow {
        let status = match crate::tokens::usable_at(t, now) {
            Ok(()) => "active",
            Err(_) if t.revoked_at.is_some() => "revoked",
            Err(_) => "expired",
        };
        TokenRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            scopes: t.scopes.to_string(),
            prefix: t
                .public_id
                .as_ref()
                .map(|p| format!("pb_{p}_"))
                .unwrap_or_default(),
            status,
            created: t.created_at.format("%Y-%m-%d").to_string(),
            expires: t
                .expires_at
                .map_or_else(|| "never".into(), |e| e.format("%Y-%m-%d").to_string()),
        }
    }
}

/// `/console/tokens`: the API tokens, the form that makes one, the secret once.
#[derive(Template)]
#[template(path = "console/tokens.html")]
pub struct TokensPage {
    /// Header.
    pub nav: Nav,
    /// Every token.
    pub tokens: Vec<TokenRow>,
    /// The create form's values and errors.
    pub form: FormState,
    /// A token just made: its name and the secret, shown this once.
    pub created: Option<(String, String)>,
    /// What just happened.
    pub notice: Option<&'static str>,
}

/// `/console/audit`: the audit log, filtered and paged.
#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    /// Header.
    pub nav: Nav,
    /// The filters as sent.
    pub filters: FormState,
    /// The entries.
    pub rows: Vec<AuditRow>,
    /// The next page's URL.
    pub next: Option<String>,
    /// An error in the filters.
    pub error: Option<String>,
}

/// One audit entry on the audit page.
pub struct AuditRow {
    /// The entry.
    pub trail: TrailRow,
    /// The id in the path.
    pub target: String,
    /// The request id.
    pub request_id: String,
}

/// `/console/import`: the upload form, the file's check, the progress, the report.
#[derive(Template)]
#[template(path = "console/import.html")]
pub struct ImportPage {
    /// Header.
    pub nav: Nav,
    /// `upload`, `check`, `running` or `done`.
    pub stage: &'static str,
    /// The kind chosen (`mentors`, `people`, `closings`).
    pub kind: String,
    /// The job's id (after the upload).
    pub job: String,
    /// The file's name.
    pub file: String,
    /// The file's check.
    pub check: crate::import::Check,
    /// Rows in the file.
    pub total: u64,
    /// Rows done.
    pub done: u64,
    /// Rows failed so far.
    pub failed: u64,
    /// The finished import's figures: created, existing.
    pub created: u64,
    /// Rows already stored.
    pub existing: u64,
    /// Bad rows: line and reason.
    pub bad_rows: Vec<(u64, String)>,
    /// What went wrong (an upload refused, an import stopped).
    pub error: Option<String>,
}
