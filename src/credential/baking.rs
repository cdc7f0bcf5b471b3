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
//! Everything here is pure: bytes and strings in, bytes and strings out. The one exception is
//! rendering an SVG that contains `<text>`: the system fonts are then scanned, once per
//! process. The program's own artwork has its lettering as outlines and needs no fonts, so it
//! renders the same on every machine.
//!
//! Images handed to the extractors may be hostile (uploaded for verification): every length,
//! CRC and bound is checked, the work is linear in the input, the payload is capped at
//! [`MAX_PAYLOAD_BYTES`], and nothing panics.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// PNG `iTXt` keyword of an Open Badges 3.0 baked credential.
pub const PNG_KEYWORD_OB3: &str = "openbadgecredential";
/// PNG `iTXt` keyword of an Open Badges 2.0 baked assertion.
pub const PNG_KEYWORD_OB2: &str = "openbadges";
/// XML namespace of the `openbadges:` prefix in an Open Badges 3.0 baked SVG.
pub const SVG_NAMESPACE_OB3: &str = "https://purl.imsglobal.org/ob/v3p0";
/// XML namespace of the `openbadges:` prefix in an Open Badges 2.0 baked SVG.
pub const SVG_NAMESPACE_OB2: &str = "http://openbadges.org";
/// Largest payload baked or extracted, in bytes. A signed credential is a few KiB.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Largest edge, in pixels, that [`render_png`] draws (bounds its memory to 16 MiB).
pub const MAX_RENDER_SIZE: u32 = 2048;

/// Most chunks walked in one PNG; real badges have a handful.
const MAX_PNG_CHUNKS: usize = 100_000;
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
const OB3_ELEMENT: &str = "openbadges:credential";
const OB2_ELEMENT: &str = "openbadges:assertion";
const NS_ATTRIBUTE: &str = "xmlns:openbadges";

/// Why an image could not be rendered, baked or read.
#[derive(Debug, thiserror::Error)]
pub enum BakeError {
    /// The requested render size is zero or too large.
    #[error("render size {0} px is outside 1..={max}", max = MAX_RENDER_SIZE)]
    InvalidSize(u32),
    /// The SVG could not be parsed for rendering.
    #[error("the SVG could not be parsed: {0}")]
    SvgParse(String),
    /// The rendered pixels could not be encoded as PNG.
    #[error("the rendered image could not be encoded as PNG: {0}")]
    PngEncode(String),
    /// The input does not start with the PNG signature.
    #[error("not a PNG file: the PNG signature is missing")]
    NotPng,
    /// The PNG's chunk structure is broken (truncated, bad length, bad order, …).
    #[error("malformed PNG at byte {offset}: {reason}")]
    MalformedPng {
        /// Byte offset of the offending chunk.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A chunk's stored CRC does not match its contents.
    #[error("PNG chunk {chunk} at byte {offset} fails its CRC check")]
    BadCrc {
        /// The chunk type, e.g. `IDAT`.
        chunk: String,
        /// Byte offset of the chunk.
        offset: usize,
    },
    /// The PNG has more chunks than any badge image plausibly has.
    #[error("the PNG has more than {max} chunks", max = MAX_PNG_CHUNKS)]
    TooManyChunks,
    /// `bake_png` was asked for a keyword that is not an Open Badges one.
    #[error("{0:?} is not an Open Badges keyword (expected {ob3:?} or {ob2:?})", ob3 = PNG_KEYWORD_OB3, ob2 = PNG_KEYWORD_OB2)]
    UnknownKeyword(String),
    /// The payload to bake, or the one found, exceeds [`MAX_PAYLOAD_BYTES`].
    #[error("the baked payload is {0} bytes; the limit is {max}", max = MAX_PAYLOAD_BYTES)]
    PayloadTooLarge(usize),
    /// The payload cannot be stored in the target format.
    #[error("the payload cannot be baked: {0}")]
    InvalidPayload(&'static str),
    /// The Open Badges text chunk exists but does not follow the baking rules.
    #[error("the {keyword:?} text chunk is malformed: {reason}")]
    MalformedTextChunk {
        /// The chunk's keyword.
        keyword: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The input is not an SVG document whose root element is `<svg>`.
    #[error("not an SVG document: {0}")]
    NotSvg(&'static str),
    /// The SVG markup is broken where baking needs to read or change it.
    #[error("malformed SVG at byte {offset}: {reason}")]
    MalformedSvg {
        /// Byte offset where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// Renders `svg` to a `size`×`size` PNG, scaled to fit and centred, transparent elsewhere.
///
/// External files are never read: an `<image>` that points at a path is dropped (`data:` URLs
/// still work). System fonts are loaded (once) only when the SVG contains `<text>`.
pub fn render_png(svg: &str, size: u32) -> Result<Vec<u8>, BakeError> {
    if size == 0 || size > MAX_RENDER_SIZE {
        return Err(BakeError::InvalidSize(size));
    }
    let mut options = usvg::Options::default();
    options.image_href_resolver.resolve_string = Box::new(|_, _| None);
    if svg.contains("<text") {
        options.fontdb = system_fonts();
    }
    let tree =
        usvg::Tree::from_str(svg, &options).map_err(|e| BakeError::SvgParse(e.to_string()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size, size).ok_or(BakeError::InvalidSize(size))?;
    let (width, height) = (tree.size().width(), tree.size().height());
    let edge = size as f32;
    let scale = (edge / width).min(edge / height);
    let (dx, dy) = ((edge - width * scale) / 2.0, (edge - height * scale) / 2.0);
    let transform = tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, dx, dy);
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| BakeError::PngEncode(e.to_string()))
}

/// The system font database, scanned on first use and shared after.
fn system_fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

// ---------------------------------------------------------------------------------------------
// PNG

/// One validated PNG chunk, borrowed from the input.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk: length, type, data and CRC.
    raw: &'a [u8],
}

/// Bakes `payload` into `png` as an uncompressed `iTXt` chunk with `keyword`
/// ([`PNG_KEYWORD_OB3`] or [`PNG_KEYWORD_OB2`]), placed right after `IHDR`.
///
/// Any text chunk already carrying `keyword` is dropped, so re-baking replaces rather than
/// adds. A chunk with the other keyword is kept. The input must be a well-formed PNG.
pub fn bake_png(png: &[u8], keyword: &str, payload: &str) -> Result<Vec<u8>, BakeError> {
    let keyword = known_keyword(keyword.as_bytes())
        .ok_or_else(|| BakeError::UnknownKeyword(keyword.to_owned()))?;
    check_payload_size(payload)?;
    if payload.contains('\0') {
        // PNG forbids NUL in iTXt text.
        return Err(BakeError::InvalidPayload("it contains a NUL character"));
    }
    let chunks = png_chunks(png)?;

    // keyword, NUL, compression flag 0, method 0, empty language tag + NUL, empty
    // translated keyword + NUL, then the text.
    let mut text = Vec::with_capacity(keyword.len() + 5 + payload.len());
    text.extend_from_slice(keyword.as_bytes());
    text.extend_from_slice(&[0, 0, 0, 0, 0]);
    text.extend_from_slice(payload.as_bytes());

    let mut out = Vec::with_capacity(png.len() + text.len() + 12);
    out.extend_from_slice(&PNG_SIGNATURE);
    for (index, chunk) in chunks.iter().enumerate() {
        if text_chunk_keyword(chunk) == Some(keyword) {
            continue;
        }
        out.extend_from_slice(chunk.raw);
        if index == 0 {
            write_chunk(&mut out, *b"iTXt", &text);
        }
    }
    Ok(out)
}

/// Reads the baked payload of `png`: `Some((keyword, text))` of the first uncompressed `iTXt`
/// chunk keyed `openbadgecredential`, else of the first keyed `openbadges`, else the legacy
/// OB 2.0 `tEXt` `openbadges` chunk (a hosted assertion URL); `None` if there is none.
///
/// The whole file is validated first: signature, chunk lengths, CRCs, `IHDR` first, `IEND`
/// last.
pub fn extract_png(png: &[u8]) -> Result<Option<(String, String)>, BakeError> {
    let chunks = png_chunks(png)?;
    for wanted in [PNG_KEYWORD_OB3, PNG_KEYWORD_OB2] {
        let found = chunks
            .iter()
            .find(|c| &c.kind == b"iTXt" && text_chunk_keyword(c) == Some(wanted));
        if let Some(chunk) = found {
            let text = itxt_text(wanted, chunk.data)?;
            return Ok(Some((wanted.to_owned(), text)));
        }
    }
    let legacy = chunks
        .iter()
        .find(|c| &c.kind == b"tEXt" && text_chunk_keyword(c) == Some(PNG_KEYWORD_OB2));
    if let Some(chunk) = legacy {
        let text = &chunk.data[PNG_KEYWORD_OB2.len() + 1..];
        check_len(text.len())?;
        // tEXt is Latin-1: each byte is the code point of the same value.
        let text = text.iter().map(|&b| char::from(b)).collect();
        return Ok(Some((PNG_KEYWORD_OB2.to_owned(), text)));
    }
    Ok(None)
}

/// Walks and validates every chunk of `png`.
fn png_chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, BakeError> {
    if !png.starts_with(&PNG_SIGNATURE) {
        return Err(BakeError::NotPng);
    }
    let malformed = |offset, reason| BakeError::MalformedPng { offset, reason };
    let mut chunks = Vec::new();
    let mut offset = PNG_SIGNATURE.len();
    loop {
        if chunks.len() == MAX_PNG_CHUNKS {
            return Err(BakeError::TooManyChunks);
        }
        let header = png
            .get(offset..offset + 8)
            .ok_or(malformed(offset, "file ends inside a chunk header"))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > 0x7fff_ffff {
            return Err(malformed(offset, "chunk length exceeds 2^31 - 1"));
        }
        let kind = [header[4], header[5], header[6], header[7]];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(malformed(offset, "chunk type is not four ASCII letters"));
        }
        let data_start = offset + 8;
        let data_end = data_start
            .checked_add(len as usize)
            .ok_or(malformed(offset, "chunk length overflows"))?;
        let stored_crc = png
            .get(data_end..data_end.saturating_add(4))
            .ok_or(malformed(offset, "chunk runs past the end of the file"))?;
        let data = &png[data_start..data_end];
        if crc32(kind, data).to_be_bytes() != stored_crc {
            return Err(BakeError::BadCrc {
                chunk: String::from_utf8_lossy(&kind).into_owned(),
                offset,
            });
        }
        let is_first = chunks.is_empty();
        if is_first != (&kind == b"IHDR") {
            return Err(malformed(
                offset,
                "IHDR is not the first and only header chunk",
            ));
        }
        if is_first && len != 13 {
            return Err(malformed(offset, "IHDR is not 13 bytes long"));
        }
        let end = data_end + 4;
        chunks.push(Chunk {
            kind,
            data,
            raw: &png[offset..end],
        });
        if &kind == b"IEND" {
            if end != png.len() {
                return Err(malformed(end, "data after IEND"));
            }
            return Ok(chunks);
        }
        offset = end;
    }
}

/// CRC-32 (ISO 3309, as PNG and gzip use it) over a chunk's type and data.
fn crc32(kind: [u8; 4], data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(&kind);
    crc.update(data);
    crc.sum()
}

fn write_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    // Callers keep data under MAX_PAYLOAD_BYTES plus a few header bytes.
    let len = u32::try_from(data.len()).expect("chunk data is bounded by MAX_PAYLOAD_BYTES");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(kind, data).to_be_bytes());
}

/// The Open Badges keyword of a `tEXt`, `zTXt` or `iTXt` chunk, if it has one.
fn text_chunk_keyword(chunk: &Chunk<'_>) -> Option<&'static str> {
    if !matches!(&chunk.kind, b"tEXt" | b"zTXt" | b"iTXt") {
        return None;
    }
    let nul = chunk.data.iter().take(80).position(|&b| b == 0)?;
    known_keyword(&chunk.data[..nul])
}

fn known_keyword(keyword: &[u8]) -> Option<&'static str> {
    [PNG_KEYWORD_OB3, PNG_KEYWORD_OB2]
        .into_iter()
        .find(|k| k.as_bytes() == keyword)
}

/// The text of an Open Badges `iTXt` chunk whose data starts with `keyword` and a NUL.
fn itxt_text(keyword: &'static str, data: &[u8]) -> Result<String, BakeError> {
    let malformed = |reason| BakeError::MalformedTextChunk { keyword, reason };
    let rest = &data[keyword.len() + 1..];
    let (&flag, rest) = rest.split_first().ok_or(malformed("it is truncated"))?;
    let (&method, rest) = rest.split_first().ok_or(malformed("it is truncated"))?;
    if flag != 0 || method != 0 {
        return Err(malformed("its text is compressed, which baking forbids"));
    }
    let mut rest = rest;
    // Language tag, then translated keyword: both NUL-terminated, both ignored.
    for _ in 0..2 {
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(malformed("it is truncated"))?;
        rest = &rest[nul + 1..];
    }
    check_len(rest.len())?;
    String::from_utf8(rest.to_vec()).map_err(|_| malformed("its text is not UTF-8"))
}

fn check_len(len: usize) -> Result<(), BakeError> {
    if len > MAX_PAYLOAD_BYTES {
        return Err(BakeError::PayloadTooLarge(len));
    }
    Ok(())
}

fn check_payload_size(payload: &str) -> Result<(), BakeError> {
    if payload.is_empty() {
        return Err(BakeError::InvalidPayload("it is empty"));
    }
    check_len(payload.len())
}

// ---------------------------------------------------------------------------------------------
// SVG
//
// A small scanner rather than an XML library: baking must keep the artwork byte for byte and
// only touch the root tag and the baked element. It skips comments, CDATA, processing
// instructions and quoted attribute values, so markup-like text inside them is never mistaken
// for an element.
//
// It is namespace-aware ([`baked_elements`]): it follows the element tree (each end tag must
// close the element it ends) and the namespace declarations in scope, and knows a baked
// element by its expanded name, as the spec's `xmlns:openbadges` declaration means it. It
// stays linear in the input, which a general XML library does not promise for hostile
// documents (roxmltree, say, compares each attribute with the earlier ones of its element and
// copies the namespaces in scope into every element that declares one): one hash lookup per
// declaration and per candidate element. Reading and baking find elements the same way, so
// baking removes exactly what reading would find. DTDs are skipped, never interpreted: an
// entity they declare is not expanded.

/// Bakes an Open Badges 3.0 credential (JSON with an embedded proof) into `svg`.
///
/// Declares `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the root `<svg>` and
/// makes `<openbadges:credential><![CDATA[payload]]></openbadges:credential>` its first child.
/// Any baked element already present (OB 2.0 or 3.0) is removed: one image, one credential.
/// A `]]>` inside the payload is split across two CDATA sections.
pub fn bake_svg(svg: &str, payload: &str) -> Result<String, BakeError> {
    check_payload_size(payload)?;
    check_xml_text(payload)?;
    let element = format!("<{OB3_ELEMENT}>{}</{OB3_ELEMENT}>", cdata(payload));
    bake_svg_element(svg, SVG_NAMESPACE_OB3, &element)
}

/// Bakes an Open Badges 2.0 hosted assertion into `svg`.
///
/// Declares `xmlns:openbadges="http://openbadges.org"` on the root `<svg>` and makes
/// `<openbadges:assertion verify="assertion_url"><![CDATA[payload]]></openbadges:assertion>`
/// its first child, replacing any baked element already present. An empty `payload` bakes
/// the URL alone.
pub fn bake_svg_ob2(svg: &str, assertion_url: &str, payload: &str) -> Result<String, BakeError> {
    if assertion_url.is_empty() {
        return Err(BakeError::InvalidPayload("the assertion URL is empty"));
    }
    check_len(payload.len())?;
    check_xml_text(assertion_url)?;
    check_xml_text(payload)?;
    let verify = escape_attribute(assertion_url);
    let element = if payload.is_empty() {
        format!("<{OB2_ELEMENT} verify=\"{verify}\"/>")
    } else {
        format!(
            "<{OB2_ELEMENT} verify=\"{verify}\">{}</{OB2_ELEMENT}>",
            cdata(payload)
        )
    };
    bake_svg_element(svg, SVG_NAMESPACE_OB2, &element)
}

/// Reads the baked payload of `svg`: the content (CDATA and text, trimmed) of the first
/// baked element (`credential` in the OB 3.0 namespace or `assertion` in the OB 2.0 one,
/// whatever its prefix: see [`baked_elements`]), or, when it has none, its `verify`
/// attribute (an OB 3.0 VC-JWT or OB 2.0 signed JWS). `None` if nothing is baked.
pub fn extract_svg(svg: &str) -> Result<Option<String>, BakeError> {
    let root = find_root(svg)?;
    let Some(element) = baked_elements(svg, &root, None, true)?.into_iter().next() else {
        return Ok(None);
    };
    if let Some(content) = element.content.clone() {
        if content.len() > 2 * MAX_PAYLOAD_BYTES {
            return Err(BakeError::PayloadTooLarge(content.len()));
        }
        let text = character_data(svg, content)?;
        let text = text.trim();
        if !text.is_empty() {
            check_len(text.len())?;
            return Ok(Some(text.to_owned()));
        }
    }
    if let Some(value) = element.tag.attribute(svg, "verify") {
        check_len(value.len())?;
        let value = decode_entities(svg, value)?;
        if !value.trim().is_empty() {
            return Ok(Some(value.trim().to_owned()));
        }
    }
    Err(BakeError::MalformedSvg {
        offset: element.start,
        reason: "the baked element has neither content nor a verify attribute",
    })
}

/// Writes `element` as the first child of the root and points `xmlns:openbadges` at
/// `namespace`, dropping earlier baked elements: those the image has, and those that would
/// read as baked once the root binds `openbadges` to `namespace` (an `openbadges:` element
/// whose prefix was unbound, or bound on the root to another namespace).
fn bake_svg_element(svg: &str, namespace: &str, element: &str) -> Result<String, BakeError> {
    let root = find_root(svg)?;
    let mut found = baked_elements(svg, &root, None, false)?;
    found.extend(baked_elements(svg, &root, Some(namespace), false)?);
    found.sort_by_key(|e| e.start);
    // The two walks overlap; each element goes once, and never one inside another.
    let mut old: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for e in found {
        if old.last().is_none_or(|last| e.start >= last.end) {
            old.push(e.start..e.end);
        }
    }

    let mut out = String::with_capacity(svg.len() + element.len() + namespace.len() + 32);
    out.push_str(&svg[..root.start]);
    // The root start tag, without its closing `>` or `/>`.
    let tag_body_end = root.end - if root.self_closing { 2 } else { 1 };
    match root
        .attributes
        .iter()
        .find(|a| &svg[a.name.clone()] == NS_ATTRIBUTE)
    {
        Some(existing) => {
            out.push_str(&svg[root.start..existing.value.start]);
            out.push_str(namespace);
            out.push_str(&svg[existing.value.end..tag_body_end]);
        }
        None => {
            let name_end = root.start + "<svg".len();
            out.push_str(&svg[root.start..name_end]);
            out.push_str(&format!(" {NS_ATTRIBUTE}=\"{namespace}\""));
            out.push_str(&svg[name_end..tag_body_end]);
        }
    }
    out.push('>');
    out.push_str(element);
    if root.self_closing {
        out.push_str("</svg>");
    }
    let mut copied = root.end;
    for range in old {
        out.push_str(&svg[copied..range.start]);
        copied = range.end;
    }
    out.push_str(&svg[copied..]);
    Ok(out)
}

/// `payload` as CDATA; a `]]>` inside ends one section after `]]` and starts the next at `>`.
fn cdata(payload: &str) -> String {
    format!("<![CDATA[{}]]>", payload.replace("]]>", "]]]]><![CDATA[>"))
}

fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Attribute-value normalisation would turn raw whitespace controls into spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Rejects characters that XML 1.0 cannot carry at all, even escaped.
fn check_xml_text(text: &str) -> Result<(), BakeError> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    if text.chars().all(allowed) {
        Ok(())
    } else {
        Err(BakeError::InvalidPayload(
            "it contains a control character that XML cannot carry",
        ))
    }
}

/// A parsed start tag: byte ranges into the document.
struct StartTag {
    start: usize,
    /// Just past the closing `>`.
    end: usize,
    name: Range<usize>,
    self_closing: bool,
    attributes: Vec<Attribute>,
}

struct Attribute {
    name: Range<usize>,
    /// Inside the quotes, still escaped.
    value: Range<usize>,
}

impl StartTag {
    fn attribute<'a>(&self, doc: &'a str, name: &str) -> Option<&'a str> {
        self.attributes
            .iter()
            .find(|a| &doc[a.name.clone()] == name)
            .map(|a| &doc[a.value.clone()])
    }
}

/// A baked element found in the document.
struct BakedElement {
    start: usize,
    end: usize,
    tag: StartTag,
    /// Between the start and end tags; `None` when self-closing.
    content: Option<Range<usize>>,
}

fn malformed_svg(offset: usize, reason: &'static str) -> BakeError {
    BakeError::MalformedSvg { offset, reason }
}

/// Offset just past the first `pattern` at or after `from`.
fn skip_past(
    doc: &str,
    from: usize,
    pattern: &str,
    reason: &'static str,
) -> Result<usize, BakeError> {
    doc.get(from..)
        .and_then(|rest| rest.find(pattern))
        .map(|at| from + at + pattern.len())
        .ok_or(malformed_svg(from, reason))
}

/// Finds the root `<svg>` start tag after the prolog (BOM, XML declaration, comments,
/// processing instructions, DOCTYPE).
fn find_root(doc: &str) -> Result<StartTag, BakeError> {
    let bytes = doc.as_bytes();
    let mut at = if doc.starts_with('\u{feff}') { 3 } else { 0 };
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let rest = &doc[at..];
        if rest.starts_with("<!--") {
            at = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest.starts_with("<?") {
            at = skip_past(doc, at + 2, "?>", "unterminated processing instruction")?;
        } else if rest.starts_with("<!DOCTYPE") {
            at = skip_doctype(doc, at)?;
        } else if rest.starts_with("<svg")
            && matches!(bytes.get(at + 4), Some(b) if b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        {
            return parse_start_tag(doc, at);
        } else if rest.is_empty() {
            return Err(BakeError::NotSvg("there is no root element"));
        } else {
            return Err(BakeError::NotSvg("the root element is not <svg>"));
        }
    }
}

/// Offset just past a `<!DOCTYPE …>` starting at `start`, internal subset included.
fn skip_doctype(doc: &str, start: usize) -> Result<usize, BakeError> {
    let mut depth = 0usize;
    for (i, b) in doc.bytes().enumerate().skip(start) {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => return Ok(i + 1),
            _ => {}
        }
    }
    Err(malformed_svg(start, "unterminated DOCTYPE"))
}

/// Parses the start tag whose `<` is at `start`.
fn parse_start_tag(doc: &str, start: usize) -> Result<StartTag, BakeError> {
    let bytes = doc.as_bytes();
    let ends_name = |b: u8| b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'=');
    let name_end = (start + 1..bytes.len())
        .find(|&i| ends_name(bytes[i]))
        .ok_or(malformed_svg(start, "unterminated start tag"))?;
    if name_end == start + 1 {
        return Err(malformed_svg(start, "start tag without a name"));
    }
    let mut attributes = Vec::new();
    let mut at = name_end;
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        match bytes.get(at) {
            None => return Err(malformed_svg(start, "unterminated start tag")),
            Some(b'>') | Some(b'/') => {
                let self_closing = bytes[at] == b'/';
                if self_closing && bytes.get(at + 1) != Some(&b'>') {
                    return Err(malformed_svg(at, "stray '/' in start tag"));
                }
                return Ok(StartTag {
                    start,
                    end: at + if self_closing { 2 } else { 1 },
                    name: start + 1..name_end,
                    self_closing,
                    attributes,
                });
            }
            Some(_) => {
                let attr_start = at;
                while bytes.get(at).is_some_and(|&b| !ends_name(b)) {
                    at += 1;
                }
                let name = attr_start..at;
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                if name.is_empty() || bytes.get(at) != Some(&b'=') {
                    return Err(malformed_svg(attr_start, "attribute without a value"));
                }
                at += 1;
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                let quote = match bytes.get(at) {
                    Some(&q @ (b'"' | b'\'')) => q,
                    _ => return Err(malformed_svg(at, "attribute value is not quoted")),
                };
                let value_start = at + 1;
                let value_end = (value_start..bytes.len())
                    .find(|&i| bytes[i] == quote)
                    .ok_or(malformed_svg(at, "unterminated attribute value"))?;
                attributes.push(Attribute {
                    name,
                    value: value_start..value_end,
                });
                at = value_end + 1;
            }
        }
    }
}

/// Namespace declarations in scope while walking the element tree.
#[derive(Default)]
struct Scope<'a> {
    /// Each prefix (`""`: the default namespace) with the namespaces it is bound to, the
    /// innermost last, each with the depth of the element that declared it.
    bindings: HashMap<&'a str, Vec<(usize, Cow<'a, str>)>>,
    /// The prefixes declared by the open elements, in order, to unbind at their end tags.
    declared: Vec<(usize, &'a str)>,
}

impl<'a> Scope<'a> {
    /// Applies the `xmlns` and `xmlns:p` attributes of `tag`, an element at `depth`.
    fn open(&mut self, doc: &'a str, tag: &StartTag, depth: usize) -> Result<(), BakeError> {
        for attribute in &tag.attributes {
            let name = &doc[attribute.name.clone()];
            let prefix = match name.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(p) if !p.is_empty() => p,
                    _ => continue,
                },
                None => continue,
            };
            let raw = &doc[attribute.value.clone()];
            // A value that does not decode (an entity of the DTD) names some other namespace.
            let namespace = match decode_entities(doc, raw) {
                Ok(decoded) => Cow::Owned(decoded),
                Err(_) => Cow::Borrowed(raw),
            };
            self.bind(prefix, namespace, depth, attribute.name.start)?;
        }
        Ok(())
    }

    fn bind(
        &mut self,
        prefix: &'a str,
        namespace: Cow<'a, str>,
        depth: usize,
        at: usize,
    ) -> Result<(), BakeError> {
        let stack = self.bindings.entry(prefix).or_default();
        if stack.last().is_some_and(|(d, _)| *d == depth) {
            return Err(malformed_svg(
                at,
                "a namespace prefix is declared twice on one element",
            ));
        }
        stack.push((depth, namespace));
        self.declared.push((depth, prefix));
        Ok(())
    }

    /// Reads the root's `prefix` as bound to `namespace`, whatever the root declares.
    fn rebind_root(&mut self, prefix: &'a str, namespace: &'a str) {
        let stack = self.bindings.entry(prefix).or_default();
        match stack.first_mut() {
            Some((0, bound)) => *bound = Cow::Borrowed(namespace),
            _ => {
                stack.insert(0, (0, Cow::Borrowed(namespace)));
                self.declared.insert(0, (0, prefix));
            }
        }
    }

    /// Undoes the declarations of the element at `depth`, at its end.
    fn close(&mut self, depth: usize) {
        while let Some(&(d, prefix)) = self.declared.last() {
            if d < depth {
                break;
            }
            self.declared.pop();
            if let Some(stack) = self.bindings.get_mut(prefix) {
                stack.pop();
            }
        }
    }

    /// Whether the element named `qname` is a baked one: `credential` in the OB 3.0
    /// namespace or `assertion` in the OB 2.0 one. An unbound prefix names no namespace.
    fn is_baked(&self, qname: &str) -> bool {
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        if local != "credential" && local != "assertion" {
            return false;
        }
        let namespace = self
            .bindings
            .get(prefix)
            .and_then(|stack| stack.last())
            .map(|(_, ns)| ns.as_ref());
        matches!(
            (namespace, local),
            (Some(SVG_NAMESPACE_OB3), "credential") | (Some(SVG_NAMESPACE_OB2), "assertion")
        )
    }
}

/// The baked elements inside the root element `root` (its start tag), outermost only, in
/// document order; with `first_only`, the first one at most. An element is baked by its
/// expanded name, as a namespace-aware XML reader sees it: `credential` in
/// [`SVG_NAMESPACE_OB3`] or `assertion` in [`SVG_NAMESPACE_OB2`], whatever the prefix (or
/// the default namespace) that names it there. With `root_openbadges`, the root's
/// `openbadges` prefix is read as bound to that namespace, as baking is about to declare.
///
/// The walk follows the element tree: an end tag that does not close the element it ends,
/// a prefix declared twice on one element or a baked element never closed is malformed.
/// It stops at the root's end tag.
fn baked_elements<'a>(
    doc: &'a str,
    root: &StartTag,
    root_openbadges: Option<&'a str>,
    first_only: bool,
) -> Result<Vec<BakedElement>, BakeError> {
    let mut scope = Scope::default();
    scope.open(doc, root, 0)?;
    if let Some(namespace) = root_openbadges {
        scope.rebind_root("openbadges", namespace);
    }
    let mut found = Vec::new();
    if root.self_closing {
        return Ok(found);
    }
    // The names of the open elements, the root first: one's depth is its index.
    let mut open: Vec<&str> = vec![&doc[root.name.clone()]];
    // The baked element being walked through: its depth, start tag and start.
    let mut current: Option<(usize, StartTag, usize)> = None;
    let mut from = root.end;
    while let Some(found_at) = doc.get(from..).and_then(|rest| rest.find('<')) {
        let at = from + found_at;
        let rest = &doc[at..];
        if rest.starts_with("<!--") {
            from = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest.starts_with("<![CDATA[") {
            from = skip_past(doc, at + 9, "]]>", "unterminated CDATA section")?;
        } else if rest.starts_with("<?") {
            from = skip_past(doc, at + 2, "?>", "unterminated processing instruction")?;
        } else if rest.starts_with("</") {
            let (name, end) = parse_end_tag(doc, at)?;
            let depth = open.len() - 1;
            if open.pop() != Some(name) {
                return Err(malformed_svg(
                    at,
                    "an end tag does not close the element it ends",
                ));
            }
            scope.close(depth);
            if current.as_ref().is_some_and(|(d, _, _)| *d == depth) {
                let (_, tag, start) = current.take().expect("checked just above");
                found.push(BakedElement {
                    start,
                    end,
                    content: Some(tag.end..at),
                    tag,
                });
                if first_only {
                    return Ok(found);
                }
            }
            if open.is_empty() {
                return Ok(found);
            }
            from = end;
        } else if rest.starts_with("<!") {
            from = skip_past(doc, at + 2, ">", "unterminated tag")?;
        } else {
            let tag = parse_start_tag(doc, at)?;
            let depth = open.len();
            scope.open(doc, &tag, depth)?;
            // Its own declarations count for its name; inside a baked element, nothing is.
            let baked = current.is_none() && scope.is_baked(&doc[tag.name.clone()]);
            from = tag.end;
            if tag.self_closing {
                scope.close(depth);
                if baked {
                    found.push(BakedElement {
                        start: at,
                        end: tag.end,
                        content: None,
                        tag,
                    });
                    if first_only {
                        return Ok(found);
                    }
                }
            } else {
                open.push(&doc[tag.name.clone()]);
                if baked {
                    current = Some((depth, tag, at));
                }
            }
        }
    }
    match current {
        Some((_, _, start)) => Err(malformed_svg(start, "baked element is never closed")),
        None => Ok(found),
    }
}

/// The name of the end tag whose `<` is at `start`, and the offset just past its `>`.
fn parse_end_tag(doc: &str, start: usize) -> Result<(&str, usize), BakeError> {
    let bytes = doc.as_bytes();
    let name_start = start + 2;
    let name_end = (name_start..bytes.len())
        .find(|&i| bytes[i].is_ascii_whitespace() || bytes[i] == b'>')
        .ok_or(malformed_svg(start, "unterminated end tag"))?;
    let mut at = name_end;
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    if name_end == name_start || bytes.get(at) != Some(&b'>') {
        return Err(malformed_svg(start, "malformed end tag"));
    }
    Ok((&doc[name_start..name_end], at + 1))
}

/// The character data of an element's content: CDATA verbatim, text with entities decoded.
fn character_data(doc: &str, content: Range<usize>) -> Result<String, BakeError> {
    let mut out = String::new();
    let mut at = content.start;
    while at < content.end {
        let rest = &doc[at..content.end];
        if let Some(inner) = rest.strip_prefix("<![CDATA[") {
            let len = inner
                .find("]]>")
                .ok_or(malformed_svg(at, "unterminated CDATA section"))?;
            out.push_str(&inner[..len]);
            at += 9 + len + 3;
        } else if rest.starts_with("<!--") {
            at = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest.starts_with('<') {
            return Err(malformed_svg(
                at,
                "unexpected markup inside the baked element",
            ));
        } else {
            let len = rest.find('<').unwrap_or(rest.len());
            out.push_str(&decode_entities(doc, &rest[..len])?);
            at += len;
        }
    }
    Ok(out)
}

/// Decodes XML's predefined entities and character references in `text`.
fn decode_entities(doc: &str, text: &str) -> Result<String, BakeError> {
    // Offset for error messages: `text` is always a slice of `doc`.
    let base = text.as_ptr() as usize - doc.as_ptr() as usize;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let offset = base + (text.len() - rest.len()) + amp;
        let semi = after
            .find(';')
            .filter(|&i| i <= 10)
            .ok_or(malformed_svg(offset, "unterminated entity reference"))?;
        let entity = &after[..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        out.push(decoded.ok_or(malformed_svg(offset, "unknown entity reference"))?);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOSED_SVG: &str = include_str!("../html/assets/partnership-closed.svg");
    const CERTIFIED_SVG: &str = include_str!("../html/assets/partnership-certified.svg");
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
