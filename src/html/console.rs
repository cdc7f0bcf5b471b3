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
    /// Element id (the data table's `aria-describedby` target).
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

    /// The bars drawn (a category chart draws the first [`MAX_ROWS`]).
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
