//! Writes checkpoint witnesses off the append path.
//!
//! A witness may only be written once the events its checkpoint covers are
//! on stable storage, so writing one costs a flush of the write-ahead log
//! and a file replacement: milliseconds on an ordinary disk, paid once per
//! checkpoint. The checkpoint is committed together with the events it
//! covers before it is handed here, so a witness never covers an
//! uncommitted event.
//!
//! A store writes its first witness inline, inside the append (or
//! `checkpoint_now`) that made the checkpoint, exactly as before: a process
//! that appends once, like the hook, returns from its append only once the
//! witness is on disk, and a failure to write it fails that append. From a
//! store's second checkpoint on, the flush and the witness are done by a
//! worker thread while the appends that follow proceed.
//!
//! Guarantees kept from writing inline:
//!
//! - the WAL is flushed *before* the witness is replaced, in that order;
//! - a witness never moves backwards (see [`signing::write_witness`]); when
//!   checkpoints come faster than the disk flushes, the worker skips to the
//!   newest one;
//! - the owner waits for the pending witness before the store is closed or
//!   dropped, before `checkpoint_now` returns, and before its own `verify`
//!   reads the witness;
//! - a failure is not lost silently: it is handed back by the owner's next
//!   call ([`WitnessWriter::take_error`]) or by [`WitnessWriter::close`];
//!   only a store dropped without `close` after such a failure drops it.
//!
//! What changes for a long-lived writer: for the few milliseconds a flush
//! takes, the witness names the previous checkpoint, not the newest one in
//! the log; a writer killed then leaves the witness one checkpoint behind
//! (weaker, never a false alarm).
//!
//! When it has nothing else to do, the worker also merges the WAL into the
//! main file (see [`Target::merge_wal`]): that merge flushes both files, and
//! done by SQLite's automatic checkpoint it would stall an append every
//! thousand pages.
//!
//! If the worker thread cannot be started (or has died), the witness is
//! written inline instead.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::error::AuditError;
use crate::signing::{self, Checkpoint, Witness};

/// What a witness write needs to know about its log.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The log's path as opened (recorded in the witness, informative).
    pub(crate) db_path: PathBuf,
    /// The witness file.
    pub(crate) witness_path: PathBuf,
    /// Flush the WAL before writing (false when every commit is flushed).
    pub(crate) sync_wal: bool,
    /// After a witness, when no other is pending, merge the WAL into the
    /// main file (a passive SQLite checkpoint) on the worker's own
    /// connection. The appending connection then merges only when the WAL
    /// outgrows [`BACKGROUND_MERGE_PAGES`], to restart it from the top.
    pub(crate) merge_wal: bool,
}

/// The appending connection's automatic merge threshold (WAL pages) while a
/// worker merges in the background; SQLite's default is 1000.
pub(crate) const BACKGROUND_MERGE_PAGES: i64 = 8000;

impl Target {
    /// Flushes the WAL, then replaces the witness with `cp`.
    pub(crate) fn write(&self, cp: Checkpoint) -> Result<(), AuditError> {
        if self.sync_wal {
            sync_wal(&self.db_path)?;
        }
        let w = Witness {
            version: 1,
            db_path: self.db_path.display().to_string(),
            checkpoint: cp,
        };
        signing::write_witness(&self.witness_path, &w)
    }
}

/// Flushes the write-ahead log of the database at `db` to stable storage.
///
/// With [`Durability::Normal`](crate::Durability::Normal) a commit is not
/// yet on disk, and a witness that survives a power cut while the events it
/// covers do not would read as a cut-off tail. `fdatasync` is enough: it
/// flushes the data and the metadata needed to read it back (the size).
pub(crate) fn sync_wal(db: &std::path::Path) -> Result<(), AuditError> {
    let mut wal = db.to_path_buf().into_os_string();
    wal.push("-wal");
    match std::fs::File::open(&wal) {
        Ok(f) => f.sync_data().map_err(|source| AuditError::Io {
            path: PathBuf::from(wal),
            op: "syncing",
            source,
        }),
        // Merged into the main file already (SQLite synced it then).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(AuditError::Io {
            path: PathBuf::from(wal),
            op: "opening",
            source,
        }),
    }
}

#[derive(Default)]
struct State {
    /// The newest checkpoint not yet written (older ones are superseded).
    pending: Option<Checkpoint>,
    /// The worker is writing one now.
    busy: bool,
    /// The first failure not yet handed back to the owner.
    error: Option<AuditError>,
    /// The owner is closing: write what is pending, then stop.
    stop: bool,
    /// The worker is gone (stopped, or died): nothing more will be written.
    gone: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The witness writer of one store: a lazily started worker thread.
pub(crate) struct WitnessWriter {
    target: Target,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The first witness was written inline already.
    wrote_inline: bool,
}

impl WitnessWriter {
    pub(crate) fn new(target: Target) -> Self {
        WitnessWriter {
            target,
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
            thread: None,
            wrote_inline: false,
        }
    }

    /// Hands a committed checkpoint over to be witnessed.
    ///
    /// Returns an error only when it had to write inline and that failed.
    pub(crate) fn submit(&mut self, cp: Checkpoint) -> Result<(), AuditError> {
        if self.thread.is_none() {
            // The first witness of a store is written right here: a process
            // that appends once (the hook) then learns of a failure from its
            // append, as it always did, and starts no thread. Only a store
            // that checkpoints again (a bulk writer) moves the flushes off
            // its appends.
            if !self.wrote_inline {
                self.wrote_inline = true;
                return self.target.write(cp);
            }
            if !self.start() {
                return self.target.write(cp);
            }
        }
        let mut st = self.shared.lock();
        if st.gone {
            drop(st);
            return self.target.write(cp);
        }
        if st.pending.as_ref().is_none_or(|p| p.seq <= cp.seq) {
            st.pending = Some(cp);
        }
        self.shared.changed.notify_all();
        Ok(())
    }

    fn start(&mut self) -> bool {
        let shared = Arc::clone(&self.shared);
        let target = self.target.clone();
        match std::thread::Builder::new()
            .name("warden-audit-witness".into())
            .spawn(move || worker(&shared, &target))
        {
            Ok(h) => {
                self.thread = Some(h);
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until every submitted checkpoint is written (or has failed).
    pub(crate) fn wait_idle(&self) {
        let mut st = self.shared.lock();
        while (st.pending.is_some() || st.busy) && !st.gone {
            st = self
                .shared
                .changed
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
        if st.gone && st.pending.is_some() {
            // The worker died with work left: do it here.
            let cp = st.pending.take();
            drop(st);
            if let Some(cp) = cp {
                if let Err(e) = self.target.write(cp) {
                    self.shared.lock().error.get_or_insert(e);
                }
            }
        }
    }

    /// Whether later witnesses go to the worker thread (it was started).
    pub(crate) fn in_background(&self) -> bool {
        self.thread.is_some()
    }

    /// The first failure since the last call, if any (does not wait).
    pub(crate) fn take_error(&self) -> Option<AuditError> {
        self.shared.lock().error.take()
    }

    /// Writes what is pending, stops the worker, and reports any failure
    /// not yet handed back.
    pub(crate) fn close(&mut self) -> Result<(), AuditError> {
        self.wait_idle();
        {
            let mut st = self.shared.lock();
            st.stop = true;
            self.shared.changed.notify_all();
        }
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
        match self.take_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for WitnessWriter {
    fn drop(&mut self) {
        // Nobody is left to hear about a failure: the owner's `close` is the
        // way to learn of one.
        let _ = self.close();
    }
}

/// Marks the worker gone however it ends, so that nobody waits for it forever.
struct GoneOnExit<'a>(&'a Shared);

impl Drop for GoneOnExit<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.gone = true;
        st.busy = false;
        self.0.changed.notify_all();
    }
}

fn worker(shared: &Shared, target: &Target) {
    let _gone = GoneOnExit(shared);
    let mut merger = Merger::default();
    loop {
        let cp = {
            let mut st = shared.lock();
            loop {
                if let Some(cp) = st.pending.take() {
                    st.busy = true;
                    break cp;
                }
                if st.stop {
                    return;
                }
                st = shared.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        let result = target.write(cp);
        let idle = {
            let mut st = shared.lock();
            st.busy = false;
            if let Err(e) = result {
                st.error.get_or_insert(e);
            }
            shared.changed.notify_all();
            st.pending.is_none() && !st.stop
        };
        if idle && target.merge_wal {
            merger.merge(&target.db_path);
        }
    }
}

/// Merges the write-ahead log into the main file from the worker, on a
/// connection of its own, so that the appending thread seldom has to (see
/// [`Target::merge_wal`]). Best effort: any failure leaves the merge to
/// SQLite's automatic one on the appending connection.
#[derive(Default)]
struct Merger {
    conn: Option<rusqlite::Connection>,
    failed: bool,
}

impl Merger {
    fn merge(&mut self, db: &std::path::Path) {
        if self.failed {
            return;
        }
        if self.conn.is_none() {
            match Self::open(db) {
                Ok(c) => self.conn = Some(c),
                Err(_) => {
                    self.failed = true;
                    return;
                }
            }
        }
        if let Some(c) = &self.conn {
            // PASSIVE: never waits for, nor blocks, readers and writers.
            // It flushes the WAL before copying and the main file after.
            let _ = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }

    fn open(db: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::config::DbConfig;
        use rusqlite::OpenFlags;
        let c = rusqlite::Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        c.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(c)
    }
}
