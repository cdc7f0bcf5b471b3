//! PNG baking: one uncompressed `iTXt` chunk right after `IHDR`; every other chunk copied
//! byte for byte. Every length and CRC of a read image is checked.

use super::error::{
    check_len, check_payload_size, BakeError, MAX_PNG_CHUNKS, PNG_KEYWORD_OB2, PNG_KEYWORD_OB3,
};

pub(super) const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

// ---------------------------------------------------------------------------------------------
// PNG

/// One validated PNG chunk, borrowed from the input.
pub(super) struct Chunk<'a> {
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
pub(super) fn png_chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, BakeError> {
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
pub(super) fn crc32(kind: [u8; 4], data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(&kind);
    crc.update(data);
    crc.sum()
}

pub(super) fn write_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    // Callers keep data under MAX_PAYLOAD_BYTES plus a few header bytes.
    let len = u32::try_from(data.len()).expect("chunk data is bounded by MAX_PAYLOAD_BYTES");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(kind, data).to_be_bytes());
}

/// The Open Badges keyword of a `tEXt`, `zTXt` or `iTXt` chunk, if it has one.
pub(super) fn text_chunk_keyword(chunk: &Chunk<'_>) -> Option<&'static str> {
    if !matches!(&chunk.kind, b"tEXt" | b"zTXt" | b"iTXt") {
        return None;
    }
    let nul = chunk.data.iter().take(80).position(|&b| b == 0)?;
    known_keyword(&chunk.data[..nul])
}

pub(super) fn known_keyword(keyword: &[u8]) -> Option<&'static str> {
    [PNG_KEYWORD_OB3, PNG_KEYWORD_OB2]
        .into_iter()
        .find(|k| k.as_bytes() == keyword)
}

/// The text of an Open Badges `iTXt` chunk whose data starts with `keyword` and a NUL.
pub(super) fn itxt_text(keyword: &'static str, data: &[u8]) -> Result<String, BakeError> {
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
