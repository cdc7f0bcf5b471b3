//! The registry's HTML: the searchable page (`/registry`) on the shared layout, the
//! iframe-able embed page (`/registry/embed`), and the static embed script and stylesheet.
//! Templates are `registry.html` and `registry-embed.html` under `src/html/templates/`.

use askama::Template;
use chrono::DateTime;

use super::feeds::DESCRIPTION;
use super::{Entry, Page};
use crate::error::{AppError, AppResult};

/// `/embed.js`: the dependency-free embed script.
pub const EMBED_JS: &str = include_str!("../html/assets/embed.js");
/// `/registry/embed.css`: the registry page's additions and the embed page's style.
pub const EMBED_CSS: &str = include_str!("../html/assets/registry.css");

/// One entry as the pages show it.
#[derive(Debug, Clone)]
pub struct EntryView {
    /// Name.
    pub name: String,
    /// Badge page URL.
    pub badge_url: String,
    /// "City, Country" (may be empty).
    pub place: String,
    /// Certified since, machine-readable.
    pub since_iso: String,
    /// Certified since, for people.
    pub since_human: String,
    /// "3 partnerships closed".
    pub closed: String,
    /// Profile URL.
    pub profile_url: Option<String>,
}

impl EntryView {
    fn new(e: &Entry) -> Self {
        let place = [e.city.as_deref(), e.country.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        let since_human = DateTime::parse_from_rfc3339(&e.certified_since)
            .map(|t| t.format("%-d %B %Y").to_string())
            .unwrap_or_else(|_| e.certified_since.clone());
        EntryView {
            name: e.name.clone(),
            badge_url: e.badge_url.clone(),
            place,
            since_iso: e.certified_since.clone(),
            since_human,
            closed: format!(
                "{} partnership{} closed",
                e.partnerships_closed,
                if e.partnerships_closed == 1 { "" } else { "s" }
            ),
            profile_url: e.profile_url.clone(),
        }
    }
}

/// `/registry`.
#[derive(Template)]
#[template(path = "registry.html")]
pub struct RegistryPage {
    /// What the registry is.
    pub description: &'static str,
    /// The name-prefix search, as typed.
    pub prefix: String,
    /// The country search, as typed.
    pub country: String,
    /// Heading over the results.
    pub heading: String,
    /// Entries.
    pub entries: Vec<EntryView>,
    /// Link to the first page (when not on it).
    pub first: Option<String>,
    /// Link to the next page.
    pub next: Option<String>,
    /// Site-relative base for the embed snippet (empty: same site).
    pub base: String,
}

/// `/registry/embed`.
#[derive(Template)]
#[template(path = "registry-embed.html")]
pub struct EmbedPage {
    /// Entries.
    pub entries: Vec<EntryView>,
    /// Dark theme.
    pub dark: bool,
    /// Absolute link to the full registry page.
    pub more: String,
}

fn render<T: Template>(t: &T) -> AppResult<String> {
    t.render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a registry page: {e}")))
}

/// Renders `/registry`.
pub fn registry_page(
    page: &Page,
    prefix: Option<&str>,
    country: Option<&str>,
    next: Option<String>,
    first: Option<String>,
    base: &str,
) -> AppResult<String> {
    let heading = match (prefix, country) {
        (None, None) => "Everyone listed".to_owned(),
        (Some(p), None) => format!("Names starting with “{p}”"),
        (None, Some(c)) => format!("In {c}"),
        (Some(p), Some(c)) => format!("Names starting with “{p}” in {c}"),
    };
    render(&RegistryPage {
        description: DESCRIPTION,
        prefix: prefix.unwrap_or_default().to_owned(),
        country: country.unwrap_or_default().to_owned(),
        heading,
        entries: page.entries.iter().map(EntryView::new).collect(),
        first,
        next,
        base: base.to_owned(),
    })
}

/// Renders `/registry/embed`.
pub fn embed_page(page: &Page, dark: bool, more: String) -> AppResult<String> {
    render(&EmbedPage {
        entries: page.entries.iter().map(EntryView::new).collect(),
        dark,
        more,
    })
}
