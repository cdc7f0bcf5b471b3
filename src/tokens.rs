//! Admin API tokens: random secrets shown once, stored only as SHA-256 hashes.

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::db::{ApiToken, Store};

/// SHA-256 hex of a token secret: what the database stores and looks up.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a token named `name`; returns the secret, which is never stored.
pub async fn create(store: &dyn Store, name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 100,
        "token name must be 1 to 100 characters"
    );
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!(
        "pb_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    store
        .insert_token(&ApiToken {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            token_hash: token_hash(&secret),
            created_at: crate::program::now(),
            revoked_at: None,
        })
        .await
        .map_err(|e| match e {
            crate::db::DbError::Conflict(_) => {
                anyhow::anyhow!("a token named {name:?} already exists")
            }
            other => anyhow::Error::new(other),
        })?;
    Ok(secret)
}
