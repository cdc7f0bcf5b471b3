//! Dates and times as pages show them: machine-readable for `<time datetime>`, and for
//! people.

use chrono::{DateTime, NaiveDate, Utc};

/// A date or time for display: machine-readable for `<time datetime>`, and for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// ISO 8601 (`2026-10-02` or `2026-10-02T09:30:00Z`).
    pub iso: String,
    /// `2 October 2026` or `2 October 2026, 09:30 UTC`.
    pub human: String,
}

impl When {
    /// A day.
    pub fn date(d: NaiveDate) -> When {
        When {
            iso: d.format("%Y-%m-%d").to_string(),
            human: d.format("%-d %B %Y").to_string(),
        }
    }

    /// The day of an instant (UTC).
    pub fn day_of(t: DateTime<Utc>) -> When {
        When {
            iso: crate::program::format_time(t),
            human: t.format("%-d %B %Y").to_string(),
        }
    }

    /// An instant, to the minute (UTC).
    pub fn time(t: DateTime<Utc>) -> When {
        When {
            iso: crate::program::format_time(t),
            human: t.format("%-d %B %Y, %H:%M UTC").to_string(),
        }
    }
}
