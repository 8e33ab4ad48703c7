//! The staging file: where hook processes append without opening SQLite.
//!
//! Beside the log `audit.db` lies `audit.db-staged`, an append-only file of
//! one JSON record per line:
//!
//! - `head`: the log id and the chain head (seq, hash) the file continues
//!   from. A fold writes it as the first line when it rewrites the file, and
//!   otherwise appends one: every record before the last head is folded.
//! - `ev`: one event, exactly as its SQLite row would hold it (seq, time,
//!   the canonical JSON texts, prev hash and hash computed by
//!   [`crate::chain`]), already redacted.
//! - `flag`: one session flag set (latest wins).
//! - `flags`: the complete flags of one session at some moment (written by
//!   a fold for recently active sessions, and by a lookup that had to read
//!   SQLite), so later lookups need not read SQLite.
//!
//! Every access holds an exclusive `flock` on the file. An append reads the
//! file, takes the chain head from its last event (or the head record),
//! writes its record(s) with one `write` and releases the lock. A fold
//! copies the records after the last head into SQLite in one transaction,
//! and only after the commit appends a new head record, or, once the file
//! is long, rewrites it with the head and the carried flags (see
//! [`crate::SqliteStore`]). A fold that died between the two leaves records
//! SQLite holds: the next fold skips them by seq and hash.
//!
//! A record is complete only with its final newline: a last line without
//! one, or that is not a record, is *torn* (its writer died, or the disk
//! filled, before it answered the agent). It is dropped by the next
//! append or fold, which records an event saying so with its byte length.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chain::Hash;
use crate::error::AuditError;

/// The staging file of the log at `db_path`: `audit.db` → `audit.db-staged`.
pub fn staging_path(db_path: &Path) -> PathBuf {
    let mut p = db_path.as_os_str().to_owned();
    p.push("-staged");
    PathBuf::from(p)
}

/// One event as staged: the columns of its SQLite row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StagedEvent {
    pub seq: u64,
    pub ts_us: i64,
    pub session_id: String,
    pub agent: String,
    pub kind: String,
    pub cwd: String,
    pub tool: Option<String>,
    pub tool_use_id: Option<String>,
    /// Canonical JSON text, as stored.
    pub input: String,
    pub decision: Option<String>,
    pub rule: Option<String>,
    /// Canonical JSON text, as stored.
    pub reasons: String,
    pub latency_us: Option<u64>,
    pub result: Option<String>,
    pub result_len: Option<u64>,
    /// Hex.
    pub result_sha256: Option<String>,
    /// Canonical JSON text, as stored.
    pub extra: String,
    /// Hex.
    pub prev_hash: String,
    /// Hex.
    pub hash: String,
}

/// One line of the staging file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Record {
    #[serde(rename = "head")]
    Head {
        log_id: String,
        seq: u64,
        /// Hex.
        hash: String,
    },
    #[serde(rename = "ev")]
    Event(StagedEvent),
    #[serde(rename = "flag")]
    Flag {
        s: String,
        k: String,
        /// Canonical JSON text of the (redacted) value.
        v: String,
        ts: i64,
    },
    #[serde(rename = "flags")]
    Flags {
        s: String,
        /// Key → canonical JSON text.
        all: std::collections::BTreeMap<String, String>,
        ts: i64,
    },
}

impl Record {
    pub(crate) fn line(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// What a read of the staging file found.
#[derive(Debug, Default)]
pub(crate) struct Contents {
    pub bytes: Vec<u8>,
    /// Length of the complete records (a torn tail starts here).
    pub valid_len: usize,
    /// Byte length of a torn last record, if any.
    pub torn: Option<usize>,
}

impl Contents {
    /// The complete lines.
    pub(crate) fn lines(&self) -> impl DoubleEndedIterator<Item = &[u8]> {
        let bytes = &self.bytes[..self.valid_len];
        let ends = newlines(bytes);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(ends.iter().map(|e| e + 1))
            .collect();
        starts
            .into_iter()
            .zip(ends)
            .map(move |(s, e)| &bytes[s..e])
            .filter(|l| !l.is_empty())
    }

    /// The lines after the last head record: what no fold has committed
    /// yet (a fold appends a head record once it has committed; a fold
    /// that died before that leaves them here, and the next fold skips
    /// what SQLite already holds).
    pub(crate) fn pending_lines(&self) -> Vec<&[u8]> {
        let lines: Vec<&[u8]> = self.lines().collect();
        let from = lines
            .iter()
            .rposition(|l| l.starts_with(br#"{"t":"head""#))
            .map_or(0, |i| i + 1);
        lines[from..].to_vec()
    }

    /// The records no fold has committed yet. A line that is not a record
    /// (other than a torn last one, already cut off) means the file was
    /// damaged or edited.
    pub(crate) fn records(&self, path: &Path) -> Result<Vec<Record>, AuditError> {
        self.pending_lines()
            .into_iter()
            .map(|l| parse(l, path))
            .collect::<Result<Vec<_>, _>>()
    }

    /// The head record's log id and the chain head the next event follows:
    /// the last event, or the head record. `None` without a head record.
    pub(crate) fn chain_head(
        &self,
        path: &Path,
    ) -> Result<Option<(String, u64, Hash)>, AuditError> {
        let first = match self.lines().next() {
            Some(l) if l.starts_with(br#"{"t":"head""#) => parse(l, path)?,
            _ => return Ok(None),
        };
        let Record::Head { log_id, seq, hash } = first else {
            return Ok(None);
        };
        // The last event or head record: a store that appends to SQLite
        // directly appends a head record rather than rewrite the file.
        let last = self
            .lines()
            .rev()
            .find(|l| l.starts_with(br#"{"t":"ev""#) || l.starts_with(br#"{"t":"head""#));
        let (seq, hash) = match last {
            Some(l) => match parse(l, path)? {
                Record::Event(e) => (e.seq, e.hash),
                Record::Head {
                    log_id: id,
                    seq: s,
                    hash: h,
                } if id == log_id => (s, h),
                _ => (seq, hash),
            },
            None => (seq, hash),
        };
        Ok(Some((log_id, seq, decode_hash(&hash, path)?)))
    }

    /// True when the file holds anything a fold must copy: events, flags or
    /// a torn record.
    pub(crate) fn needs_fold(&self) -> bool {
        self.torn.is_some() || self.pending_bytes() > 0
    }

    /// Bytes of the records a fold copies (events and flags; not the head
    /// and the carried flags a fold leaves).
    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_lines()
            .into_iter()
            .filter(|l| l.starts_with(br#"{"t":"ev","#) || l.starts_with(br#"{"t":"flag","#))
            .map(|l| l.len() + 1)
            .sum()
    }

    /// The session's flags as the file knows them: `Some` when a complete
    /// set (`flags` record) is present, with the later `flag` records
    /// applied; otherwise `None` and the `flag` records found, in order.
    #[allow(clippy::type_complexity)]
    pub(crate) fn session_flags(
        &self,
        session: &str,
        path: &Path,
    ) -> Result<
        (
            Option<std::collections::BTreeMap<String, String>>,
            Vec<(String, String)>,
        ),
        AuditError,
    > {
        let mut base = None;
        let mut later: Vec<(String, String)> = Vec::new();
        for l in self.lines() {
            if !l.starts_with(br#"{"t":"flag"#) {
                continue;
            }
            match parse(l, path)? {
                Record::Flags { s, all, .. } if s == session => {
                    base = Some(all);
                    later.clear();
                }
                Record::Flag { s, k, v, .. } if s == session => later.push((k, v)),
                _ => {}
            }
        }
        match base {
            Some(mut all) => {
                for (k, v) in later {
                    all.insert(k, v);
                }
                Ok((Some(all), Vec::new()))
            }
            None => Ok((None, later)),
        }
    }
}

/// The positions of the newlines in `bytes`, eight bytes at a time (a hook
/// scans the whole file for its session's flags). Plain SWAR rather than a
/// SIMD crate: runtime CPU feature detection costs a fresh process more
/// (CPUID traps under a hypervisor) than it saves on a file this size.
fn newlines(bytes: &[u8]) -> Vec<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut out = Vec::with_capacity(bytes.len() / 256 + 4);
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for c in chunks.by_ref() {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ NL;
        if w.wrapping_sub(LO) & !w & HI != 0 {
            out.extend(
                c.iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| base + i),
            );
        }
        base += 8;
    }
    out.extend(
        chunks
            .remainder()
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| base + i),
    );
    out
}

fn parse(line: &[u8], path: &Path) -> Result<Record, AuditError> {
    serde_json::from_slice(line).map_err(|e| AuditError::Corrupt {
        path: path.to_owned(),
        detail: format!("a staged record is not readable: {e}"),
    })
}

pub(crate) fn decode_hash(hex_text: &str, path: &Path) -> Result<Hash, AuditError> {
    hex::decode(hex_text)
        .ok()
        .and_then(|b| Hash::try_from(b.as_slice()).ok())
        .ok_or_else(|| AuditError::Corrupt {
            path: path.to_owned(),
            detail: format!("a staged hash is not 32 bytes of hex: {hex_text:?}"),
        })
}

/// The staging file, open and locked (exclusive `flock`) until dropped.
pub(crate) struct Locked {
    file: File,
    pub(crate) path: PathBuf,
}

fn io<'a>(path: &'a Path, op: &'static str) -> impl Fn(std::io::Error) -> AuditError + 'a {
    move |source| AuditError::Io {
        path: path.to_owned(),
        op,
        source,
    }
}

impl Locked {
    /// Opens (creating it when `create`) and locks the staging file.
    /// `Ok(None)` when it does not exist and `create` is false.
    /// A file opened without `write` (by a read-only store) can be read only.
    pub(crate) fn open(
        path: &Path,
        create: bool,
        write: bool,
    ) -> Result<Option<Locked>, AuditError> {
        let file = match OpenOptions::new()
            .read(true)
            .append(write)
            .create(create && write)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => return Ok(None),
            Err(e) => return Err(io(path, "opening the staging file")(e)),
        };
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).map_err(|e| {
            AuditError::Io {
                path: path.to_owned(),
                op: "locking the staging file",
                source: e.into(),
            }
        })?;
        Ok(Some(Locked {
            file,
            path: path.to_owned(),
        }))
    }

    /// Reads the whole file and finds a torn last record: the bytes after
    /// the last newline (records are written whole, newline last, with one
    /// `write`; only a writer that died or a full disk leaves a part). A
    /// complete line that is not a record was not written by a store: it
    /// is reported as damage when read, never dropped.
    pub(crate) fn read(&mut self) -> Result<Contents, AuditError> {
        let len = self
            .file
            .metadata()
            .map_err(io(&self.path, "reading the staging file's size"))?
            .len();
        let mut bytes = Vec::with_capacity(len as usize + 1);
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_end(&mut bytes))
            .map_err(io(&self.path, "reading the staging file"))?;
        let valid_len = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let torn = (bytes.len() > valid_len).then(|| bytes.len() - valid_len);
        Ok(Contents {
            bytes,
            valid_len,
            torn,
        })
    }

    /// Cuts the file to `len` bytes (dropping a torn tail).
    pub(crate) fn truncate(&mut self, len: usize) -> Result<(), AuditError> {
        self.file.set_len(len as u64).map_err(io(
            &self.path,
            "cutting a torn record from the staging file",
        ))
    }

    /// Appends `bytes` with one write (the file is in append mode). On a
    /// failure the file is cut back to its old length, best effort; what stays
    /// is a torn record the next access drops.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), AuditError> {
        let old_len = self
            .file
            .metadata()
            .map_err(io(&self.path, "reading the staging file's size"))?
            .len();
        match self.file.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.file.set_len(old_len);
                Err(io(&self.path, "writing the staging file")(e))
            }
        }
    }

    /// Replaces the whole content (after a fold has committed).
    pub(crate) fn rewrite(&mut self, bytes: &[u8]) -> Result<(), AuditError> {
        self.file
            .set_len(0)
            .and_then(|_| self.file.write_all(bytes))
            .map_err(io(&self.path, "rewriting the staging file"))
    }
}

/// Reads the head record at the top of the staging file without locking
/// (a hint: whoever uses it re-reads under the lock). `None` when absent.
pub(crate) fn peek_log_id(path: &Path) -> Option<String> {
    let mut f = File::open(path).ok()?;
    let mut buf = [0u8; 256];
    let n = f.read(&mut buf).ok()?;
    let line = &buf[..n];
    let end = line.iter().position(|b| *b == b'\n')?;
    match serde_json::from_slice::<Record>(&line[..end]).ok()? {
        Record::Head { log_id, .. } => Some(log_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::newlines;

    #[test]
    fn newlines_finds_every_newline() {
        let text = b"a\nbc\n\n0123456789abcdef\n\nxyz\n12345678\n\n";
        let want: Vec<usize> = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        for start in 0..text.len() {
            let got = newlines(&text[start..]);
            let w: Vec<usize> = want
                .iter()
                .filter(|i| **i >= start)
                .map(|i| i - start)
                .collect();
            assert_eq!(got, w, "from {start}");
        }
    }
}
