//! Checkpoint signing: the Ed25519 key file and the witness file.
//!
//! The key file holds one line `warden-audit-ed25519-v1 <64 hex digits of the
//! seed>`. It is created with mode 0600 on first use and refused when group
//! or others may read it, as ssh does with private keys.
//!
//! The witness is a small JSON file beside the key (outside the project, out
//! of the agent's reach) holding the latest checkpoint of one log file. It is
//! what detects a cut-off tail even when the checkpoints inside the database
//! were deleted along with it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::chain::{self, Hash};
use crate::error::AuditError;

const KEY_HEADER: &str = "warden-audit-ed25519-v1";

/// The default key path: `$XDG_CONFIG_HOME/warden/audit-signing.key`
/// (`~/.config/warden/audit-signing.key` when unset).
pub fn default_key_path() -> Result<PathBuf, AuditError> {
    dirs::config_dir()
        .map(|d| d.join("warden").join("audit-signing.key"))
        .ok_or(AuditError::NoConfigDir)
}

/// A short id of a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(public: &[u8; 32]) -> String {
    hex::encode(&chain::sha256(public)[..8])
}

/// A loaded signing key.
pub(crate) struct Signer {
    key: SigningKey,
    pub(crate) public: [u8; 32],
    pub(crate) key_id: String,
}

impl Signer {
    fn from_key(key: SigningKey) -> Signer {
        let public = key.verifying_key().to_bytes();
        let key_id = key_id(&public);
        Signer {
            key,
            public,
            key_id,
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// Loads the key if it exists; never creates it.
    pub(crate) fn load_existing(path: &Path) -> Result<Option<Signer>, AuditError> {
        Ok(read_key(path)?.map(Signer::from_key))
    }
}

/// A key file that was read and checked, whose Ed25519 key is derived only
/// when it first signs: deriving it (a SHA-512 and a scalar multiplication,
/// tens of microseconds in a fresh process) is wasted on the many writers,
/// like a hook process, that append without making a checkpoint.
pub(crate) struct KeyFile {
    seed: [u8; 32],
    signer: std::cell::OnceCell<Signer>,
}

impl KeyFile {
    /// Reads the key file, creating it (0600, and its directory 0700) when
    /// absent. Every problem a signing would meet with the file is reported
    /// here: it cannot be read, others may read it, it is not a key file.
    pub(crate) fn load_or_create(path: &Path) -> Result<KeyFile, AuditError> {
        let seed = match read_seed(path)? {
            Some(seed) => seed,
            None => {
                create_key(path)?;
                read_seed(path)?
                    .ok_or_else(|| key_err(path, "vanished right after it was created"))?
            }
        };
        Ok(KeyFile {
            seed,
            signer: std::cell::OnceCell::new(),
        })
    }

    /// The key, derived on first use.
    pub(crate) fn signer(&self) -> &Signer {
        self.signer
            .get_or_init(|| Signer::from_key(SigningKey::from_bytes(&self.seed)))
    }
}

fn key_err(path: &Path, detail: impl Into<String>) -> AuditError {
    AuditError::SigningKey {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

fn read_key(path: &Path) -> Result<Option<SigningKey>, AuditError> {
    Ok(read_seed(path)?.map(|seed| SigningKey::from_bytes(&seed)))
}

/// The seed of the key file, checked (permissions, format) but not derived.
fn read_seed(path: &Path) -> Result<Option<[u8; 32]>, AuditError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(key_err(path, format!("cannot read: {e}"))),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| key_err(path, format!("cannot stat: {e}")))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(key_err(
                path,
                format!("permissions {mode:o} are too open (group or others can access it); run chmod 600"),
            ));
        }
    }
    let mut parts = text.split_whitespace();
    let (Some(KEY_HEADER), Some(seed_hex), None) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(key_err(
            path,
            format!("not a key file (expected `{KEY_HEADER} <hex seed>`)"),
        ));
    };
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex, &mut seed)
        .map_err(|e| key_err(path, format!("bad seed: {e}")))?;
    Ok(Some(seed))
}

fn create_key(path: &Path) -> Result<(), AuditError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)
        .map_err(|e| key_err(path, format!("cannot create {}: {e}", dir.display())))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| key_err(path, format!("no randomness: {e}")))?;
    let line = format!("{KEY_HEADER} {}\n", hex::encode(seed));
    // Written under a unique name, then linked into place: link refuses to
    // replace, so of two processes creating the key at once one wins and the
    // other reads the winner's complete file.
    let tmp = dir.join(format!(
        ".audit-signing.key.{}.{}",
        std::process::id(),
        crate::time_fmt::now_us()
    ));
    write_private_file(&tmp, line.as_bytes(), true)
        .map_err(|e| key_err(path, format!("cannot write {}: {e}", tmp.display())))?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(key_err(path, format!("cannot create: {e}"))),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

fn write_private_file(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    if sync {
        f.sync_all()?;
    }
    Ok(())
}

/// A checkpoint as stored in the log or in the witness file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub log_id: String,
    pub seq: u64,
    /// Hex SHA-256 of the event at `seq`.
    pub head_hash: String,
    pub ts_us: i64,
    pub key_id: String,
    /// Hex Ed25519 public key.
    pub public_key: String,
    /// Hex Ed25519 signature over [`chain::checkpoint_message`].
    pub signature: String,
}

impl Checkpoint {
    pub(crate) fn sign(signer: &Signer, log_id: &str, seq: u64, head: &Hash, ts_us: i64) -> Self {
        let msg = chain::checkpoint_message(log_id, seq, head, ts_us);
        Checkpoint {
            log_id: log_id.to_owned(),
            seq,
            head_hash: hex::encode(head),
            ts_us,
            key_id: signer.key_id.clone(),
            public_key: hex::encode(signer.public),
            signature: hex::encode(signer.sign(&msg)),
        }
    }

    /// Checks the signature with the embedded public key. `Err` explains a
    /// malformed record; `Ok(false)` is a signature that does not verify.
    pub fn signature_valid(&self) -> Result<bool, String> {
        self.signature_valid_cached(&mut None)
    }

    /// [`Checkpoint::signature_valid`], reusing the decoded public key of
    /// the previous call when the key is the same (a log's checkpoints are
    /// normally all signed by one key, and decoding a key costs about as
    /// much as checking a signature).
    pub(crate) fn signature_valid_cached(
        &self,
        last_key: &mut Option<([u8; 32], VerifyingKey)>,
    ) -> Result<bool, String> {
        let mut head = [0u8; 32];
        hex::decode_to_slice(&self.head_hash, &mut head).map_err(|e| format!("head hash: {e}"))?;
        let mut pk = [0u8; 32];
        hex::decode_to_slice(&self.public_key, &mut pk).map_err(|e| format!("public key: {e}"))?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut sig).map_err(|e| format!("signature: {e}"))?;
        let vk = match last_key {
            Some((bytes, vk)) if *bytes == pk => *vk,
            _ => {
                let vk = VerifyingKey::from_bytes(&pk).map_err(|e| format!("public key: {e}"))?;
                *last_key = Some((pk, vk));
                vk
            }
        };
        let msg = chain::checkpoint_message(&self.log_id, self.seq, &head, self.ts_us);
        Ok(vk.verify(&msg, &Signature::from_bytes(&sig)).is_ok())
    }

    /// The embedded public key, if it is well-formed hex.
    pub fn public_key_bytes(&self) -> Option<[u8; 32]> {
        let mut pk = [0u8; 32];
        hex::decode_to_slice(&self.public_key, &mut pk).ok()?;
        Some(pk)
    }
}

/// The witness file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Witness {
    pub(crate) version: u32,
    /// The database path the witness was written for (informative).
    pub(crate) db_path: String,
    pub(crate) checkpoint: Checkpoint,
}

/// Where the witness of the database at `db_canonical` lives.
pub(crate) fn witness_path(witness_dir: &Path, db_canonical: &Path) -> PathBuf {
    let digest = chain::sha256(db_canonical.as_os_str().as_encoded_bytes());
    witness_dir.join(format!("{}.json", hex::encode(&digest[..12])))
}

pub(crate) fn read_witness(path: &Path) -> Result<Option<Witness>, AuditError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AuditError::Witness {
                path: path.to_owned(),
                detail: format!("cannot read: {e}"),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| AuditError::Witness {
            path: path.to_owned(),
            detail: format!("not a witness file: {e}"),
        })
}

/// Replaces the witness unless it already covers a later seq of the same log.
pub(crate) fn write_witness(path: &Path, w: &Witness) -> Result<(), AuditError> {
    let err = |detail: String| AuditError::Witness {
        path: path.to_owned(),
        detail,
    };
    // Written after the log's commit, so a witness never runs ahead of the
    // log. Two writers racing may leave the older checkpoint: weaker, never false.
    if let Ok(Some(old)) = read_witness(path) {
        if old.checkpoint.log_id == w.checkpoint.log_id && old.checkpoint.seq >= w.checkpoint.seq {
            return Ok(());
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
    let tmp = dir.join(format!(
        ".witness.{}.{}.tmp",
        std::process::id(),
        crate::time_fmt::now_us()
    ));
    let body = serde_json::to_vec_pretty(w).map_err(|e| err(e.to_string()))?;
    // Not flushed: after a power cut the witness may be older than the
    // log (weaker, never a false alarm); the key, by contrast, is synced.
    write_private_file(&tmp, &body, false).map_err(|e| err(format!("cannot write: {e}")))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        err(format!("cannot replace: {e}"))
    })
}
