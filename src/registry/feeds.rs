//! The registry's documents: the `/registry.json` page (its schema is `registry.schema.json`
//! beside this file), JSON Feed 1.1 and Atom. Pure functions of entries; no I/O.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Entry, Page};
use crate::program::format_time;

/// Title shared by the feeds and pages.
pub const TITLE: &str = "Partnership Certified registry";
/// One-line description shared by the feeds and pages.
pub const DESCRIPTION: &str = "People who hold a valid Partnership Certified badge and \
    agreed to be listed: community members certified to lead partnerships with local \
    organisations.";

/// The `/registry.json` body. `next` is the absolute URL of the next page, if any.
pub fn registry_json(base: &str, page: &Page, next: Option<String>) -> String {
    json!({
        "$schema": format!("{base}/registry.schema.json"),
        "title": TITLE,
        "home_page_url": format!("{base}/registry"),
        "items": page.entries,
        "next_cursor": page.next_cursor,
        "next": next,
    })
    .to_string()
}

fn place(e: &Entry) -> Option<String> {
    let parts: Vec<&str> = [e.city.as_deref(), e.country.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A sentence about an entry, for feed readers.
pub fn summary(e: &Entry) -> String {
    let mut s = e.name.clone();
    if let Some(p) = place(e) {
        s.push_str(&format!(" ({p})"));
    }
    s.push_str(&format!(
        " is partnership certified since {} and has {} closed partnership{} on record.",
        &e.certified_since[..10],
        e.partnerships_closed,
        if e.partnerships_closed == 1 { "" } else { "s" }
    ));
    s
}

/// JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), entries newest certification first.
pub fn json_feed(base: &str, entries: &[Entry]) -> String {
    let items: Vec<_> = entries
        .iter()
        .map(|e| {
            let mut item = json!({
                "id": e.badge_url,
                "url": e.badge_url,
                "title": format!("{} — Partnership Certified", e.name),
                "content_text": summary(e),
                "date_published": e.certified_at,
                "authors": [{"name": e.name}],
            });
            if let Some(u) = &e.profile_url {
                item["external_url"] = json!(u);
                item["authors"][0]["url"] = json!(u);
            }
            item
        })
        .collect();
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": TITLE,
        "description": DESCRIPTION,
        "home_page_url": format!("{base}/registry"),
        "feed_url": format!("{base}/registry/feed.json"),
        "language": "en",
        "items": items,
    })
    .to_string()
}

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// An Atom feed (RFC 4287), entries newest certification first; `updated` is when the
/// registry last changed.
pub fn atom(base: &str, entries: &[Entry], updated: DateTime<Utc>) -> String {
    let x = xml_escape;
    let mut out = String::with_capacity(512 + entries.len() * 600);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n");
    out.push_str(&format!(
        "  <id>{}</id>\n",
        x(&format!("{base}/registry/atom.xml"))
    ));
    out.push_str(&format!("  <title>{}</title>\n", x(TITLE)));
    out.push_str(&format!("  <subtitle>{}</subtitle>\n", x(DESCRIPTION)));
    out.push_str(&format!("  <updated>{}</updated>\n", format_time(updated)));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        x(&format!("{base}/registry/atom.xml"))
    ));
    out.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        x(&format!("{base}/registry"))
    ));
    out.push_str(&format!(
        "  <author><name>{}</name><uri>{}</uri></author>\n",
        x(TITLE),
        x(base)
    ));
    for e in entries {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{}</id>\n", x(&e.badge_url)));
        out.push_str(&format!(
            "    <title>{}</title>\n",
            x(&format!("{} — Partnership Certified", e.name))
        ));
        out.push_str(&format!("    <published>{}</published>\n", e.certified_at));
        out.push_str(&format!("    <updated>{}</updated>\n", e.certified_at));
        out.push_str(&format!(
            "    <link rel=\"alternate\" href=\"{}\"/>\n",
            x(&e.badge_url)
        ));
        out.push_str(&format!("    <author><name>{}</name>", x(&e.name)));
        if let Some(u) = &e.profile_url {
            out.push_str(&format!("<uri>{}</uri>", x(u)));
        }
        out.push_str("</author>\n");
        out.push_str(&format!(
            "    <summary type=\"text\">{}</summary>\n",
            x(&summary(e))
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            xml_escape("<img src=x onerror=\"a('1')\"> & \u{1}"),
            "&lt;img src=x onerror=&quot;a(&apos;1&apos;)&quot;&gt; &amp; "
        );
    }
}
