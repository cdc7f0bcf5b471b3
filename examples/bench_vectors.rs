//! Writes the benchmarks' credential for the Digital Bazaar benches of the shared interop
//! harness (`scripts/bench-vs-peers.sh`), so both stacks sign and verify one document:
//!
//! ```sh
//! cargo run --release --example bench_vectors -- DIR
//! ```
//!
//! `DIR/vectors/credential.unsigned.json` is the sample of `benches/support/sample.rs` as the
//! peers' `bench-sign.mjs` reads it; `DIR/vectors/eddsa-rdfc-2022/credential.signed.json` is
//! the same signed by this service, as `bench-verify.mjs` reads it. Both are issued by the
//! `did:key` of the key both benches use (seed 32 × `0x07`), which a verifier resolves
//! offline, and carry no `credentialStatus`: the peers' verify bench gives no status check,
//! and Digital Bazaar's `verifyCredential` refuses a status entry without one.

#[path = "../benches/support/sample.rs"]
mod sample;

use ed25519_dalek::SigningKey;
use partnership_badges::credential::multikey::{did_key, did_key_verification_method};
use partnership_badges::credential::sign_credential;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: bench_vectors DIR"))?;
    let vectors = std::path::Path::new(&dir).join("vectors");
    std::fs::create_dir_all(vectors.join("eddsa-rdfc-2022"))?;
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut credential = sample::credential(1, &did_key(&key.verifying_key()));
    credential.credential_status = None;
    std::fs::write(
        vectors.join("credential.unsigned.json"),
        serde_json::to_string_pretty(&credential)?,
    )?;
    let vm = did_key_verification_method(&key.verifying_key());
    sign_credential(&mut credential, &key, &vm, "2025-06-01T12:00:00Z")?;
    std::fs::write(
        vectors.join("eddsa-rdfc-2022/credential.signed.json"),
        serde_json::to_string_pretty(&credential)?,
    )?;
    Ok(())
}
