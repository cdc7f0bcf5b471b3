//! Ed25519 signing keys as files under the keys directory, one per key id.
//!
//! A key file `<kid>.key` holds the 32-byte seed in hex and must be mode 0600: a key that
//! others can read is refused at start. The newest key id (they sort by creation time)
//! signs; older ones stay loaded and published so credentials they signed still verify.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use ed25519_dalek::{SigningKey, VerifyingKey};

/// All keys of the issuer: the active one and the retired ones.
pub struct KeyRing {
    keys: BTreeMap<String, SigningKey>,
    active: String,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key ids only: key material never reaches logs.
        f.debug_struct("KeyRing")
            .field("active", &self.active)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// A ring holding one key (tests, benchmarks).
    pub fn single(kid: &str, key: SigningKey) -> Self {
        KeyRing {
            keys: BTreeMap::from([(kid.to_owned(), key)]),
            active: kid.to_owned(),
        }
    }

    /// Loads every key in `dir`; `Ok(None)` if there is none.
    pub fn load(dir: &Path) -> anyhow::Result<Option<Self>> {
        if !dir.exists() {
            return Ok(None);
        }
        let mut keys = BTreeMap::new();
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("key") {
                continue;
            }
            let kid = path
                .file_stem()
                .and_then(|s| s.to_str())
                .context("key file name is not UTF-8")?
                .to_owned();
            check_mode(&path)?;
            let text = fs::read_to_string(&path)
                .with_context(|| format!("reading key {}", path.display()))?;
            let seed: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{} does not hold a 32-byte hex seed", path.display()))?;
            keys.insert(kid, SigningKey::from_bytes(&seed));
        }
        let Some(active) = keys.keys().next_back().cloned() else {
            return Ok(None);
        };
        Ok(Some(KeyRing { keys, active }))
    }

    /// Generates a new key in `dir` (mode 0600) and returns its id and path.
    pub fn generate(dir: &Path) -> anyhow::Result<(String, PathBuf)> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let mut kid = format!("key-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
        // A second key in the same second still needs a later-sorting id.
        let mut n = 1;
        while dir.join(format!("{kid}.key")).exists() {
            kid = format!("key-{}-{n}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
            n += 1;
        }
        let path = dir.join(format!("{kid}.key"));
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut file = opts
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        writeln!(file, "{}", hex::encode(key.to_bytes()))?;
        file.sync_all()?;
        Ok((kid, path))
    }

    /// Loads the keys, generating one first if the directory holds none.
    /// Returns the ring and, when it generated one, the new key's path.
    pub fn load_or_generate(dir: &Path) -> anyhow::Result<(Self, Option<PathBuf>)> {
        if let Some(ring) = Self::load(dir)? {
            return Ok((ring, None));
        }
        let (_, path) = Self::generate(dir)?;
        let ring = Self::load(dir)?.context("the key just generated could not be loaded")?;
        Ok((ring, Some(path)))
    }

    /// The id of the signing key.
    pub fn active_kid(&self) -> &str {
        &self.active
    }

    /// The signing key.
    pub fn active_key(&self) -> &SigningKey {
        &self.keys[&self.active]
    }

    /// The public key of `kid`.
    pub fn public_key(&self, kid: &str) -> Option<VerifyingKey> {
        self.keys.get(kid).map(|k| k.verifying_key())
    }

    /// Every key id with its public key, oldest first.
    pub fn public_keys(&self) -> impl Iterator<Item = (&str, VerifyingKey)> {
        self.keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.verifying_key()))
    }
}

#[cfg(unix)]
fn check_mode(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "key file {} is readable by others (mode {:o}); run `chmod 600` on it",
            path.display(),
            mode & 0o777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_private_key_and_refuses_open_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let (ring, created) = KeyRing::load_or_generate(dir.path()).unwrap();
        let path = created.expect("a key was generated");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let err = KeyRing::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains("readable by others"), "{err}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let again = KeyRing::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.active_kid(), ring.active_kid());
        assert_eq!(
            again.active_key().verifying_key(),
            ring.active_key().verifying_key()
        );
    }
}
