//! Why an image could not be rendered, baked or read, and the bounds those errors name.

/// Largest payload baked or extracted, in bytes. A signed credential is a few KiB.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// PNG `iTXt` keyword of an Open Badges 3.0 baked credential.
pub const PNG_KEYWORD_OB3: &str = "openbadgecredential";
/// PNG `iTXt` keyword of an Open Badges 2.0 baked assertion.
pub const PNG_KEYWORD_OB2: &str = "openbadges";
/// Most chunks walked in one PNG; real badges have a handful.
pub(super) const MAX_PNG_CHUNKS: usize = 100_000;
/// Largest edge, in pixels, that [`super::render_png`] draws (bounds its memory to 16 MiB).
pub const MAX_RENDER_SIZE: u32 = 2048;

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

pub(super) fn check_len(len: usize) -> Result<(), BakeError> {
    if len > MAX_PAYLOAD_BYTES {
        return Err(BakeError::PayloadTooLarge(len));
    }
    Ok(())
}

pub(super) fn check_payload_size(payload: &str) -> Result<(), BakeError> {
    if payload.is_empty() {
        return Err(BakeError::InvalidPayload("it is empty"));
    }
    check_len(payload.len())
}
