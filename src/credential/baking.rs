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
//!   JSON in CDATA.
//!
//! Everything here is pure: bytes and strings in, bytes and strings out. The one exception is
//! rendering an SVG that contains `<text>`: the system fonts are then scanned, once per
//! process. The program's own artwork has its lettering as outlines and needs no fonts, so it
//! renders the same on every machine.
//!
//! Images handed to the extractors may be hostile (uploaded for verification): every length,
//! CRC and bound is checked, the work is linear in the input, the payload is capped at
//! [`MAX_PAYLOAD_BYTES`], and nothing panics.

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
// for an element. Elements are matched by the `openbadges:` prefix that the baking rules fix.

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
/// `<openbadges:credential>` or `<openbadges:assertion>` element, or, when it has none, its
/// `verify` attribute (an OB 3.0 VC-JWT or OB 2.0 signed JWS). `None` if nothing is baked.
pub fn extract_svg(svg: &str) -> Result<Option<String>, BakeError> {
    let root = find_root(svg)?;
    let Some(element) = find_baked_element(svg, root.end)? else {
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
/// `namespace`, dropping earlier baked elements.
fn bake_svg_element(svg: &str, namespace: &str, element: &str) -> Result<String, BakeError> {
    let root = find_root(svg)?;
    let mut old = Vec::new();
    let mut from = root.end;
    while let Some(found) = find_baked_element(svg, from)? {
        from = found.end;
        old.push(found.start..found.end);
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

/// The first `openbadges:credential` or `openbadges:assertion` element at or after `from`.
fn find_baked_element(doc: &str, mut from: usize) -> Result<Option<BakedElement>, BakeError> {
    while let Some(found) = doc.get(from..).and_then(|rest| rest.find('<')) {
        let at = from + found;
        let rest = &doc[at..];
        from = if rest.starts_with("<!--") {
            skip_past(doc, at + 4, "-->", "unterminated comment")?
        } else if rest.starts_with("<![CDATA[") {
            skip_past(doc, at + 9, "]]>", "unterminated CDATA section")?
        } else if rest.starts_with("<?") {
            skip_past(doc, at + 2, "?>", "unterminated processing instruction")?
        } else if rest.starts_with("</") || rest.starts_with("<!") {
            skip_past(doc, at + 2, ">", "unterminated tag")?
        } else {
            let tag = parse_start_tag(doc, at)?;
            let name = &doc[tag.name.clone()];
            if name == OB3_ELEMENT || name == OB2_ELEMENT {
                let (content, end) = if tag.self_closing {
                    (None, tag.end)
                } else {
                    let (close_start, close_end) = find_end_tag(doc, tag.end, name)?;
                    (Some(tag.end..close_start), close_end)
                };
                return Ok(Some(BakedElement {
                    start: at,
                    end,
                    tag,
                    content,
                }));
            }
            tag.end
        };
    }
    Ok(None)
}

/// Start and end offsets of the `</name>` that closes an element whose content starts at
/// `from`, skipping CDATA and comments (a credential may contain any text).
fn find_end_tag(doc: &str, mut from: usize, name: &str) -> Result<(usize, usize), BakeError> {
    while let Some(found) = doc.get(from..).and_then(|rest| rest.find('<')) {
        let at = from + found;
        let rest = &doc[at..];
        if rest.starts_with("<![CDATA[") {
            from = skip_past(doc, at + 9, "]]>", "unterminated CDATA section")?;
        } else if rest.starts_with("<!--") {
            from = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest
            .strip_prefix("</")
            .and_then(|r| r.strip_prefix(name))
            .is_some_and(|r| r.trim_start().starts_with('>'))
        {
            let end = skip_past(doc, at, ">", "unterminated end tag")?;
            return Ok((at, end));
        } else {
            from = at + 1;
        }
    }
    Err(malformed_svg(from, "baked element is never closed"))
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
        let escaped =
            "<svg><openbadges:credential>{&quot;a&quot;:&#60;&#x3e;}</openbadges:credential></svg>";
        assert_eq!(extract_svg(escaped).unwrap().as_deref(), Some("{\"a\":<>}"));
        // VC-JWT / signed OB 2.0: the JWS in `verify`, no content.
        let jws = "<svg><openbadges:credential verify=\"h.p.s\"></openbadges:credential></svg>";
        assert_eq!(extract_svg(jws).unwrap().as_deref(), Some("h.p.s"));
        let signed = "<svg><openbadges:assertion verify='h.p.s'/></svg>";
        assert_eq!(extract_svg(signed).unwrap().as_deref(), Some("h.p.s"));
        // An end tag inside the CDATA does not end the element.
        let tricky = format!(
            "<svg>{}</svg>",
            "<openbadges:credential><![CDATA[</openbadges:credential>]]></openbadges:credential>"
        );
        assert_eq!(
            extract_svg(&tricky).unwrap().as_deref(),
            Some("</openbadges:credential>")
        );
        // Baked-looking text inside comments is not a baked element.
        let commented = "<svg><!-- <openbadges:credential>x</openbadges:credential> --></svg>";
        assert_eq!(extract_svg(commented).unwrap(), None);
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
            "<svg><openbadges:credential><![CDATA[x</svg>",
            "<svg><openbadges:credential>x</svg>",
            "<svg><openbadges:credential>&bogus;</openbadges:credential></svg>",
            "<svg><openbadges:credential>&#xD800;</openbadges:credential></svg>",
            "<svg><openbadges:credential><b/></openbadges:credential></svg>",
            "<svg><openbadges:credential/></svg>",
        ] {
            assert!(extract_svg(broken).is_err(), "{broken}");
        }
        // Every truncation of a baked SVG is an error or a clean answer, never a panic.
        let baked = bake_svg("<svg><g/></svg>", "{\"é\":\"]]>\"}").unwrap();
        for (at, _) in baked.char_indices() {
            let _ = extract_svg(&baked[..at]);
            let _ = bake_svg(&baked[..at], "{}");
        }
    }
}
