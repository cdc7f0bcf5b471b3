//! Ed25519 public keys as Multikey `publicKeyMultibase` values, and `did:key` resolution.
//!
//! `publicKeyMultibase` = `z` + base58btc(0xed 0x01 ‖ 32-byte key): the multicodec prefix
//! `ed25519-pub` (varint 0xed) makes every such value start with `z6Mk`. Our issuer publishes
//! its keys as Multikey documents; `POST /verify` also accepts credentials signed by anyone
//! with a `did:key`, whose DID *is* the key, so it resolves without any I/O.

use ed25519_dalek::VerifyingKey;

/// The multicodec varint for `ed25519-pub`.
pub const ED25519_PUB_PREFIX: [u8; 2] = [0xed, 0x01];

/// Why a `publicKeyMultibase` or `did:key` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultikeyError {
    /// The value does not start with `z` (base58btc).
    #[error("publicKeyMultibase must start with 'z' (base58btc)")]
    NotBase58btc,
    /// The value is far longer than any Ed25519 Multikey; refused before decoding, since
    /// base58 decoding costs time quadratic in the length (`POST /verify` takes any input).
    #[error("publicKeyMultibase is too long for an Ed25519 key")]
    TooLong,
    /// The base58 text is malformed.
    #[error("publicKeyMultibase is not valid base58btc")]
    InvalidBase58,
    /// The multicodec prefix is not `ed25519-pub` (0xed 0x01).
    #[error("key is not an Ed25519 public key (multicodec prefix is not 0xed01)")]
    NotEd25519,
    /// The key is not 32 bytes long.
    #[error("Ed25519 public key must be 32 bytes, got {0}")]
    WrongLength(usize),
    /// The 32 bytes are not a valid curve point.
    #[error("Ed25519 public key is not a valid curve point")]
    InvalidKey,
    /// The identifier is not a `did:key` verification method URL.
    #[error("not a did:key verification method (expected did:key:z6Mk…#z6Mk…)")]
    NotDidKey,
    /// The fragment of a `did:key` URL differs from its method-specific identifier.
    #[error("did:key fragment does not match the key")]
    FragmentMismatch,
}

/// Encodes `key` as a Multikey `publicKeyMultibase` (`z6Mk…`).
pub fn encode_public_key(key: &VerifyingKey) -> String {
    let mut bytes = [0u8; 34];
    bytes[..2].copy_from_slice(&ED25519_PUB_PREFIX);
    bytes[2..].copy_from_slice(key.as_bytes());
    let mut out = String::with_capacity(49);
    out.push('z');
    out.push_str(&super::base58::encode(&bytes));
    out
}

/// Decodes a Multikey `publicKeyMultibase` holding an Ed25519 key.
pub fn decode_public_key(multibase: &str) -> Result<VerifyingKey, MultikeyError> {
    let b58 = multibase
        .strip_prefix('z')
        .ok_or(MultikeyError::NotBase58btc)?;
    // 34 bytes are 47 base58 characters (48 with leading zero bytes); allow some slack so that
    // slightly wrong lengths still get the more precise `WrongLength` error.
    if b58.len() > 64 {
        return Err(MultikeyError::TooLong);
    }
    let bytes = super::base58::decode(b58).ok_or(MultikeyError::InvalidBase58)?;
    let key = bytes
        .strip_prefix(&ED25519_PUB_PREFIX[..])
        .ok_or(MultikeyError::NotEd25519)?;
    let key: &[u8; 32] = key
        .try_into()
        .map_err(|_| MultikeyError::WrongLength(key.len()))?;
    VerifyingKey::from_bytes(key).map_err(|_| MultikeyError::InvalidKey)
}

/// The `did:key` DID of `key` (`did:key:z6Mk…`).
pub fn did_key(key: &VerifyingKey) -> String {
    format!("did:key:{}", encode_public_key(key))
}

/// The `did:key` verification method URL of `key` (`did:key:z6Mk…#z6Mk…`).
pub fn did_key_verification_method(key: &VerifyingKey) -> String {
    let mb = encode_public_key(key);
    format!("did:key:{mb}#{mb}")
}

/// Resolves a `did:key` verification method URL (`did:key:z6Mk…#z6Mk…`) to its Ed25519 key.
///
/// Per the did:key method, the only verification method of such a DID is the fragment equal
/// to its method-specific identifier; anything else is refused.
pub fn resolve_did_key(verification_method: &str) -> Result<VerifyingKey, MultikeyError> {
    let rest = verification_method
        .strip_prefix("did:key:")
        .ok_or(MultikeyError::NotDidKey)?;
    let (id, fragment) = rest.split_once('#').ok_or(MultikeyError::NotDidKey)?;
    if id != fragment {
        return Err(MultikeyError::FragmentMismatch);
    }
    decode_public_key(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn vector_key() -> VerifyingKey {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
        SigningKey::from_bytes(&seed).verifying_key()
    }

    #[test]
    fn encodes_the_vector_key() {
        let key = vector_key();
        assert_eq!(
            hex::encode(key.as_bytes()),
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
        );
        let mb = encode_public_key(&key);
        assert_eq!(mb, "z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd");
        assert_eq!(decode_public_key(&mb), Ok(key));
        assert_eq!(
            did_key_verification_method(&key),
            format!("did:key:{mb}#{mb}")
        );
        assert_eq!(resolve_did_key(&did_key_verification_method(&key)), Ok(key));
        assert_eq!(did_key(&key), format!("did:key:{mb}"));
    }

    #[test]
    fn refuses_malformed_values() {
        let mb = encode_public_key(&vector_key());
        assert_eq!(
            decode_public_key(&mb[1..]),
            Err(MultikeyError::NotBase58btc)
        );
        assert_eq!(
            decode_public_key("z0OIl"),
            Err(MultikeyError::InvalidBase58)
        );
        // An X25519 key (0xec 0x01) is not an Ed25519 key.
        let mut x = vec![0xec, 0x01];
        x.extend_from_slice(&[1; 32]);
        let x = format!("z{}", bs58::encode(x).into_string());
        assert_eq!(decode_public_key(&x), Err(MultikeyError::NotEd25519));
        let short = format!("z{}", bs58::encode([0xed, 0x01, 1, 2, 3]).into_string());
        assert_eq!(
            decode_public_key(&short),
            Err(MultikeyError::WrongLength(3))
        );
        assert_eq!(
            resolve_did_key(&format!("did:web:example.org#{mb}")),
            Err(MultikeyError::NotDidKey)
        );
        assert_eq!(
            resolve_did_key(&format!("did:key:{mb}")),
            Err(MultikeyError::NotDidKey)
        );
        assert_eq!(
            resolve_did_key(&format!("did:key:{mb}#key-1")),
            Err(MultikeyError::FragmentMismatch)
        );
    }
}
