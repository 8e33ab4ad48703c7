//! The chain scan of `verify`, with the hashing spread over the cores.
//!
//! One thread steps through the events in `seq` order inside the caller's
//! read transaction and judges what needs the neighbour: the numbering and
//! the link to the previous event's *stored* hash. Recomputing an event's
//! own hash needs nothing but that event, so the main thread copies the
//! encoding of each event ([`chain::encode_event`], built straight from the
//! stored column bytes) into a batch, and worker threads hash the batches
//! and compare with the stored hashes. The result is the same as hashing
//! each event in turn: every link is judged against its stored neighbour,
//! a row is one broken link whatever is wrong with it, and a wrong number or
//! link takes precedence over a wrong hash on the same row.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::chain::{self, EventFields, Hash};
use crate::store::{BreakKind, ChainBreak};

/// Events per batch handed to a hashing thread.
const BATCH_ROWS: usize = 1024;
/// At most this many hashing threads, whatever the machine.
const MAX_WORKERS: usize = 8;

pub(crate) const EVENT_COLUMNS: &str =
    "seq, ts_us, session_id, agent, kind, cwd, tool, tool_use_id, input, \
     decision, rule, reasons, latency_us, result, result_len, result_sha256, extra, prev_hash, hash";

pub(crate) struct Scan {
    pub(crate) events: u64,
    pub(crate) last_seq: u64,
    pub(crate) head: Hash,
    pub(crate) first_break: Option<ChainBreak>,
    pub(crate) broken_links: u64,
    /// The stored `hash` bytes of the events whose seq was asked for (the
    /// heads of checkpoints); a seq missing here has no event.
    pub(crate) heads: HashMap<u64, Vec<u8>>,
}

/// Reads a column strictly as the type the schema promises.
fn text<'a>(v: ValueRef<'a>, name: &str) -> Result<&'a str, String> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|_| format!("{name} is not UTF-8")),
        other => Err(format!("{name} is {:?}, not text", other.data_type())),
    }
}

fn opt_text<'a>(v: ValueRef<'a>, name: &str) -> Result<Option<&'a str>, String> {
    match v {
        ValueRef::Null => Ok(None),
        other => text(other, name).map(Some),
    }
}

fn opt_u64(v: ValueRef<'_>, name: &str) -> Result<Option<u64>, String> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(i) => u64::try_from(i)
            .map(Some)
            .map_err(|_| format!("{name} is negative")),
        other => Err(format!("{name} is {:?}, not an integer", other.data_type())),
    }
}

fn hash32(v: ValueRef<'_>, name: &str) -> Result<Hash, String> {
    match v {
        ValueRef::Blob(b) => b
            .try_into()
            .map_err(|_| format!("{name} is {} bytes, not 32", b.len())),
        other => Err(format!("{name} is {:?}, not a blob", other.data_type())),
    }
}

/// Decodes a row of [`EVENT_COLUMNS`] into the hashed fields plus its
/// stored links, borrowing the column bytes.
pub(crate) fn row_fields<'a>(
    row: &'a rusqlite::Row<'a>,
) -> Result<(EventFields<'a>, Hash, Hash), String> {
    let g = |i: usize| row.get_ref(i).map_err(|e| e.to_string());
    let seq = match g(0)? {
        ValueRef::Integer(i) => u64::try_from(i).map_err(|_| "seq is negative".to_string())?,
        other => return Err(format!("seq is {:?}", other.data_type())),
    };
    let ts_us = match g(1)? {
        ValueRef::Integer(i) => i,
        other => return Err(format!("ts_us is {:?}", other.data_type())),
    };
    let result_sha256 = match g(15)? {
        ValueRef::Null => None,
        ValueRef::Blob(b) => Some(b),
        other => return Err(format!("result_sha256 is {:?}", other.data_type())),
    };
    let fields = EventFields {
        seq,
        ts_us,
        session_id: text(g(2)?, "session_id")?,
        agent: text(g(3)?, "agent")?,
        kind: text(g(4)?, "kind")?,
        cwd: text(g(5)?, "cwd")?,
        tool: opt_text(g(6)?, "tool")?,
        tool_use_id: opt_text(g(7)?, "tool_use_id")?,
        input: text(g(8)?, "input")?,
        decision: opt_text(g(9)?, "decision")?,
        rule: opt_text(g(10)?, "rule")?,
        reasons: text(g(11)?, "reasons")?,
        latency_us: opt_u64(g(12)?, "latency_us")?,
        result: opt_text(g(13)?, "result")?,
        result_len: opt_u64(g(14)?, "result_len")?,
        result_sha256,
        extra: text(g(16)?, "extra")?,
    };
    Ok((
        fields,
        hash32(g(17)?, "prev_hash")?,
        hash32(g(18)?, "hash")?,
    ))
}

/// Events whose own hash is still to be checked: their encodings, back to
/// back, and for each the end of its encoding, its place and stored hash.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    rows: Vec<Pending>,
}

struct Pending {
    end: usize,
    /// Position in the scan (0-based): orders breaks whatever the seqs are.
    index: u64,
    seq: u64,
    stored: Hash,
}

/// A row whose recomputed hash differs from the stored one.
struct Mismatch {
    index: u64,
    seq: u64,
    stored: Hash,
    recomputed: Hash,
}

/// What one hashing thread (or the inline hashing) found.
#[derive(Default)]
struct Found {
    first: Option<Mismatch>,
    count: u64,
}

impl Found {
    fn check(&mut self, batch: &Batch) {
        let mut start = 0;
        for p in &batch.rows {
            let recomputed = chain::sha256(&batch.bytes[start..p.end]);
            start = p.end;
            if recomputed != p.stored {
                self.count += 1;
                if self.first.as_ref().is_none_or(|f| p.index < f.index) {
                    self.first = Some(Mismatch {
                        index: p.index,
                        seq: p.seq,
                        stored: p.stored,
                        recomputed,
                    });
                }
            }
        }
    }

    fn merge(&mut self, other: Found) {
        self.count += other.count;
        if let Some(m) = other.first {
            if self.first.as_ref().is_none_or(|f| m.index < f.index) {
                self.first = Some(m);
            }
        }
    }
}

fn hashing_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_sub(1)
        .min(MAX_WORKERS)
}

/// Scans the whole chain of the log `log_id`, recording the stored hash of
/// every event whose seq is in `want_heads` (sorted, without duplicates).
pub(crate) fn scan_chain(
    conn: &Connection,
    log_id: &str,
    want_heads: &[u64],
) -> rusqlite::Result<Scan> {
    let mut stmt = conn.prepare(&format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let threads = hashing_threads();

    let mut scan = Scan {
        events: 0,
        last_seq: 0,
        head: chain::genesis_hash(log_id),
        first_break: None,
        broken_links: 0,
        heads: HashMap::new(),
    };
    // The first break found by this thread (numbering, link, malformed).
    let mut first_own: Option<(u64, ChainBreak)> = None;
    let mut found = Found::default();

    std::thread::scope(|s| -> rusqlite::Result<()> {
        // Started when the first batch is full, so a small log is hashed
        // right here without starting a thread.
        let mut pool: Option<Pool<'_>> = None;
        let mut batch = Batch::default();
        let mut expected_seq: u64 = 1;
        let mut next_head = 0;
        while let Some(row) = rows.next()? {
            let index = scan.events;
            scan.events += 1;
            let (stored_seq, seq_ok) = match row.get_ref(0)? {
                ValueRef::Integer(i) => match u64::try_from(i) {
                    Ok(s) => (s, true),
                    Err(_) => (0, false),
                },
                _ => (0, false),
            };
            // Rows come by ascending seq: walk the wanted seqs alongside.
            while want_heads.get(next_head).is_some_and(|&w| w < stored_seq) {
                next_head += 1;
            }
            if seq_ok && want_heads.get(next_head) == Some(&stored_seq) {
                if let ValueRef::Blob(b) = row.get_ref(18)? {
                    scan.heads.insert(stored_seq, b.to_vec());
                }
            }
            let brk = match row_fields(row) {
                Err(detail) => {
                    scan.head = [0; 32];
                    Some(BreakKind::Malformed { detail })
                }
                Ok((fields, prev, stored)) => {
                    let b = if fields.seq != expected_seq {
                        Some(BreakKind::SeqGap {
                            expected: expected_seq,
                            found: fields.seq,
                        })
                    } else if prev != scan.head {
                        Some(BreakKind::PrevLinkMismatch {
                            expected: hex::encode(scan.head),
                            found: hex::encode(prev),
                        })
                    } else {
                        // Only its own hash is left to check: queue it.
                        chain::encode_event(log_id, &fields, &prev, &mut batch.bytes);
                        batch.rows.push(Pending {
                            end: batch.bytes.len(),
                            index,
                            seq: fields.seq,
                            stored,
                        });
                        None
                    };
                    // Each link is judged against its stored neighbour, so
                    // one edit counts once and the scan resynchronises.
                    scan.head = stored;
                    b
                }
            };
            if let Some(kind) = brk {
                scan.broken_links += 1;
                if first_own.is_none() {
                    first_own = Some((
                        index,
                        ChainBreak {
                            seq: stored_seq,
                            kind,
                        },
                    ));
                }
            }
            scan.last_seq = stored_seq;
            expected_seq = stored_seq.saturating_add(1);

            if batch.rows.len() >= BATCH_ROWS {
                if threads == 0 {
                    found.check(&batch);
                    batch.bytes.clear();
                    batch.rows.clear();
                } else {
                    let p = pool.get_or_insert_with(|| Pool::start(s, threads));
                    batch = p.send(batch);
                }
            }
        }
        found.check(&batch);
        if let Some(p) = pool {
            found.merge(p.finish());
        }
        Ok(())
    })?;

    scan.broken_links += found.count;
    let first_hash = found.first.map(|m| {
        (
            m.index,
            ChainBreak {
                seq: m.seq,
                kind: BreakKind::HashMismatch {
                    stored: hex::encode(m.stored),
                    recomputed: hex::encode(m.recomputed),
                },
            },
        )
    });
    scan.first_break = match (first_own, first_hash) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a.1 } else { b.1 }),
        (a, b) => a.or(b).map(|x| x.1),
    };
    Ok(scan)
}

/// The hashing threads: batches go out on one queue, emptied batches come
/// back for reuse, and each thread hands back what it found when the queue
/// closes.
struct Pool<'scope> {
    jobs: Option<mpsc::SyncSender<Batch>>,
    spare: mpsc::Receiver<Batch>,
    handles: Vec<std::thread::ScopedJoinHandle<'scope, Found>>,
}

impl<'scope> Pool<'scope> {
    fn start<'env>(s: &'scope std::thread::Scope<'scope, 'env>, threads: usize) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Batch>(threads * 2);
        let queue = Arc::new(Mutex::new(queue));
        let (give_back, spare) = mpsc::channel::<Batch>();
        let handles = (0..threads)
            .map(|_| {
                let queue = Arc::clone(&queue);
                let give_back = give_back.clone();
                s.spawn(move || {
                    let mut found = Found::default();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(mut batch) = next else { break };
                        found.check(&batch);
                        batch.bytes.clear();
                        batch.rows.clear();
                        // The scan may have finished and dropped its end.
                        let _ = give_back.send(batch);
                    }
                    found
                })
            })
            .collect();
        Pool {
            jobs: Some(jobs),
            spare,
            handles,
        }
    }

    /// Queues a full batch and returns an empty one to fill next.
    fn send(&mut self, batch: Batch) -> Batch {
        if let Some(jobs) = &self.jobs {
            if let Err(mpsc::SendError(batch)) = jobs.send(batch) {
                // Every hashing thread is gone (they only end on a panic,
                // which `finish` re-raises): nothing to hand it to.
                return batch;
            }
        }
        self.spare.try_recv().unwrap_or_default()
    }

    fn finish(mut self) -> Found {
        drop(self.jobs.take());
        let mut found = Found::default();
        for h in self.handles {
            match h.join() {
                Ok(f) => found.merge(f),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        found
    }
}
