//! Badge baking: render badge artwork to PNG, embed ("bake") a credential into a PNG or SVG
//! image, and read it back out.
//!
//! A baked image carries its own credential, so a badge saved from a page or dropped into a
//! backpack still verifies. The formats are the Open Badges baking rules:
//!
//! - **PNG**: one uncompressed `iTXt` chunk with keyword `openbadgecredential` (OB 3.0) or
//!   `openbadges` (OB 2.0), empty language tag and translated keyword, and the credential JSON
//!   (or a compact JWS) as its text. It goes right after `IHDR`, as the reference bakery puts
//!   it; every other chunk is copied byte for byte, so the image is never re-encoded.
//! - **SVG**: the root `<svg>` declares `xmlns:openbadges` and its first child is
//!   `<openbadges:credential>` (OB 3.0, namespace `https://purl.imsglobal.org/ob/v3p0`) or
//!   `<openbadges:assertion verify="…">` (OB 2.0, namespace `http://openbadges.org`), with the
//!   JSON in CDATA. Reading one, the element is known by its namespace, as any XML reader
//!   knows it, not by its prefix: `<ob:credential>` with `ob` bound to the OB 3.0 namespace
//!   is baked; `<openbadges:credential>` with `openbadges` bound elsewhere, or not at all, is
//!   not.
//!
//! Everything here is pure: bytes and strings in, bytes and strings out. Rendering reads no
//! fonts and draws no `<text>`: the program's own artwork has its lettering as outlines, so it
//! renders the same on every machine.
//!
//! Images handed to the extractors may be hostile (uploaded for verification): every length,
//! CRC and bound is checked, the work is linear in the input, the payload is capped at
//! [`MAX_PAYLOAD_BYTES`], and nothing panics.

mod error;
mod png;
mod render;
mod svg;

pub use error::{BakeError, MAX_PAYLOAD_BYTES, MAX_RENDER_SIZE, PNG_KEYWORD_OB2, PNG_KEYWORD_OB3};
pub use png::{bake_png, extract_png};
pub use render::render_png;
pub use svg::{bake_svg, bake_svg_ob2, extract_svg, SVG_NAMESPACE_OB2, SVG_NAMESPACE_OB3};

#[cfg(test)]
mod tests {
    use super::error::MAX_PNG_CHUNKS;
    use super::png::*;
    use super::render::*;
    use super::svg::*;
    use super::*;

    const CLOSED_SVG: &str = include_str!("../../html/assets/partnership-closed.svg");
    const CERTIFIED_SVG: &str = include_str!("../../html/assets/partnership-certified.svg");
    const CREDENTIAL: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","OpenBadgeCredential"],"name":"Partnership Closed — ✓"}"#;

    fn small_png() -> Vec<u8> {
        render_png(CLOSED_SVG, 16).unwrap()
    }

    /// (type, data) of every chunk, via an independent minimal walk.
    fn chunk_list(png: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 8;
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = String::from_utf8(png[at + 4..at + 8].to_vec()).unwrap();
            out.push((kind, png[at + 8..at + 8 + len].to_vec()));
            at += 12 + len;
        }
        out
    }

    /// A PNG of the given chunks, CRCs computed.
    fn png_of(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut out = PNG_SIGNATURE.to_vec();
        for (kind, data) in chunks {
            write_chunk(&mut out, **kind, data);
        }
        out
    }

    fn ihdr() -> Vec<u8> {
        let png = small_png();
        png[16..29].to_vec()
    }

    #[test]
    fn crc_matches_the_png_spec() {
        // Every PNG ends with IEND and this CRC.
        assert_eq!(crc32(*b"IEND", &[]), 0xAE42_6082);
    }

    #[test]
    fn renders_both_badges_at_the_requested_size() {
        for svg in [CLOSED_SVG, CERTIFIED_SVG] {
            let png = render_png(svg, 64).unwrap();
            let chunks = chunk_list(&png);
            assert_eq!(chunks[0].0, "IHDR");
            assert_eq!(chunks[0].1[..8], [0, 0, 0, 64, 0, 0, 0, 64]);
            assert_eq!(extract_png(&png).unwrap(), None);
        }
    }

    #[test]
    fn artwork_is_small_and_needs_no_fonts() {
        for svg in [CLOSED_SVG, CERTIFIED_SVG] {
            assert!(svg.len() < 15 * 1024);
            assert!(!svg.contains("<text"), "lettering must be outlines");
            assert!(svg.contains("<title"));
        }
    }

    #[test]
    fn render_rejects_bad_sizes_and_bad_svg() {
        assert!(matches!(
            render_png(CLOSED_SVG, 0),
            Err(BakeError::InvalidSize(0))
        ));
        assert!(matches!(
            render_png(CLOSED_SVG, MAX_RENDER_SIZE + 1),
            Err(BakeError::InvalidSize(_))
        ));
        assert!(matches!(
            render_png("<svg", 16),
            Err(BakeError::SvgParse(_))
        ));
    }

    #[test]
    fn png_round_trip_both_versions() {
        let png = small_png();
        for keyword in [PNG_KEYWORD_OB3, PNG_KEYWORD_OB2] {
            let baked = bake_png(&png, keyword, CREDENTIAL).unwrap();
            assert_eq!(
                extract_png(&baked).unwrap(),
                Some((keyword.to_owned(), CREDENTIAL.to_owned()))
            );
        }
    }

    #[test]
    fn png_chunk_has_the_standard_itxt_layout_right_after_ihdr() {
        let png = small_png();
        let baked = bake_png(&png, PNG_KEYWORD_OB2, "{}").unwrap();
        // What the reference bakery writes and its unbake reads:
        // "openbadges" 00 | flag 00 | method 00 | language "" 00 | translated "" 00 | text.
        let chunks = chunk_list(&baked);
        assert_eq!(chunks[1].0, "iTXt");
        assert_eq!(chunks[1].1, b"openbadges\0\0\0\0\0{}");
        let at = 8 + 25; // signature + IHDR chunk
        assert_eq!(baked[at..at + 4], [0, 0, 0, 17]);
        let stored = u32::from_be_bytes(baked[at + 25..at + 29].try_into().unwrap());
        assert_eq!(stored, crc32(*b"iTXt", b"openbadges\0\0\0\0\0{}"));
        // Everything else is the original image, byte for byte.
        let mut unbaked = baked[..at].to_vec();
        unbaked.extend_from_slice(&baked[at + 29..]);
        assert_eq!(unbaked, png);
    }

    #[test]
    fn png_rebaking_replaces_and_keeps_the_other_version() {
        let png = small_png();
        let once = bake_png(&png, PNG_KEYWORD_OB3, "first").unwrap();
        let both = bake_png(&once, PNG_KEYWORD_OB2, "ob2").unwrap();
        let twice = bake_png(&both, PNG_KEYWORD_OB3, "second").unwrap();
        let texts: Vec<_> = chunk_list(&twice)
            .into_iter()
            .filter(|(kind, _)| kind == "iTXt")
            .collect();
        assert_eq!(texts.len(), 2);
        assert_eq!(
            extract_png(&twice).unwrap(),
            Some((PNG_KEYWORD_OB3.to_owned(), "second".to_owned()))
        );
        // A legacy tEXt with the same keyword is replaced too.
        let ihdr = ihdr();
        let legacy = png_of(&[
            (b"IHDR", &ihdr),
            (b"tEXt", b"openbadges\0https://example.org/a/1"),
            (b"IEND", &[]),
        ]);
        assert_eq!(
            extract_png(&legacy).unwrap(),
            Some((
                "openbadges".to_owned(),
                "https://example.org/a/1".to_owned()
            ))
        );
        let rebaked = bake_png(&legacy, PNG_KEYWORD_OB2, "{}").unwrap();
        assert_eq!(chunk_list(&rebaked).len(), 3);
    }

    #[test]
    fn png_bake_rejects_bad_arguments() {
        let png = small_png();
        assert!(matches!(
            bake_png(&png, "openbadge", "{}"),
            Err(BakeError::UnknownKeyword(_))
        ));
        assert!(matches!(
            bake_png(&png, PNG_KEYWORD_OB3, ""),
            Err(BakeError::InvalidPayload(_))
        ));
        assert!(matches!(
            bake_png(&png, PNG_KEYWORD_OB3, "a\0b"),
            Err(BakeError::InvalidPayload(_))
        ));
        let big = "x".repeat(MAX_PAYLOAD_BYTES + 1);
        assert!(matches!(
            bake_png(&png, PNG_KEYWORD_OB3, &big),
            Err(BakeError::PayloadTooLarge(_))
        ));
        assert!(matches!(
            bake_png(b"GIF89a", PNG_KEYWORD_OB3, "{}"),
            Err(BakeError::NotPng)
        ));
    }

    #[test]
    fn png_truncations_and_bit_flips_are_errors_not_panics() {
        let baked = bake_png(&small_png(), PNG_KEYWORD_OB3, CREDENTIAL).unwrap();
        for len in 0..baked.len() {
            assert!(extract_png(&baked[..len]).is_err(), "truncated to {len}");
        }
        for at in 0..baked.len() {
            let mut bad = baked.clone();
            bad[at] ^= 0x10;
            assert!(extract_png(&bad).is_err(), "flipped byte {at}");
            assert!(bake_png(&bad, PNG_KEYWORD_OB3, "{}").is_err());
        }
    }

    #[test]
    fn png_hostile_structures_are_rejected() {
        let ihdr = ihdr();
        // A length far past the end of the file.
        let mut huge = png_of(&[(b"IHDR", &ihdr)]);
        huge.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, b'i', b'T', b'X', b't']);
        assert!(matches!(
            extract_png(&huge),
            Err(BakeError::MalformedPng { .. })
        ));
        let mut too_long = png_of(&[(b"IHDR", &ihdr)]);
        too_long.extend_from_slice(&[0xff, 0xff, 0xff, 0xf0, b'I', b'D', b'A', b'T']);
        assert!(matches!(
            extract_png(&too_long),
            Err(BakeError::MalformedPng { .. })
        ));
        // IHDR missing or not first, IEND missing, trailing data.
        assert!(extract_png(&png_of(&[(b"IEND", &[])])).is_err());
        assert!(extract_png(&png_of(&[
            (b"tEXt", b"a\0b"),
            (b"IHDR", &ihdr),
            (b"IEND", &[])
        ]))
        .is_err());
        assert!(extract_png(&png_of(&[(b"IHDR", &ihdr)])).is_err());
        let mut trailing = png_of(&[(b"IHDR", &ihdr), (b"IEND", &[])]);
        trailing.push(0);
        assert!(extract_png(&trailing).is_err());
        // Bad chunk type bytes.
        assert!(extract_png(&png_of(&[(b"IHDR", &ihdr), (b"I1ND", &[])])).is_err());
        // Too many chunks.
        let mut many = png_of(&[(b"IHDR", &ihdr)]);
        for _ in 0..MAX_PNG_CHUNKS {
            write_chunk(&mut many, *b"teSt", &[]);
        }
        write_chunk(&mut many, *b"IEND", &[]);
        assert!(matches!(extract_png(&many), Err(BakeError::TooManyChunks)));
    }

    #[test]
    fn png_bad_badge_chunks_are_rejected() {
        let ihdr = ihdr();
        let with = |data: &[u8]| png_of(&[(b"IHDR", &ihdr), (b"iTXt", data), (b"IEND", &[])]);
        let compressed = with(b"openbadgecredential\0\x01\x00\0\0x\x9c");
        assert!(matches!(
            extract_png(&compressed),
            Err(BakeError::MalformedTextChunk { .. })
        ));
        assert!(extract_png(&with(b"openbadgecredential\0\0\0")).is_err());
        assert!(extract_png(&with(b"openbadgecredential\0\0\0\0\0\xff\xfe")).is_err());
        let mut big = b"openbadgecredential\0\0\0\0\0".to_vec();
        big.resize(big.len() + MAX_PAYLOAD_BYTES + 1, b'x');
        assert!(matches!(
            extract_png(&with(&big)),
            Err(BakeError::PayloadTooLarge(_))
        ));
        // Other iTXt chunks are not ours.
        let other = with(b"Comment\0\0\0\0\0hello");
        assert_eq!(extract_png(&other).unwrap(), None);
    }

    #[test]
    fn svg_round_trip_both_versions() {
        let baked = bake_svg(CERTIFIED_SVG, CREDENTIAL).unwrap();
        assert_eq!(extract_svg(&baked).unwrap().as_deref(), Some(CREDENTIAL));
        assert_eq!(extract_svg(CERTIFIED_SVG).unwrap(), None);

        let url = "https://badges.example.org/ob2/assertions/1?a=1&b=2";
        let baked2 = bake_svg_ob2(CLOSED_SVG, url, CREDENTIAL).unwrap();
        assert!(
            baked2.contains("verify=\"https://badges.example.org/ob2/assertions/1?a=1&amp;b=2\"")
        );
        assert_eq!(extract_svg(&baked2).unwrap().as_deref(), Some(CREDENTIAL));
        let url_only = bake_svg_ob2(CLOSED_SVG, url, "").unwrap();
        assert_eq!(extract_svg(&url_only).unwrap().as_deref(), Some(url));
    }

    #[test]
    fn svg_is_namespace_correct_and_still_renders() {
        for (baked, namespace, local) in [
            (
                bake_svg(CLOSED_SVG, CREDENTIAL).unwrap(),
                SVG_NAMESPACE_OB3,
                "credential",
            ),
            (
                bake_svg_ob2(CLOSED_SVG, "https://e.org/a", CREDENTIAL).unwrap(),
                SVG_NAMESPACE_OB2,
                "assertion",
            ),
        ] {
            // What a namespace-aware reader (the 1EdTech validator's) sees.
            let doc = roxmltree::Document::parse(&baked).unwrap();
            let first = doc.root_element().first_element_child().unwrap();
            assert_eq!(first.tag_name().namespace(), Some(namespace));
            assert_eq!(first.tag_name().name(), local);
            assert_eq!(first.text(), Some(CREDENTIAL));
            assert!(render_png(&baked, 16).is_ok());
        }
    }

    #[test]
    fn svg_payload_with_cdata_end_is_split_safely() {
        let payload = r#"{"note":"a ]]> b ]]]]> c ]]>"}"#;
        let baked = bake_svg(CLOSED_SVG, payload).unwrap();
        assert_eq!(extract_svg(&baked).unwrap().as_deref(), Some(payload));
        let doc = roxmltree::Document::parse(&baked).unwrap();
        let element = doc.root_element().first_element_child().unwrap();
        let text: String = element.children().filter_map(|n| n.text()).collect();
        assert_eq!(text, payload);
    }

    #[test]
    fn svg_rebaking_replaces() {
        let once = bake_svg_ob2(CLOSED_SVG, "https://e.org/a", "{\"v\":2}").unwrap();
        let twice = bake_svg(&once, "{\"v\":3}").unwrap();
        let thrice = bake_svg(&twice, "{\"v\":4}").unwrap();
        assert_eq!(thrice.matches("<openbadges:").count(), 1);
        assert_eq!(thrice.matches("xmlns:openbadges=").count(), 1);
        assert!(thrice.contains(&format!("xmlns:openbadges=\"{SVG_NAMESPACE_OB3}\"")));
        assert_eq!(extract_svg(&thrice).unwrap().as_deref(), Some("{\"v\":4}"));
        // The artwork itself is untouched.
        let unbaked = thrice
            .replacen(&format!(" xmlns:openbadges=\"{SVG_NAMESPACE_OB3}\""), "", 1)
            .replacen(
                "<openbadges:credential><![CDATA[{\"v\":4}]]></openbadges:credential>",
                "",
                1,
            );
        assert_eq!(unbaked, CLOSED_SVG);
    }

    #[test]
    fn svg_prolog_self_closing_root_and_handwritten_forms() {
        let svg = "\u{feff}<?xml version=\"1.0\"?>\n<!-- <svg> in a comment -->\n\
                   <!DOCTYPE svg [ <!ENTITY x \"y\"> ]>\n<svg xmlns='http://www.w3.org/2000/svg'/>\n";
        let baked = bake_svg(svg, "{}").unwrap();
        assert!(
            baked.contains("<openbadges:credential><![CDATA[{}]]></openbadges:credential></svg>")
        );
        assert_eq!(extract_svg(&baked).unwrap().as_deref(), Some("{}"));

        // As the spec example writes it: whitespace around the CDATA.
        let spaced = format!(
            "<svg xmlns:openbadges=\"{SVG_NAMESPACE_OB3}\">\n  <openbadges:credential>\n    \
             <![CDATA[ {{\"a\":1}} ]]>\n  </openbadges:credential>\n</svg>"
        );
        assert_eq!(extract_svg(&spaced).unwrap().as_deref(), Some("{\"a\":1}"));
        // Escaped text instead of CDATA.
        let escaped = format!(
            "{OB3_ROOT}<openbadges:credential>{{&quot;a&quot;:&#60;&#x3e;}}</openbadges:credential></svg>"
        );
        assert_eq!(
            extract_svg(&escaped).unwrap().as_deref(),
            Some("{\"a\":<>}")
        );
        // VC-JWT / signed OB 2.0: the JWS in `verify`, no content.
        let jws = format!(
            "{OB3_ROOT}<openbadges:credential verify=\"h.p.s\"></openbadges:credential></svg>"
        );
        assert_eq!(extract_svg(&jws).unwrap().as_deref(), Some("h.p.s"));
        let signed = format!("{OB2_ROOT}<openbadges:assertion verify='h.p.s'/></svg>");
        assert_eq!(extract_svg(&signed).unwrap().as_deref(), Some("h.p.s"));
        // An end tag inside the CDATA does not end the element.
        let tricky = format!(
            "{OB3_ROOT}{}</svg>",
            "<openbadges:credential><![CDATA[</openbadges:credential>]]></openbadges:credential>"
        );
        assert_eq!(
            extract_svg(&tricky).unwrap().as_deref(),
            Some("</openbadges:credential>")
        );
        // Baked-looking text inside comments is not a baked element.
        let commented =
            format!("{OB3_ROOT}<!-- <openbadges:credential>x</openbadges:credential> --></svg>");
        assert_eq!(extract_svg(&commented).unwrap(), None);
    }

    /// Root tags declaring the `openbadges` prefix as the baking rules do.
    const OB3_ROOT: &str = "<svg xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">";
    const OB2_ROOT: &str = "<svg xmlns:openbadges=\"http://openbadges.org\">";

    /// What a namespace-aware XML reader finds: the text of the first element that is
    /// `credential` in the OB 3.0 namespace or `assertion` in the OB 2.0 one, else its
    /// `verify`; `None` when there is none (or the document is not namespace-well-formed).
    fn oracle(svg: &str) -> Option<String> {
        let doc = roxmltree::Document::parse(svg).ok()?;
        let found = doc.descendants().find(|n| {
            let name = n.tag_name();
            n.is_element()
                && matches!(
                    (name.namespace(), name.name()),
                    (Some(SVG_NAMESPACE_OB3), "credential")
                        | (Some(SVG_NAMESPACE_OB2), "assertion")
                )
        })?;
        let text: String = found.children().filter_map(|c| c.text()).collect();
        let text = text.trim();
        if text.is_empty() {
            found.attribute("verify").map(str::to_owned)
        } else {
            Some(text.to_owned())
        }
    }

    #[test]
    fn svg_baked_elements_are_known_by_namespace_not_prefix() {
        let ob3 = SVG_NAMESPACE_OB3;
        let ob2 = SVG_NAMESPACE_OB2;
        let found = [
            // Another prefix bound to the namespace, on the root or on the element itself.
            format!("<svg xmlns:ob=\"{ob3}\"><ob:credential>{{\"v\":1}}</ob:credential></svg>"),
            format!("<svg><x:credential xmlns:x='{ob3}'>{{\"v\":1}}</x:credential></svg>"),
            // The default namespace.
            format!("<svg><g><credential xmlns=\"{ob3}\">{{\"v\":1}}</credential></g></svg>"),
            // OB 2.0 under another prefix; a declaration written with an entity.
            format!("<svg xmlns:b=\"{ob2}\"><b:assertion verify=\"{{&quot;v&quot;:1}}\"/></svg>"),
            "<svg xmlns:o=\"https://purl.imsglobal.org/ob/v3p0\"><o:credential>{\"v\":1}</o:credential></svg>"
                .replace("imsglobal", "ims&#103;lobal"),
            // Rebound to the OB namespace below a foreign binding.
            format!(
                "<svg xmlns:openbadges=\"urn:other\"><g xmlns:openbadges=\"{ob3}\">\
                 <openbadges:credential>{{\"v\":1}}</openbadges:credential></g></svg>"
            ),
            // The first baked element counts, not the first `openbadges:` one.
            format!(
                "<svg xmlns:openbadges=\"urn:other\" xmlns:ob=\"{ob3}\">\
                 <openbadges:credential>no</openbadges:credential>\
                 <ob:credential>{{\"v\":1}}</ob:credential></svg>"
            ),
        ];
        for svg in &found {
            assert_eq!(
                extract_svg(svg).unwrap().as_deref(),
                Some("{\"v\":1}"),
                "{svg}"
            );
            assert_eq!(oracle(svg).as_deref(), Some("{\"v\":1}"), "{svg}");
        }
        let not_found = [
            // Bound to another namespace, or to the other version's element name.
            "<svg xmlns:openbadges=\"urn:other\"><openbadges:credential>x</openbadges:credential></svg>"
                .to_owned(),
            format!("<svg xmlns:openbadges=\"{ob2}\"><openbadges:credential>x</openbadges:credential></svg>"),
            format!("<svg xmlns:openbadges=\"{ob3}\"><openbadges:assertion verify=\"x\"/></svg>"),
            format!("<svg xmlns:openbadges=\"{ob3}/\"><openbadges:credential>x</openbadges:credential></svg>"),
            // Rebound below the root; declared only on a sibling; unbound; the default
            // namespace undeclared.
            format!(
                "<svg xmlns:openbadges=\"{ob3}\"><g xmlns:openbadges=\"urn:other\">\
                 <openbadges:credential>x</openbadges:credential></g></svg>"
            ),
            format!(
                "<svg><g xmlns:openbadges=\"{ob3}\"/><openbadges:credential>x</openbadges:credential></svg>"
            ),
            "<svg><openbadges:credential>x</openbadges:credential></svg>".to_owned(),
            format!(
                "<svg xmlns=\"{ob3}\"><g xmlns=\"\"><credential>x</credential></g></svg>"
            ),
            // Nothing baked at all; a near miss of a name.
            format!("<svg xmlns:openbadges=\"{ob3}\"><openbadges:credentials>x</openbadges:credentials></svg>"),
        ];
        for svg in &not_found {
            assert_eq!(extract_svg(svg).unwrap(), None, "{svg}");
            assert_eq!(oracle(svg), None, "{svg}");
        }
    }

    #[test]
    fn svg_baking_replaces_baked_elements_whatever_their_prefix() {
        let ob3 = SVG_NAMESPACE_OB3;
        for svg in [
            // An earlier bake under another prefix: removed, one credential stays.
            format!("<svg xmlns:ob=\"{ob3}\"><g/><ob:credential>old</ob:credential></svg>"),
            // An `openbadges:` element that baking's declaration would make baked.
            "<svg><openbadges:credential>old</openbadges:credential><g/></svg>".to_owned(),
            "<svg xmlns:openbadges=\"urn:other\"><openbadges:credential>old</openbadges:credential></svg>"
                .to_owned(),
            // A baked element holding another.
            format!(
                "<svg xmlns:ob=\"{ob3}\"><ob:credential><ob:credential/>old</ob:credential></svg>"
            ),
        ] {
            let baked = bake_svg(&svg, "{\"v\":2}").unwrap();
            assert_eq!(extract_svg(&baked).unwrap().as_deref(), Some("{\"v\":2}"), "{baked}");
            assert_eq!(oracle(&baked).as_deref(), Some("{\"v\":2}"), "{baked}");
            assert!(!baked.contains("old"), "{baked}");
            let doc = roxmltree::Document::parse(&baked).unwrap();
            let baked_count = doc
                .descendants()
                .filter(|n| n.tag_name().namespace() == Some(ob3))
                .count();
            assert_eq!(baked_count, 1, "{baked}");
        }
        // Elements of another namespace that merely share a local name are kept.
        let foreign = "<svg xmlns:x=\"urn:other\"><x:credential>kept</x:credential></svg>";
        let baked = bake_svg(foreign, "{}").unwrap();
        assert!(
            baked.contains("<x:credential>kept</x:credential>"),
            "{baked}"
        );
    }

    #[test]
    fn svg_bad_inputs_are_errors() {
        assert!(matches!(
            bake_svg("<html/>", "{}"),
            Err(BakeError::NotSvg(_))
        ));
        assert!(matches!(bake_svg("", "{}"), Err(BakeError::NotSvg(_))));
        assert!(matches!(extract_svg("<svgx/>"), Err(BakeError::NotSvg(_))));
        assert!(bake_svg("<svg width=\"1", "{}").is_err());
        assert!(bake_svg("<svg width=1>", "{}").is_err());
        assert!(bake_svg("<!-- never closed", "{}").is_err());
        assert!(matches!(
            bake_svg(CLOSED_SVG, "a\u{1}b"),
            Err(BakeError::InvalidPayload(_))
        ));
        assert!(bake_svg(CLOSED_SVG, "").is_err());
        assert!(bake_svg_ob2(CLOSED_SVG, "", "{}").is_err());
        for broken in [
            "<openbadges:credential><![CDATA[x</svg>",
            "<openbadges:credential>x</svg>",
            "<openbadges:credential>x",
            "<openbadges:credential>&bogus;</openbadges:credential></svg>",
            "<openbadges:credential>&#xD800;</openbadges:credential></svg>",
            "<openbadges:credential><b/></openbadges:credential></svg>",
            "<openbadges:credential/></svg>",
            // The tree must hold: end tags close what they end; one declaration per prefix.
            "<g></h><openbadges:credential>x</openbadges:credential></svg>",
            "<g xmlns:a=\"x\" xmlns:a=\"y\"/><openbadges:credential>x</openbadges:credential></svg>",
            "</ g><openbadges:credential>x</openbadges:credential></svg>",
        ] {
            let broken = format!("{OB3_ROOT}{broken}");
            assert!(extract_svg(&broken).is_err(), "{broken}");
        }
        let twice = format!(
            "<svg xmlns:openbadges=\"{SVG_NAMESPACE_OB3}\" xmlns:openbadges=\"urn:x\"><g/></svg>"
        );
        assert!(bake_svg(&twice, "{}").is_err());
        // Every truncation of a baked SVG is an error or a clean answer, never a panic.
        let baked = bake_svg("<svg><g/></svg>", "{\"é\":\"]]>\"}").unwrap();
        for (at, _) in baked.char_indices() {
            let _ = extract_svg(&baked[..at]);
            let _ = bake_svg(&baked[..at], "{}");
        }
    }
}
