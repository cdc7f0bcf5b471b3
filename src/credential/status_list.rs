//! Bitstring Status List (W3C VC Bitstring Status List v1.0) for revocation.
//!
//! A list is a bitstring of at least 131,072 bits (16 KiB), where bit `i` is set when the
//! credential with `statusListIndex` `i` is revoked. Bit order is MSB-first: index 0 is the
//! most significant bit of byte 0. `encodedList` = `u` (multibase base64url) +
//! base64url-without-padding(gzip(bitstring)). An all-zero list of 131,072 bits compresses to
//! a few dozen bytes, so publishing large lists (which hides who is revoked) is cheap.

use std::io::{Read as _, Write as _};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use super::model::{Profile, VC_V2_CONTEXT};

/// The minimum number of entries in a list (16 KiB of bits), as the specification requires.
pub const MIN_BITS: usize = 131_072;
/// The largest decoded list accepted (16 MiB of bits), so that a small gzip bomb posted for
/// verification cannot exhaust memory.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// Why an `encodedList` could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum StatusListError {
    /// The value does not start with the multibase base64url prefix `u`.
    #[error("encodedList must start with 'u' (multibase base64url, no padding)")]
    NotBase64Url,
    /// The base64url text is malformed.
    #[error("encodedList is not valid base64url: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not valid gzip.
    #[error("encodedList is not valid gzip: {0}")]
    Gzip(std::io::Error),
    /// The decompressed list is larger than [`MAX_DECODED_BYTES`].
    #[error("decoded status list exceeds {MAX_DECODED_BYTES} bytes")]
    TooLarge,
    /// The decompressed list is empty.
    #[error("decoded status list is empty")]
    Empty,
}

/// A status bitstring, MSB-first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusBitstring {
    bytes: Vec<u8>,
}

impl StatusBitstring {
    /// An all-clear list of at least `bits` entries (never fewer than [`MIN_BITS`]; rounded up
    /// to whole bytes).
    pub fn new(bits: usize) -> Self {
        let bits = bits.max(MIN_BITS);
        StatusBitstring {
            bytes: vec![0; bits.div_ceil(8)],
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Always false: a list has at least one byte.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bytes (bit 0 = MSB of byte 0).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bit at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        let byte = self.bytes.get(index / 8)?;
        Some(byte & mask(index) != 0)
    }

    /// Sets the bit at `index`; returns false (and changes nothing) past the end.
    pub fn set(&mut self, index: usize, value: bool) -> bool {
        let Some(byte) = self.bytes.get_mut(index / 8) else {
            return false;
        };
        if value {
            *byte |= mask(index);
        } else {
            *byte &= !mask(index);
        }
        true
    }

    /// The `encodedList` value: `u` + base64url(gzip(bytes)), no padding.
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        gz.write_all(&self.bytes).expect("gzip into memory");
        let compressed = gz.finish().expect("gzip into memory");
        let mut out = String::with_capacity(1 + compressed.len() * 4 / 3 + 4);
        out.push('u');
        URL_SAFE_NO_PAD.encode_string(compressed, &mut out);
        out
    }

    /// Decodes an `encodedList` value (any length up to [`MAX_DECODED_BYTES`], so that lists
    /// of other issuers can be read too).
    pub fn decode(encoded: &str) -> Result<Self, StatusListError> {
        let b64 = encoded
            .strip_prefix('u')
            .ok_or(StatusListError::NotBase64Url)?;
        let compressed = URL_SAFE_NO_PAD.decode(b64)?;
        let mut bytes = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_DECODED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(StatusListError::Gzip)?;
        if bytes.len() > MAX_DECODED_BYTES {
            return Err(StatusListError::TooLarge);
        }
        if bytes.is_empty() {
            return Err(StatusListError::Empty);
        }
        Ok(StatusBitstring { bytes })
    }
}

/// MSB-first: index 0 is bit 7 (0x80) of byte 0.
fn mask(index: usize) -> u8 {
    0x80 >> (index % 8)
}

/// The unsigned `BitstringStatusListCredential` for the list at `id`
/// (`{base}/status/{list}`), to be signed with [`super::sign_document`].
///
/// Only the VC 2.0 context is used: it defines `BitstringStatusListCredential`,
/// `BitstringStatusList`, `statusPurpose` and `encodedList` itself. The issuer is therefore
/// given by its id alone (an embedded `Profile` would need the OB context for its terms);
/// verifiers compare issuers by id.
pub fn status_list_credential(
    id: &str,
    issuer: &Profile,
    valid_from: &str,
    bits: &StatusBitstring,
) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.id,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": bits.encode(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_size_and_rounding() {
        assert_eq!(StatusBitstring::new(0).len(), MIN_BITS);
        assert_eq!(StatusBitstring::new(MIN_BITS + 1).len(), MIN_BITS + 8);
        assert_eq!(StatusBitstring::new(MIN_BITS).as_bytes().len(), 16 * 1024);
    }

    #[test]
    fn bit_order_is_msb_first() {
        let mut list = StatusBitstring::new(0);
        assert!(list.set(0, true));
        assert_eq!(list.as_bytes()[0], 0b1000_0000);
        assert!(list.set(7, true));
        assert_eq!(list.as_bytes()[0], 0b1000_0001);
        assert!(list.set(9, true));
        assert_eq!(list.as_bytes()[1], 0b0100_0000);
        assert_eq!(list.get(0), Some(true));
        assert_eq!(list.get(1), Some(false));
        assert_eq!(list.get(9), Some(true));
        assert!(list.set(0, false));
        assert_eq!(list.as_bytes()[0], 0b0000_0001);
        assert_eq!(list.get(MIN_BITS), None);
        assert!(!list.set(MIN_BITS, true));
    }

    #[test]
    fn encode_decode_roundtrip() {
        let mut list = StatusBitstring::new(0);
        for i in [0, 1, 42, 4097, MIN_BITS - 1] {
            list.set(i, true);
        }
        let encoded = list.encode();
        assert!(encoded.starts_with("uH4sI"), "{encoded}"); // 'u' + gzip magic 1f 8b 08
        assert!(!encoded.contains('=') && !encoded.contains('+') && !encoded.contains('/'));
        let back = StatusBitstring::decode(&encoded).unwrap();
        assert_eq!(back, list);
        for i in 0..MIN_BITS {
            assert_eq!(
                back.get(i),
                Some([0, 1, 42, 4097, MIN_BITS - 1].contains(&i))
            );
        }
    }

    #[test]
    fn decodes_a_list_encoded_elsewhere() {
        // Bits 0 and 15 set in a 16-bit list, gzip + base64url built by hand here.
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&[0x80, 0x01]).unwrap();
        let encoded = format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()));
        let list = StatusBitstring::decode(&encoded).unwrap();
        assert_eq!(list.len(), 16);
        let set: Vec<usize> = (0..16).filter(|&i| list.get(i) == Some(true)).collect();
        assert_eq!(set, [0, 15]);
    }

    #[test]
    fn rejects_bad_values() {
        let good = StatusBitstring::new(0).encode();
        assert!(matches!(
            StatusBitstring::decode(&good[1..]),
            Err(StatusListError::NotBase64Url)
        ));
        assert!(matches!(
            StatusBitstring::decode("u!!!"),
            Err(StatusListError::Base64(_))
        ));
        assert!(matches!(
            StatusBitstring::decode("uAAAA"),
            Err(StatusListError::Gzip(_))
        ));
        // A gzip bomb: 17 MiB of zeros.
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&vec![0; MAX_DECODED_BYTES + 1024]).unwrap();
        let bomb = format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()));
        assert!(matches!(
            StatusBitstring::decode(&bomb),
            Err(StatusListError::TooLarge)
        ));
    }

    #[test]
    fn list_credential_shape() {
        let issuer = Profile {
            id: "https://badges.example.org/issuer".into(),
            types: vec!["Profile".into()],
            name: "Example".into(),
            url: None,
            email: None,
        };
        let list = StatusBitstring::new(0);
        let vc = status_list_credential(
            "https://badges.example.org/status/1",
            &issuer,
            "2025-01-01T00:00:00Z",
            &list,
        );
        assert_eq!(vc["@context"], json!([VC_V2_CONTEXT]));
        assert_eq!(
            vc["type"],
            json!(["VerifiableCredential", "BitstringStatusListCredential"])
        );
        assert_eq!(vc["issuer"], "https://badges.example.org/issuer");
        let subject = &vc["credentialSubject"];
        assert_eq!(subject["id"], "https://badges.example.org/status/1#list");
        assert_eq!(subject["type"], "BitstringStatusList");
        assert_eq!(subject["statusPurpose"], "revocation");
        let decoded = StatusBitstring::decode(subject["encodedList"].as_str().unwrap()).unwrap();
        assert_eq!(decoded, list);
    }
}

#[cfg(test)]
mod signing_tests {
    use super::*;
    use crate::credential::jsonld::JsonLdProcessor;
    use crate::credential::multikey::{did_key_verification_method, resolve_did_key};
    use crate::credential::{sign_document, verify_proof, CredentialError, ProofPath};
    use ed25519_dalek::SigningKey;

    #[test]
    fn signs_and_verifies_on_the_general_path() {
        let jsonld = JsonLdProcessor::new();
        let key = SigningKey::from_bytes(&[9; 32]);
        let vm = did_key_verification_method(&key.verifying_key());
        let issuer = Profile {
            id: "https://badges.example.org/issuer".into(),
            types: vec!["Profile".into()],
            name: "Example".into(),
            url: None,
            email: None,
        };
        let mut bits = StatusBitstring::new(0);
        bits.set(42, true);
        let mut vc = status_list_credential(
            "https://badges.example.org/status/1",
            &issuer,
            "2025-01-01T00:00:00Z",
            &bits,
        );
        // Strict expansion succeeds: the VC 2.0 context alone defines every term used.
        sign_document(&mut vc, &key, &vm, "2025-01-01T00:00:00Z", &jsonld).unwrap();
        let resolve = |vm: &str| resolve_did_key(vm).ok();
        let ok = verify_proof(&vc, &jsonld, resolve).unwrap();
        assert_eq!(ok.path, ProofPath::General);

        // Flipping a bit after signing breaks the signature.
        bits.set(42, false);
        vc["credentialSubject"]["encodedList"] = bits.encode().into();
        assert!(matches!(
            verify_proof(&vc, &jsonld, resolve),
            Err(CredentialError::SignatureMismatch)
        ));
    }
}
