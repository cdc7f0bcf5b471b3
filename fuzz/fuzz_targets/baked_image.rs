//! Baked images: arbitrary bytes as an uploaded file (`verify::file_input`, which sniffs PNG,
//! SVG or JSON, as `POST /verify` without a media type and `verify FILE` do), as an
//! `image/png` or `image/svg+xml` body (`verify::extract_image`), and straight into the PNG and
//! SVG extractors of `credential::baking`.
//!
//! Beyond "never panics, a 4xx for bad input": whenever the input is an image the extractors
//! accept, baking a payload into it and extracting again must give that payload back, both
//! for a fixed awkward payload and for the one the image already carried. The input, read as
//! text, is also baked as a payload into a small fixed PNG and SVG and must come back whole.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use partnership_badges::credential::baking::{self, PNG_KEYWORD_OB2, PNG_KEYWORD_OB3};
use partnership_badges::verify;
use partnership_badges_fuzz::assert_client_error;

/// A payload with everything baking must escape or split: a CDATA end, markup, entities.
const AWKWARD: &str = "{\"name\":\"]]> <svg> &amp; ]]]]> \u{e9}\u{2028}\"}";

/// Small artwork to bake arbitrary payloads into.
const SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>"#;

fn png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| baking::render_png(SVG, 8).expect("the fixed artwork renders"))
}

/// Bakes `payload` into `png` and checks it comes back out.
fn png_round_trip(png: &[u8], keyword: &str, payload: &str) {
    if let Ok(baked) = baking::bake_png(png, keyword, payload) {
        let found = baking::extract_png(&baked).expect("a baked PNG reads back");
        let (found_keyword, text) = found.expect("a baked PNG has a payload");
        // An OB 3.0 chunk wins over an OB 2.0 one the image may still carry.
        if keyword == PNG_KEYWORD_OB3 || found_keyword == PNG_KEYWORD_OB2 {
            assert_eq!((found_keyword.as_str(), text.as_str()), (keyword, payload));
        }
    }
}

/// Bakes `payload` into `svg` and checks it comes back out (trimmed, as extraction reads it).
fn svg_round_trip(svg: &str, payload: &str) {
    if payload.trim().is_empty() {
        return;
    }
    if let Ok(baked) = baking::bake_svg(svg, payload) {
        let found = baking::extract_svg(&baked)
            .unwrap_or_else(|e| panic!("a baked SVG reads back, but: {e}\n{baked}"));
        assert_eq!(found.as_deref(), Some(payload.trim()), "baked: {baked}");
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = verify::sniff(data);
    if let Err(e) = verify::file_input(data) {
        assert_client_error(&e);
    }
    if let Err(e) = verify::extract_image(data) {
        assert_client_error(&e);
    }

    if let Ok(found) = baking::extract_png(data) {
        png_round_trip(data, PNG_KEYWORD_OB3, AWKWARD);
        if let Some((keyword, text)) = found {
            assert!(text.len() <= baking::MAX_PAYLOAD_BYTES);
            png_round_trip(data, &keyword, &text);
        }
    }
    if let Ok(svg) = std::str::from_utf8(data) {
        if let Ok(found) = baking::extract_svg(svg) {
            svg_round_trip(svg, AWKWARD);
            if let Some(text) = found {
                assert!(text.len() <= baking::MAX_PAYLOAD_BYTES);
                svg_round_trip(svg, &text);
            }
        }
    }

    let payload = String::from_utf8_lossy(data);
    png_round_trip(png(), PNG_KEYWORD_OB3, &payload);
    svg_round_trip(SVG, &payload);
});
