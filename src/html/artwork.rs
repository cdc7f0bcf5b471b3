//! Static assets and the badge artwork: the two achievements' SVGs, their descriptions for
//! `alt` text, and their PNG renderings (drawn once per process).

use std::sync::OnceLock;

use crate::credential::baking;
use crate::error::AppError;
use crate::program::{CERTIFIED, CLOSED};

/// Edge, in pixels, of the PNG rendering of the badge artwork.
pub const BADGE_PNG_SIZE: u32 = 600;

/// A static asset by file name: `(media type, bytes)`.
pub fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    Some(match name {
        "style.css" => (
            "text/css; charset=utf-8",
            include_bytes!("assets/style.css"),
        ),
        "badge.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("assets/badge.js"),
        ),
        "import.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("assets/import.js"),
        ),
        "partnership-closed.svg" => ("image/svg+xml", CLOSED_SVG.as_bytes()),
        "partnership-certified.svg" => ("image/svg+xml", CERTIFIED_SVG.as_bytes()),
        _ => return None,
    })
}

const CLOSED_SVG: &str = include_str!("assets/partnership-closed.svg");
const CERTIFIED_SVG: &str = include_str!("assets/partnership-certified.svg");

/// The artwork (SVG source) of an achievement, by slug.
pub fn artwork_svg(slug: &str) -> Option<&'static str> {
    match slug {
        CLOSED => Some(CLOSED_SVG),
        CERTIFIED => Some(CERTIFIED_SVG),
        _ => None,
    }
}

/// A text description of an achievement's artwork (its SVG `<desc>`), for `alt` text.
pub fn artwork_description(slug: &str) -> &'static str {
    artwork_svg(slug)
        .and_then(|svg| svg.split_once("<desc>"))
        .and_then(|(_, rest)| rest.split_once("</desc>"))
        .map(|(desc, _)| desc.trim())
        .unwrap_or("")
}

/// The artwork of an achievement rendered to a [`BADGE_PNG_SIZE`] PNG: drawn once per
/// process and slug, then shared (baking copies it and adds one chunk).
pub fn artwork_png(slug: &str) -> Option<Result<&'static [u8], AppError>> {
    static CLOSED_PNG: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    static CERTIFIED_PNG: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let cell = match slug {
        CLOSED => &CLOSED_PNG,
        CERTIFIED => &CERTIFIED_PNG,
        _ => return None,
    };
    let svg = artwork_svg(slug)?;
    let png = cell.get_or_init(|| {
        baking::render_png(svg, BADGE_PNG_SIZE).map_err(|e| format!("rendering {slug}: {e}"))
    });
    Some(match png {
        Ok(bytes) => Ok(bytes.as_slice()),
        Err(e) => Err(AppError::Internal(anyhow::anyhow!("{e}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artwork_renders_once_and_has_descriptions() {
        let a = artwork_png(CLOSED).unwrap().unwrap();
        let b = artwork_png(CLOSED).unwrap().unwrap();
        assert!(std::ptr::eq(a, b));
        assert!(a.starts_with(b"\x89PNG"));
        assert!(artwork_png("nope").is_none());
        assert!(artwork_description(CERTIFIED).contains("gold seal"));
    }
}
